/**
 * The one resolution policy (resolve-policy.ts) on the real 6.12 kernel (fixtures/kernel-6.12,
 * nokaslr boot): every reason is reached with references made from that table's own symbols
 * (real names, addresses, sizes and modules, picked by what they are, not hard-coded), and the
 * resolvedBy spellings the --refs output had before the policy moved into core are kept.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../load.js';
import { keyToHex } from '../address.js';
import type { Resolution } from '../types.js';
import type { SymbolTable } from './symbol-table.js';
import { sourceOptions } from '../../../../test/kernel-fixture.js';

let t: SymbolTable;
const hex = (i: number) => keyToHex(t.d.keys[i]!);

/** The consistency counts a call adds. */
function counted(fn: () => Resolution): { r: Resolution; checked: number; disagreed: number } {
  const c = t.consistency, checked = c.checked, disagreed = c.disagreed;
  const r = fn();
  return { r, checked: c.checked - checked, disagreed: c.disagreed - disagreed };
}

/** Duplicated text names (padding and aliases left out), with their copies. */
function groups(pred: (idx: number[]) => boolean): [string, number[]][] {
  return [...t.duplicateGroups()].filter(([, idx]) => pred(idx));
}

beforeAll(() => {
  t = loadTable(sourceOptions('nokaslr'), () => {}).table;
});

describe('by the printed address', () => {
  it('address: the printed name at the printed address (checked, agreeing)', () => {
    const i = t.indicesByName('vfs_read')[0]!;
    const { r, checked, disagreed } = counted(() => t.resolve({ name: 'vfs_read', offset: 5, size: null, address: keyToHex(t.d.keys[i]! + 5) }));
    expect([r.name, r.offset, r.reason]).toEqual(['vfs_read', 5, ['address']]);
    expect(r.resolvedBy).toBe('address; module:none; objname:linker-map');
    expect([checked, disagreed]).toEqual([1, 0]);
  });

  it('alias: an alias at that address has the printed name; that alias is the answer', () => {
    let found = false;
    for (let i = 1; i < t.length && !found; i++) {
      const k = t.d.keys[i]!;
      if (k !== t.d.keys[i - 1] || !t.isText(i) || t.name(i) === t.name(i - 1) || t.name(i).startsWith('__pfx_')) continue;
      // i is a later alias of i - 1 (and of the preferred first one)
      const { r, disagreed } = counted(() => t.resolve({ name: t.name(i), offset: 0, size: null, address: keyToHex(k) }));
      expect([r.name, r.reason, disagreed]).toEqual([t.name(i), ['alias'], 0]);
      expect(r.resolvedBy.split(';')[0]).toBe('address');
      found = true;
    }
    expect(found).toBe(true);
  });

  it('return-address: address - 1 is in the printed symbol (perf: an ip just past a call that ended a function)', () => {
    // two text symbols back to back: the end of the first is the start of the second
    let j = -1;
    for (let i = 0; i + 1 < t.length && j < 0; i++) {
      if (t.isText(i) && t.isText(i + 1) && t.kallsymsSize(i) > 0 && t.d.keys[i]! + t.kallsymsSize(i) === t.d.keys[i + 1] &&
        t.indicesByName(t.name(i)).length === 1 && !t.name(i + 1).startsWith('__pfx_') && t.name(i + 1) !== t.name(i)) j = i;
    }
    expect(j).toBeGreaterThanOrEqual(0);
    const printed = { name: t.name(j), offset: t.kallsymsSize(j), size: null, address: hex(j + 1) };
    const { r, checked, disagreed } = counted(() => t.resolve(printed, { returnAddress: true }));
    expect([r.name, r.offset, r.reason, checked, disagreed]).toEqual([t.name(j), t.kallsymsSize(j), ['return-address'], 1, 0]);
    // without the hint (a log or a trace prints the symbol of the address itself): the name decides, counted as a disagreement
    const plain = counted(() => t.resolve(printed));
    expect([plain.r.name, plain.r.reason[0], plain.disagreed]).toEqual([t.name(j), 'address-disagrees', 1]);
  });

  it('inlined: the printed name is inlined code, the address gives the function (not checked)', () => {
    const i = t.indicesByName('vfs_read')[0]!;
    const p = { name: 'rw_verify_area', offset: null, size: null, address: keyToHex(t.d.keys[i]! + 8) };
    const { r, checked } = counted(() => t.resolve(p, { inlined: true }));
    expect([r.name, r.reason, checked]).toEqual(['vfs_read', ['inlined'], 0]);
    expect(r.resolvedBy.split(';')[0]).toBe('address (inlined frame: the function it was inlined into)');
  });

  it('address-disagrees: the address is another symbol here (another boot): the printed name decides, and it is counted', () => {
    const i = t.indicesByName('vfs_read')[0]!;
    const { r, checked, disagreed } = counted(() => t.resolve({ name: 'vfs_write', offset: 5, size: null, address: keyToHex(t.d.keys[i]! + 5) }));
    // before the policy, kallmod trace let the address win here ("printed name vfs_write differs")
    expect([r.name, r.reason, checked, disagreed]).toEqual(['vfs_write', ['address-disagrees', 'name'], 1, 1]);
    expect(r.resolvedBy).toBe('address not in the printed symbol; name; module:none; objname:linker-map');
  });

  it('address-unusable: nothing printed to fall back on', () => {
    const none = (address: string) => t.resolve({ name: null, offset: null, size: null, address });
    expect(none('0x0').resolvedBy).toBe('address: a zero address (hidden by kptr_restrict where it was printed)');
    expect(none('0x00007f12a0b1c2d3').resolvedBy).toBe('address: not a kernel address (user half)');
    expect(none('0xfffffffffffff000').resolvedBy).toBe('address: not in any symbol');
    expect(none('0xfffffffffffff000').reason).toEqual(['address-unusable:not in any symbol']);
    // a zero address with a name: the name decides, nothing counted
    const z = counted(() => t.resolve({ name: 'vfs_read', offset: 5, size: null, address: '0x0' }));
    expect([z.r.name, z.r.reason, z.checked]).toEqual(['vfs_read', ['name'], 0]);
  });

  it('nothing: neither a name nor an address', () => {
    const r = t.resolve({ name: null, offset: null, size: null, address: null });
    expect([r.reason, r.resolvedBy]).toEqual([['nothing'], 'nothing to resolve']);
  });
});

describe('by the printed name', () => {
  it('name: ambiguous with every candidate when nothing printed tells the copies apart', () => {
    const same = (i: number, j: number) => t.kallsymsSize(i) === t.kallsymsSize(j) && t.modules(i).join() === t.modules(j).join();
    const [name, idx] = groups((idx) => idx.every((i) => same(i, idx[0]!)))[0]!;
    const r = t.resolve({ name, offset: 0, size: null, address: null });
    expect([r.ambiguous, r.candidates.length, r.reason, r.resolvedBy]).toEqual([true, idx.length, ['name'], `name: ${idx.length} candidates`]);
  });

  it('module: the printed [mod] leaves one copy', () => {
    const [name, idx] = groups((idx) => new Set(idx.map((i) => t.modules(i).join())).size === idx.length && idx.some((i) => t.modules(i).length === 1))[0]!;
    const i = idx.find((x) => t.modules(x).length === 1)!;
    const r = t.resolve({ name, offset: null, size: null, address: null, module: t.modules(i)[0]! });
    expect([r.address, r.reason]).toEqual([hex(i), ['name', 'module']]);
    expect(r.resolvedBy.split(';')[0]).toBe('name+module');
  });

  it('size and offset: the printed kallsyms size picks a copy; else an offset past the others', () => {
    const [name, idx] = groups((idx) => new Set(idx.map((i) => t.kallsymsSize(i))).size === idx.length && idx.every((i) => t.kallsymsSize(i) > 0))[0]!;
    const big = idx.reduce((a, b) => (t.kallsymsSize(a) > t.kallsymsSize(b) ? a : b));
    const bySize = t.resolve({ name, offset: 0, size: t.kallsymsSize(big), address: null });
    expect([bySize.address, bySize.reason]).toEqual([hex(big), ['name', 'size']]);
    const second = Math.max(...idx.filter((i) => i !== big).map((i) => t.kallsymsSize(i)));
    const byOffset = t.resolve({ name, offset: second, size: null, address: null });
    expect([byOffset.address, byOffset.reason]).toEqual([hex(big), ['name', 'offset']]);
  });

  it('module-mismatch and size-mismatch: printed, had by no candidate; said, counted each time (memoised answers too)', () => {
    const i = t.indicesByName('vfs_read')[0]!;
    const p = { name: 'vfs_read', offset: 5, size: t.kallsymsSize(i) + 16, address: null, module: 'udf' };
    for (let n = 0; n < 2; n++) {
      const { r, checked, disagreed } = counted(() => t.resolve(p));
      expect([r.name, r.reason, r.mismatch, checked, disagreed]).toEqual(['vfs_read',
        ['name', 'module-mismatch:udf', `size-mismatch:0x${p.size.toString(16)}`], ['module udf', `size 0x${p.size.toString(16)}`], 2, 2]);
      expect(r.resolvedBy.split(';')[0]).toBe(`name+module(no match: udf)+size(no match: 0x${p.size.toString(16)})`);
    }
  });

  it('not-loadable: a log prints [mod] for loadable-module symbols, so a frame without one is not in one', () => {
    const [name, idx] = groups((idx) => idx.some((i) => !t.isLoadable(i)) && idx.some((i) => t.isLoadable(i)))[0]!;
    const kept = idx.filter((i) => !t.isLoadable(i));
    const r = t.resolve({ name, offset: null, size: null, address: null }, { modulePrintedWhenLoadable: true });
    expect(r.reason).toEqual(['name', 'not-loadable']);
    if (kept.length === 1) expect(r.address).toBe(hex(kept[0]!));
    else expect(r.candidates.map((c) => c.address)).toEqual(kept.map(hex));
    expect(t.resolve({ name, offset: null, size: null, address: null }).candidates.length).toBe(idx.length);
    const inline = t.resolve({ name, offset: null, size: null, address: null }, { modulePrintedWhenLoadable: true, inlineFrame: true });
    expect(inline.reason).toEqual(['name', 'not-loadable', 'inline-frame']);
    expect(inline.resolvedBy.split(/; module:|: \d+ candidates/)[0]).toBe('name+not-loadable; inline frame (its code is in the caller below)');
  });

  it('evidence: a neighbour in one candidate\'s module leaves that one; core-kernel evidence never picks', () => {
    const distinct = (idx: number[]) => new Set(idx.map((i) => t.modules(i).join())).size === idx.length;
    const [name, idx] = groups((idx) => idx.filter((i) => t.modules(i).length === 1).length >= 2 && distinct(idx))[0]!;
    const i = idx.find((x) => t.modules(x).length === 1)!;
    const neighbour = t.resolve({ name: null, offset: null, size: null, address: hex(i) });
    const r = t.resolve({ name, offset: null, size: null, address: null }, { evidence: { resolution: neighbour, label: 'parent-module' } });
    expect([r.address, r.reason]).toEqual([hex(i), ['name', 'evidence:parent-module']]);
    expect(r.resolvedBy.split(';')[0]).toBe('name+evidence:parent-module');
    const core = t.resolveName({ name: 'vfs_read' });
    expect(t.resolve({ name, offset: null, size: null, address: null }, { evidence: { resolution: core, label: 'x' } }).ambiguous).toBe(true);
  });

  it('a printed address in no symbol, then a printed size: each check counted once (kallmod dmesg counted the size twice)', () => {
    const p = { name: 'vfs_write', offset: 5, size: 0x7, address: '0xfffffffffffff000' };
    const { r, checked, disagreed } = counted(() => t.resolve(p, { modulePrintedWhenLoadable: true }));
    expect([r.name, r.reason]).toEqual(['vfs_write', ['address-disagrees', 'name', 'size-mismatch:0x7']]);
    expect([checked, disagreed]).toEqual([2, 2]);
  });
});
