/**
 * HAND-WRITTEN lines in the real forms, naming real symbols of the 6.12 fixture kernel (the real
 * bcc texts name no built-in-module symbol behind a `[kernel]`): where the notation goes, that
 * `[kernel]` gains the built-in module (and rules out loadable copies), that a printed `[mod]` is not repeated, that a folded
 * line keeps its frames, and that a duplicated name is marked with its candidates.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTable, type SymbolTable } from '@kallmod/core';
import { sourceOptions } from '../../../test/kernel-fixture.js';
import { createAnnotator } from './annotator.js';

let table: SymbolTable;
beforeAll(() => { table = loadTable(sourceOptions('nokaslr'), () => {}).table; });
const annotate = (text: string, objname: 'ambiguous' | 'always' = 'ambiguous') =>
  createAnnotator(table, { objname, refs: false }).chunk(Buffer.from(text, 'latin1'), 1).toString('latin1');

describe('annotation (hand-written lines, 6.12 symbols)', () => {
  it('bcc [kernel]: the built-in module goes after the name, before +off', () => {
    expect(annotate('        ext4_fill_super+0x10 [kernel]\n')).toBe('        ext4_fill_super [ext4]+0x10 [kernel]\n');
  });
  it('a duplicated name: every candidate, nothing guessed; a printed /size picks the copy', () => {
    expect(annotate('        e1000_probe+0x10 [kernel]\n')).toBe('        e1000_probe {?[e1000]e1000_main.o|[e1000e]netdev.o}+0x10 [kernel]\n');
    expect(annotate('[<0>] e1000_probe+0x10/0xe50\r\n')).toBe('[<0>] e1000_probe [e1000]+0x10/0xe50\r\n');
  });
  it('folded: the notation inside the frame, before _[k]; frames and count kept', () => {
    expect(annotate('swapper;-;ext4_fill_super;e1000_probe 3\n'))
      .toBe('swapper;-;ext4_fill_super [ext4];e1000_probe {?[e1000]e1000_main.o|[e1000e]netdev.o} 3\n');
    expect(annotate('mount;[unknown];ext4_fill_super_[k] 1\n', 'always')).toBe('mount;[unknown];ext4_fill_super [ext4] {ext4/super.o}_[k] 1\n');
  });
  it('bcc prints [mod] for every loadable-module frame: [kernel] leaves out loadable copies; bpftrace prints none', () => {
    // cpumask_show: two built-in copies and one in the loadable thunderx2_pmu
    expect(annotate('        cpumask_show+0x10 [kernel]\n')).toBe('        cpumask_show {?workqueue.o|kernel/events/core.o}+0x10 [kernel]\n');
    expect(annotate('        cpumask_show+16\n')).toBe('        cpumask_show {?workqueue.o|kernel/events/core.o|[thunderx2_pmu]thunderx2_pmu.o}+16\n');
  });
  it('a printed loadable [mod] is not repeated; the crash address decides', () => {
    expect(annotate('        efivarfs_fileattr_get+0x10 [efivarfs]\n')).toBe('        efivarfs_fileattr_get+0x10 [efivarfs]\n');
    const refs = createAnnotator(table, { objname: 'ambiguous', refs: true })
      .chunk(Buffer.from('     #1 [ffffc90000003e00] efivarfs_fileattr_get at ffffffffc00af018 [efivarfs]\n'), 1).toString();
    expect(JSON.parse(refs)).toMatchObject({ line: 1, name: 'efivarfs_fileattr_get', offset: null, address: '0xffffffffc00af018',
      symbolAddress: '0xffffffffc00af010', modules: ['efivarfs'], resolvedBy: expect.stringMatching(/^address/) });
  });
});
