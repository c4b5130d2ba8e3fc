/** Low-level DWARF byte reading: a bounds-checked cursor, LEB128, DW_FORM/DW_AT constants. */
import { keyFromParts } from '../../address.js';

/** Thrown when a read runs past the end of the bytes at hand (callers may retry with more). */
export class DwarfOutOfBounds extends Error {
  constructor() {
    super('DWARF data truncated');
  }
}

/** Malformed DWARF (bad version, unknown form, ...). Turned into a KallmodError at the API edge. */
export class DwarfError extends Error {}

export const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08,
  block: 0x09, block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f,
  ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16,
  sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c,
  strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f, ref_sig8: 0x20, implicit_const: 0x21,
  loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25, strx2: 0x26, strx3: 0x27, strx4: 0x28,
  addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
  GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

export const DW_AT = {
  sibling: 0x01, name: 0x03, stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, comp_dir: 0x1b, inline: 0x20,
  abstract_origin: 0x31, declaration: 0x3c, specification: 0x47, ranges: 0x55,
  call_column: 0x57, call_file: 0x58, call_line: 0x59, linkage_name: 0x6e,
  str_offsets_base: 0x72, addr_base: 0x73, rnglists_base: 0x74,
  MIPS_linkage_name: 0x2007, GNU_addr_base: 0x2133,
} as const;

export const DW_TAG_compile_unit = 0x11;
export const DW_TAG_inlined_subroutine = 0x1d;
export const DW_TAG_subprogram = 0x2e;
export const DW_TAG_partial_unit = 0x3c;
export const DW_TAG_skeleton_unit = 0x4a;

export class Cursor {
  buf: Buffer;
  pos: number;
  /** Offset of buf[0] within its section (so relocation maps, keyed by section offset, apply). */
  base: number;

  constructor(buf: Buffer, pos = 0, base = 0) {
    this.buf = buf;
    this.pos = pos;
    this.base = base;
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DwarfOutOfBounds();
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const b = this.buf, p = this.pos;
    this.pos += 3;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** u64 as a plain number (exact below 2^53). */
  u64(): number {
    this.need(8);
    const v = this.buf.readUInt32LE(this.pos + 4) * 4294967296 + this.buf.readUInt32LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Offset-sized value (4 or 8 bytes). */
  off(size: number): number {
    return size === 8 ? this.u64() : this.u32();
  }

  uleb(): number {
    const b = this.buf;
    let result = 0, mul = 1, p = this.pos;
    for (;;) {
      if (p >= b.length) throw new DwarfOutOfBounds();
      const byte = b[p++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
    }
    this.pos = p;
    return result;
  }

  sleb(): number {
    const b = this.buf;
    let result = 0, mul = 1, p = this.pos, byte: number;
    do {
      if (p >= b.length) throw new DwarfOutOfBounds();
      byte = b[p++]!;
      result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    if (byte & 0x40) result -= mul;
    this.pos = p;
    return result;
  }

  /** Skip a NUL-terminated string; returns its start position. */
  cstr(): number {
    const start = this.pos;
    const end = this.buf.indexOf(0, start);
    if (end < 0) throw new DwarfOutOfBounds();
    this.pos = end + 1;
    return start;
  }
}

/**
 * Read an address of `size` bytes. Returns a key when `asKey` (linked files), else the plain
 * value (section offsets in ET_REL). `isMax` reports the all-ones value (base selection /
 * tombstone) through the `addrIsMax` flag.
 */
export let addrIsMax = false;
export function readAddress(c: Cursor, size: number, asKey: boolean): number {
  if (size === 8) {
    c.need(8);
    const lo = c.buf.readUInt32LE(c.pos), hi = c.buf.readUInt32LE(c.pos + 4);
    c.pos += 8;
    addrIsMax = lo === 0xffffffff && hi === 0xffffffff;
    return asKey ? keyFromParts(hi, lo) : hi * 4294967296 + lo;
  }
  if (size === 4) {
    const v = c.u32();
    addrIsMax = v === 0xffffffff;
    return v;
  }
  if (size === 2) {
    const v = c.u16();
    addrIsMax = v === 0xffff;
    return v;
  }
  throw new DwarfError(`unsupported address size ${size}`);
}

/** What readForm needs of a unit header. */
export interface FormUnit {
  offset: number;
  version: number;
  offsetSize: 4 | 8;
  addrSize: number;
}

/**
 * Side results of the last readForm call (no allocation per attribute): the form actually read
 * (after DW_FORM_indirect) and, for an address in an ET_REL file, its relocation's section (-1).
 */
export const formInfo = { form: 0, sec: -1 };

/**
 * Read one attribute value: the one form reader of every DWARF walk. Returns a number: the
 * value (addresses: keys in linked files, section offsets in ET_REL, see formInfo.sec), the
 * position of a DW_FORM_string in c.buf, 0 for blocks (skipped). Unknown forms throw.
 */
export function readForm(c: Cursor, form: number, implicitConst: number, u: FormUnit, asKey: boolean,
  sectionAt: Map<number, number>): number {
  formInfo.form = form;
  formInfo.sec = -1;
  switch (form) {
    case DW_FORM.addr: {
      const at = c.base + c.pos;
      const v = readAddress(c, u.addrSize, asKey);
      if (sectionAt.size) formInfo.sec = sectionAt.get(at) ?? -1;
      return v;
    }
    case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: case DW_FORM.strx1: case DW_FORM.addrx1:
      return c.u8();
    case DW_FORM.data2: case DW_FORM.ref2: case DW_FORM.strx2: case DW_FORM.addrx2:
      return c.u16();
    case DW_FORM.strx3: case DW_FORM.addrx3:
      return c.u24();
    case DW_FORM.data4: case DW_FORM.ref4: case DW_FORM.ref_sup4: case DW_FORM.strx4: case DW_FORM.addrx4:
      return c.u32();
    case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sig8: case DW_FORM.ref_sup8:
      return c.u64();
    case DW_FORM.data16:
      c.skip(16); return 0;
    case DW_FORM.sdata:
      return c.sleb();
    case DW_FORM.udata: case DW_FORM.ref_udata: case DW_FORM.strx: case DW_FORM.addrx:
    case DW_FORM.loclistx: case DW_FORM.rnglistx: case DW_FORM.GNU_addr_index: case DW_FORM.GNU_str_index:
      return c.uleb();
    case DW_FORM.strp: case DW_FORM.line_strp: case DW_FORM.sec_offset: case DW_FORM.strp_sup:
    case DW_FORM.GNU_ref_alt: case DW_FORM.GNU_strp_alt:
      return c.off(u.offsetSize);
    case DW_FORM.ref_addr:
      return u.version <= 2 ? c.off(u.addrSize === 8 ? 8 : 4) : c.off(u.offsetSize);
    case DW_FORM.string:
      return c.cstr();
    case DW_FORM.block1: c.skip(c.u8()); return 0;
    case DW_FORM.block2: c.skip(c.u16()); return 0;
    case DW_FORM.block4: c.skip(c.u32()); return 0;
    case DW_FORM.block: case DW_FORM.exprloc: c.skip(c.uleb()); return 0;
    case DW_FORM.flag_present: return 1;
    case DW_FORM.implicit_const: return implicitConst;
    case DW_FORM.indirect: {
      const f = c.uleb();
      return readForm(c, f, f === DW_FORM.implicit_const ? c.sleb() : 0, u, asKey, sectionAt);
    }
    default:
      throw new DwarfError(`unknown DW_FORM 0x${form.toString(16)} in unit at 0x${u.offset.toString(16)}`);
  }
}

export const isStrxForm = (f: number): boolean => f === DW_FORM.strx || f === DW_FORM.strx1 || f === DW_FORM.strx2
  || f === DW_FORM.strx3 || f === DW_FORM.strx4 || f === DW_FORM.GNU_str_index;
export const isAddrxForm = (f: number): boolean => f === DW_FORM.addrx || f === DW_FORM.addrx1 || f === DW_FORM.addrx2
  || f === DW_FORM.addrx3 || f === DW_FORM.addrx4 || f === DW_FORM.GNU_addr_index;
