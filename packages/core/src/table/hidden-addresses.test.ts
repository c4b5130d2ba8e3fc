/**
 * Addresses hidden by kptr_restrict (every kallsyms address zero, as a non-root user reads it),
 * made from the real 6.12 kallsyms: no address is looked up or printed, names still work, and
 * distinct copies of a name stay distinct although they share the address 0.
 */
import { describe, expect, it } from 'vitest';
import { readSourceFile } from '../sources/read-file.js';
import { parseNmList } from '../sources/nm-list.js';
import { buildTable } from './build.js';
import { keyFromHex } from '../address.js';
import { duplicateCounts } from './duplicates.js';
import { resolveQueryText } from '../resolve/resolve.js';
import { k } from '../../../../test/kernel-fixture.js';
import { decodeTable, encodeTable, tableFromSnapshot } from './snapshot.js';
import { SymbolTable } from './symbol-table.js';

const real = readSourceFile(k('boot-kaslr/kallsyms.xz'));
const zeroed = Buffer.from(real.toString('latin1').replace(/^[0-9a-f]{16}/gm, '0000000000000000'), 'latin1');
const root = buildTable({ kallsyms: parseNmList(real, 'kallsyms') }).table;
const hidden = buildTable({ kallsyms: parseNmList(zeroed, 'zeroed') }).table;

describe('a table whose addresses are hidden', () => {
  it('is known as such, and finds nothing by address', () => {
    expect(hidden.addressesHidden).toBe(true);
    expect(root.addressesHidden).toBe(false);
    for (const a of ['0', '10', 'fff', 'ffffffffb30da8e5']) expect(hidden.lookupKey(keyFromHex(a)), a).toBe(-1);
    expect(hidden.resolveKey(keyFromHex('ffffffffb30da8e5')).resolvedBy).toMatch(/hide every address/);
  });
  it('prints no address: null, never 0x0', () => {
    const r = hidden.resolveName({ name: 'vfs_read' });
    expect(r.name).toBe('vfs_read');
    expect(r.address).toBeNull();
    expect(hidden.symbolJson(hidden.indicesByName('vfs_read')[0]!).address).toBeNull();
  });
  it('keeps copies of a duplicated name apart, as root sees them', () => {
    const a = resolveQueryText(hidden, 'load_elf_binary');
    expect(a.errorKind).toBe('ambiguous');
    expect(a.candidates).toHaveLength(resolveQueryText(root, 'load_elf_binary').candidates!.length);
    expect(a.candidates!.every((c) => c.address === null)).toBe(true);
    expect(duplicateCounts(hidden).byName.keys).toBe(duplicateCounts(root).byName.keys);
    expect(duplicateCounts(hidden).byName.keys).toBeGreaterThan(300);
  });
  it('refuses every address form in resolve, and keeps bpftrace by name', () => {
    for (const o of [{}, { kprobe: true }, { perfProbe: true }, { kretprobe: true }]) {
      const a = resolveQueryText(hidden, 'vfs_read', o);
      expect(a.errorKind).toBe('hidden');
      expect(a.address).toBeUndefined();
      expect(JSON.stringify(a)).not.toMatch(/0x0\b/);
    }
    expect(resolveQueryText(hidden, 'vfs_read', { bpftrace: true })).toMatchObject({ bpftrace: 'kprobe:vfs_read' });
    expect(resolveQueryText(hidden, 'vfs_read', { bpftrace: true }).errorKind).toBeUndefined();
  });
  it('does not count printed addresses as disagreeing with it (it has none to hold them against)', () => {
    hidden.resolve({ text: 'x', name: 'vfs_read', offset: 5, size: 0x370, address: '0xffffffffb30da8e5' });
    expect(hidden.consistency.disagreed).toBe(0);
  });
});

describe('a zero address printed in the input (/proc/PID/stack as non-root, %pK)', () => {
  it('is never looked up: the name decides, and it is no disagreement with the sources', () => {
    const t = buildTable({ kallsyms: parseNmList(real, 'kallsyms') }).table;
    const r = t.resolve({ text: '[<0>] vfs_read+0x5/0x370', name: 'vfs_read', offset: 5, size: 0x370, address: '0x0' });
    expect(r.name).toBe('vfs_read');
    expect(r.resolvedBy).toMatch(/^name/);
    expect(t.consistency.disagreed).toBe(0);
  });
});

describe('hidden kallsyms with a System.map (a non-root user on a KASLR boot): addresses as linked', () => {
  const map = parseNmList(readSourceFile(k('System.map.xz')), 'System.map');
  const linked = buildTable({ kallsyms: parseNmList(zeroed, 'zeroed'), systemMap: map }).table;
  const slid = buildTable({ kallsyms: parseNmList(zeroed, 'zeroed'), systemMap: map, kaslrOffset: 0x31e00000 }).table;
  it('is known as such: not hidden, the addresses as linked (this boot ran 0x31e00000 above them)', () => {
    expect(linked.addressesHidden).toBe(false);
    expect(linked.addressesAsLinked).toBe(true);
    expect(slid.addressesAsLinked).toBe(false);
    expect(root.addressesAsLinked).toBe(false);
    expect(linked.symbolJson(linked.indicesByName('vfs_read')[0]!).address).toBe('0xffffffff812da8e0');
  });
  it('resolve makes no address form from it (the kprobe would be off by the slide), bpftrace by name still', () => {
    for (const o of [{}, { kprobe: true }, { perfProbe: true }, { kretprobe: true }, { ftraceIndex: true }]) {
      const a = resolveQueryText(linked, 'vfs_read', o);
      expect(a.errorKind, JSON.stringify(o)).toBe('hidden');
      expect(a.error).toMatch(/--kaslr-offset/);
      expect(JSON.stringify(a)).not.toMatch(/0xffffffff812da8e0/);
    }
    expect(resolveQueryText(linked, 'vfs_read', { bpftrace: true })).toMatchObject({ bpftrace: 'kprobe:vfs_read' });
    // with the slide given, the address is this boot's (its kallsyms as root said so)
    expect(resolveQueryText(slid, 'vfs_read', { kprobe: true }).kprobe).toBe('p:kallmod/vfs_read 0xffffffffb30da8e0');
    expect(real.toString('latin1')).toMatch(/^ffffffffb30da8e0 T vfs_read$/m);
  });
  it('a snapshot and a worker copy keep knowing it', () => {
    const meta = { format: 3, kallmodVersion: 'test', created: '', sources: [], warnings: [] };
    expect(tableFromSnapshot(encodeTable(linked, meta), 'x.snap').table.addressesAsLinked).toBe(true);
    expect(new SymbolTable(decodeTable(encodeTable(linked, meta, [], true), 'w', { trusted: true }).data).addressesAsLinked).toBe(true);
    expect(tableFromSnapshot(encodeTable(slid, meta), 'y.snap').table.addressesAsLinked).toBe(false);
  });
});
