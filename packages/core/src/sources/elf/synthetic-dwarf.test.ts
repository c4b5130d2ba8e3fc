/**
 * Hand-built DWARF 5 / DWARF 4 units in a synthetic ET_EXEC, for the forms gcc does not emit in
 * non-split builds: strx1/strx2, addrx, rnglistx (+ rnglists_base), implicit_const, data16, and
 * every rnglists entry kind used by compilers; plus a CU with .debug_aranges next to one without.
 */
import { describe, it, expect } from 'vitest';
import { keyFromHex } from '../../address.js';
import { openElfBuffer } from './index.js';

class Bytes {
  private parts: number[] = [];
  u8(...v: number[]) { for (const x of v) this.parts.push(x & 0xff); return this; }
  u16(v: number) { return this.u8(v, v >> 8); }
  u32(v: number) { return this.u8(v, v >>> 8, v >>> 16, v >>> 24); }
  u64(v: bigint) { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return this.u8(...b); }
  uleb(v: number) { do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; this.u8(b); } while (v); return this; }
  str(s: string) { return this.u8(...Buffer.from(s + '\0')); }
  get length() { return this.parts.length; }
  buf() { return Buffer.from(this.parts); }
}

/** unit_length-prefixed block (32-bit DWARF). */
function unit(body: Bytes): Bytes {
  return new Bytes().u32(body.length).u8(...body.buf());
}

function buildElf(secs: { name: string; type: number; addr?: bigint; data: Buffer }[]): Buffer {
  const names = new Bytes().u8(0);
  const nameOff: number[] = [];
  for (const s of [...secs, { name: '.shstrtab' }]) { nameOff.push(names.length); names.str(s.name); }
  const all = [...secs, { name: '.shstrtab', type: 3, data: names.buf() }];
  let off = 64;
  const offs: number[] = [];
  for (const s of all) { offs.push(off); off += s.data.length; }
  const shoff = (off + 7) & ~7;
  const out = Buffer.alloc(shoff + (all.length + 1) * 64);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  out.writeUInt16LE(2, 16); // ET_EXEC
  out.writeUInt16LE(62, 18); // EM_X86_64
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(shoff), 0x28);
  out.writeUInt16LE(64, 0x34);
  out.writeUInt16LE(64, 0x3a);
  out.writeUInt16LE(all.length + 1, 0x3c);
  out.writeUInt16LE(all.length, 0x3e);
  all.forEach((s, i) => {
    out.set(s.data, offs[i]!);
    const h = shoff + (i + 1) * 64;
    out.writeUInt32LE(nameOff[i]!, h);
    out.writeUInt32LE(s.type, h + 4);
    out.writeBigUInt64LE((s as { addr?: bigint }).addr ?? 0n, h + 0x10);
    out.writeBigUInt64LE(BigInt(offs[i]!), h + 0x18);
    out.writeBigUInt64LE(BigInt(s.data.length), h + 0x20);
  });
  return out;
}

function build(withAranges: boolean): Buffer {
  const str = new Bytes().u8(0).str('unit.c').str('/build'); // unit.c@1, /build@8
  const strOffsets = unit(new Bytes().u16(5).u16(0).u32(1).u32(8)); // base 8
  const addr = unit(new Bytes().u16(5).u8(8, 0).u64(0xffffffff81000000n).u64(0xffffffff81002000n)); // base 8
  const list = new Bytes()
    .u8(4).uleb(0x10).uleb(0x100) // offset_pair from low_pc (addrx 0)
    .u8(3).uleb(1).uleb(0x50) // startx_length
    .u8(5).u64(0xffffffff81004000n) // base_address
    .u8(4).uleb(0).uleb(0x20)
    .u8(6).u64(0xffffffff81006000n).u64(0xffffffff81006008n) // start_end
    .u8(7).u64(0xffffffff8100a000n).uleb(0x300) // start_length
    .u8(0);
  const rng = unit(new Bytes().u16(5).u8(8, 0).u32(1).u32(4).u8(...list.buf())); // base 12, list at 16
  const abbrev = new Bytes()
    .uleb(1).uleb(0x11).u8(0)
    .uleb(0x25).uleb(0x1e) // producer: data16
    .uleb(0x13).uleb(0x21).uleb(29) // language: implicit_const 29 (sleb, positive < 64)
    .uleb(0x03).uleb(0x25) // name: strx1
    .uleb(0x1b).uleb(0x26) // comp_dir: strx2
    .uleb(0x72).uleb(0x17).uleb(0x73).uleb(0x17) // str_offsets_base, addr_base (after the strx uses)
    .uleb(0x11).uleb(0x1b) // low_pc: addrx
    .uleb(0x55).uleb(0x23) // ranges: rnglistx
    .uleb(0x74).uleb(0x17) // rnglists_base
    .u8(0, 0).u8(0);
  const abbrev2 = abbrev.length;
  abbrev.uleb(7).uleb(0x11).u8(1)
    .uleb(0x03).uleb(0x08).uleb(0x1b).uleb(0x0e).uleb(0x11).uleb(0x01).uleb(0x12).uleb(0x06)
    .u8(0, 0).u8(0);
  const cu1 = unit(new Bytes().u16(5).u8(1, 8).u32(0)
    .uleb(1).u8(...Buffer.alloc(16, 0xab)).u8(0).u16(1).u32(8).u32(8).uleb(0).uleb(0).u32(12));
  const cu2 = unit(new Bytes().u16(4).u32(abbrev2).u8(8)
    .uleb(7).str('old.c').u32(8).u64(0xffffffff81008000n).u32(0x40)
    .u8(0) /* children: a null entry */);
  const info = new Bytes().u8(...cu1.buf()).u8(...cu2.buf());
  const secs = [
    { name: '.text', type: 1, addr: 0xffffffff81000000n, data: Buffer.alloc(16) },
    { name: '.debug_abbrev', type: 1, data: abbrev.buf() },
    { name: '.debug_info', type: 1, data: info.buf() },
    { name: '.debug_str', type: 1, data: str.buf() },
    { name: '.debug_str_offsets', type: 1, data: strOffsets.buf() },
    { name: '.debug_addr', type: 1, data: addr.buf() },
    { name: '.debug_rnglists', type: 1, data: rng.buf() },
  ];
  if (withAranges) {
    const set = unit(new Bytes().u16(2).u32(cu1.length).u8(8, 0).u32(0)
      .u64(0xffffffff81009000n).u64(0x10n).u64(0n).u64(0n));
    secs.push({ name: '.debug_aranges', type: 1, data: set.buf() });
  }
  return buildElf(secs);
}

const K = (h: string) => keyFromHex(h);

describe('synthetic DWARF 5 + 4 units', () => {
  it('decodes strx/addrx/rnglistx/implicit_const/data16 and all rnglists entry kinds', () => {
    const o = openElfBuffer(build(false), 'synthetic');
    expect(o.kind).toBe('exec');
    expect(o.sections.find((s) => s.name === '.text')!.addr).toBe(K('ffffffff81000000'));
    expect(o.cuRanges()).toEqual([
      { start: K('ffffffff81000010'), end: K('ffffffff81000100'), section: null, cu: 'unit.c', compDir: '/build' },
      { start: K('ffffffff81002000'), end: K('ffffffff81002050'), section: null, cu: 'unit.c', compDir: '/build' },
      { start: K('ffffffff81004000'), end: K('ffffffff81004020'), section: null, cu: 'unit.c', compDir: '/build' },
      { start: K('ffffffff81006000'), end: K('ffffffff81006008'), section: null, cu: 'unit.c', compDir: '/build' },
      { start: K('ffffffff81008000'), end: K('ffffffff81008040'), section: null, cu: 'old.c', compDir: '/build' },
      { start: K('ffffffff8100a000'), end: K('ffffffff8100a300'), section: null, cu: 'unit.c', compDir: '/build' },
    ]);
    expect(o.symbols()).toEqual([]);
  });

  it('prefers .debug_aranges for CUs that have a set, falls back for the others', () => {
    const o = openElfBuffer(build(true), 'synthetic');
    const r = o.cuRanges();
    expect(r.filter((x) => x.cu === 'old.c')).toEqual([
      { start: K('ffffffff81009000'), end: K('ffffffff81009010'), section: null, cu: 'old.c', compDir: '/build' },
    ]);
    expect(r.filter((x) => x.cu === 'unit.c').length).toBe(5);
  });
});
