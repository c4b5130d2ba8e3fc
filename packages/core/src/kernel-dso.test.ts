import { describe, expect, it } from 'vitest';
import { isKernelDso, moduleOfDso } from './kernel-dso.js';

describe('perf DSO spellings', () => {
  it('which are kernel ones, and which module they name', () => {
    const cases: [string, boolean, string | null][] = [
      ['[kernel.kallsyms]', true, null], ['[guest.kernel.kallsyms]', true, null], ['[ext4]', true, 'ext4'],
      ['/lib/modules/6.12/kernel/drivers/block/null_blk/null_blk.ko.xz', true, 'null_blk'],
      ['/lib/modules/6.12/kernel/drivers/hid/hid-generic.ko', true, 'hid_generic'],
      ['/usr/lib/debug/boot/vmlinux-6.12', true, null],
      ['[unknown]', false, null], ['[vdso]', false, null], ['/usr/lib/x86_64-linux-gnu/libc.so.6', false, null],
    ];
    for (const [dso, kernel, mod] of cases) {
      expect(isKernelDso(dso), dso).toBe(kernel);
      expect(moduleOfDso(dso), dso).toBe(mod);
    }
  });
});
