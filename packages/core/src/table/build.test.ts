import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseNmList, type NmList } from '../sources/nm-list.js';
import { readSourceFile } from '../sources/read-file.js';
import { buildTable } from './build.js';
import { isTextType } from './symbol-table.js';

const real = readSourceFile(join(import.meta.dirname, '../../../../fixtures/kernel-6.12/boot-kaslr/kallsyms.xz')).toString('latin1');
const lines = real.split('\n').filter(Boolean);

/** A deterministic shuffle (the same order every run). */
function shuffled<T>(a: T[], seed = 1): T[] {
  const out = a.slice();
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The table order by a plain comparator sort: address, text first, then file order. */
function expectedOrder(l: NmList): number[] {
  const idx = Array.from(l.keys, (_, i) => i);
  const text = (i: number) => (isTextType(l.types[i]!) ? 1 : 0);
  return idx.sort((a, b) => (l.keys[a]! - l.keys[b]!) || (text(b) - text(a)) || a - b);
}

function checkOrder(text: string): void {
  const l = parseNmList(Buffer.from(text, 'latin1'), 'k');
  const { table } = buildTable({ kallsyms: l });
  const want = expectedOrder(l);
  expect(table.length).toBe(want.length);
  for (let j = 0; j < want.length; j++) {
    const i = want[j]!;
    const mod = l.moduleIds[i]! < 0 ? [] : [l.moduleNames[l.moduleIds[i]!]!];
    // (pseudo-modules such as [bpf] are not modules: the table lists none for them)
    const modOk = /^(bpf|__builtin__)/.test(mod[0] ?? '') || table.modules(j).join() === mod.join();
    if (table.d.keys[j] !== l.keys[i] || table.name(j) !== l.names.get(i) || !modOk) {
      expect.fail(`position ${j}: ${table.name(j)} where ${l.names.get(i)} belongs`);
    }
  }
}

describe('buildTable sorts kallsyms as a comparator sort would', () => {
  const core = lines.filter((l) => !l.includes('\t['));
  const mods = lines.filter((l) => l.includes('\t['));
  it('the real 6.12 kallsyms: sorted core, module tail above it', () => checkOrder(real));
  it('module symbols amid the core (the general merge)', () => {
    checkOrder([...core.slice(0, 150000), ...shuffled(mods), ...core.slice(150000)].join('\n'));
  });
  it('a distro-sized module tail (20 copies of the modules, shuffled: the packed native sort)', () => {
    const tail: string[] = [];
    for (let r = 0; r < 20; r++) {
      for (const m of mods) {
        const sp = m.indexOf(' ');
        const addr = (BigInt('0x' + m.slice(0, sp)) + BigInt(r) * 0x100000n).toString(16);
        tail.push(addr + m.slice(sp).replace('\t[', `\t[copy${r}_`));
      }
    }
    checkOrder([...core, ...shuffled(tail)].join('\n'));
  });
  it('every line shuffled (addresses from 0 up: too wide to pack, the comparator sort)', () => checkOrder(shuffled(lines, 7).join('\n')));
});
