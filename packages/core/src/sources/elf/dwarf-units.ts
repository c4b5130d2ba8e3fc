/**
 * DWARF 2–5 compile units: unit headers and the attributes of each unit's top DIE
 * (DW_AT_name, comp_dir, low_pc, high_pc, ranges, *_base). Children are never parsed: the walk
 * jumps from unit header to unit header via unit_length.
 */
import { cstring } from './elf-file.js';
import { DwarfSections } from './dwarf-sections.js';
import {
  Cursor, DW_AT, DW_FORM, DW_TAG_compile_unit, DW_TAG_partial_unit, DW_TAG_skeleton_unit,
  DwarfError, DwarfOutOfBounds, formInfo, isAddrxForm, isStrxForm, readForm,
} from './dwarf-reader.js';
import type { RawRange } from './dwarf-ranges.js';
import { readRangeList, resolveAddrx as addrxEntry } from './dwarf-ranges.js';

export type { RawRange } from './dwarf-ranges.js';

export interface UnitHeader {
  /** offset of the unit header in .debug_info */
  offset: number;
  /** offset just past the unit */
  end: number;
  version: number;
  /** DW_UT_* (DWARF 5), 1 (compile) for older versions */
  unitType: number;
  offsetSize: 4 | 8;
  addrSize: number;
  abbrevOffset: number;
  /** offset of the top DIE in .debug_info */
  dieOffset: number;
}

export interface CompUnit extends UnitHeader {
  tag: number;
  name: string | null;
  compDir: string | null;
  /** address ranges from DW_AT_low_pc/high_pc/ranges (only when asked for) */
  ranges: RawRange[];
  /** DW_AT_stmt_list: offset of the unit's line program in .debug_line, -1 when none */
  stmtList: number;
  /** DWARF 5 bases of the unit's strx / addrx / rnglistx forms (their defaults when absent) */
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
  /** DW_AT_low_pc: the base address of the unit's range lists (sec: its section in ET_REL) */
  lowPc: { num: number; sec: number } | null;
}

/** A value read for a top-DIE attribute: the form, a number, and (address forms) its section. */
interface AttrVal {
  form: number;
  num: number;
  sec: number;
  str: string | null;
}

const HEADER_PROBE = 4096;

/** Walk the unit headers of .debug_info. */
export function readUnitHeaders(ds: DwarfSections): UnitHeader[] {
  const size = ds.infoSize();
  const out: UnitHeader[] = [];
  let off = 0;
  while (off + 11 <= size) {
    const { data } = ds.infoRange(off, 32);
    const h = parseUnitHeader(new Cursor(data, 0, off), off);
    if (h.end > size) throw new DwarfError(`compile unit at 0x${off.toString(16)} extends past the end of .debug_info`);
    out.push(h);
    off = h.end;
  }
  return out;
}

function parseUnitHeader(c: Cursor, off: number): UnitHeader {
  let len = c.u32();
  let offsetSize: 4 | 8 = 4;
  if (len === 0xffffffff) {
    len = c.u64();
    offsetSize = 8;
  } else if (len >= 0xfffffff0) throw new DwarfError(`bad unit length 0x${len.toString(16)} at 0x${off.toString(16)}`);
  const end = off + c.pos + len;
  const version = c.u16();
  let unitType = 1, addrSize: number, abbrevOffset: number;
  if (version >= 2 && version <= 4) {
    abbrevOffset = c.off(offsetSize);
    addrSize = c.u8();
  } else if (version === 5) {
    unitType = c.u8();
    addrSize = c.u8();
    abbrevOffset = c.off(offsetSize);
    if (unitType === 4 || unitType === 5) c.skip(8); // dwo_id
    else if (unitType === 2 || unitType === 6) c.skip(8 + offsetSize); // type signature + offset
  } else {
    // unknown version: keep the length so the walk can skip it, but mark it unusable
    return { offset: off, end, version, unitType: 0, offsetSize, addrSize: 0, abbrevOffset: 0, dieOffset: end };
  }
  return { offset: off, end, version, unitType, offsetSize, addrSize, abbrevOffset, dieOffset: off + c.pos };
}

interface AbbrevDecl {
  tag: number;
  attrs: number[];
  forms: number[];
  consts: number[];
}

/** Find abbreviation `code` in the table at `tableOff` of .debug_abbrev (no allocation for the others). */
function findAbbrev(abbrev: Buffer, tableOff: number, code: number): AbbrevDecl | null {
  const c = new Cursor(abbrev, tableOff);
  for (;;) {
    const k = c.uleb();
    if (k === 0) return null;
    const tag = c.uleb();
    c.skip(1); // has_children
    if (k === code) {
      const d: AbbrevDecl = { tag, attrs: [], forms: [], consts: [] };
      for (;;) {
        const at = c.uleb(), form = c.uleb();
        if (at === 0 && form === 0) return d;
        d.attrs.push(at);
        d.forms.push(form);
        d.consts.push(form === DW_FORM.implicit_const ? c.sleb() : 0);
      }
    }
    for (;;) {
      const at = c.uleb(), form = c.uleb();
      if (at === 0 && form === 0) break;
      if (form === DW_FORM.implicit_const) c.sleb();
    }
  }
}

const INTERESTING = new Set<number>([
  DW_AT.name, DW_AT.comp_dir, DW_AT.low_pc, DW_AT.high_pc, DW_AT.ranges,
  DW_AT.str_offsets_base, DW_AT.addr_base, DW_AT.rnglists_base, DW_AT.GNU_addr_base, DW_AT.stmt_list,
]);

/** Read (or skip, when `keep` is false) one attribute value, with readForm. */
function readValue(c: Cursor, form: number, implicitConst: number, u: UnitHeader, asKey: boolean,
  sectionAt: Map<number, number>, keep: boolean): AttrVal | null {
  const num = readForm(c, form, implicitConst, u, asKey, sectionAt);
  if (!keep) return null;
  const f = formInfo.form;
  return { form: f, num: f === DW_FORM.string ? 0 : num, sec: formInfo.sec, str: f === DW_FORM.string ? cstring(c.buf, num) : null };
}

const isStrx = isStrxForm;
const isAddrx = isAddrxForm;

/** Parse the top DIE of a unit. Returns null for units that are not compile/partial/skeleton units. */
export function readCompUnit(ds: DwarfSections, h: UnitHeader, wantRanges: boolean): CompUnit | null {
  if (h.unitType !== 1 && h.unitType !== 3 && h.unitType !== 4) return null;
  const abbrev = ds.get('.debug_abbrev');
  if (!abbrev) throw new DwarfError('.debug_abbrev is missing');
  let probe = Math.min(HEADER_PROBE, h.end - h.dieOffset);
  for (;;) {
    const { data, sectionAt } = ds.infoRange(h.dieOffset, probe);
    try {
      return parseTopDie(ds, h, abbrev.data, new Cursor(data, 0, h.dieOffset), sectionAt, wantRanges);
    } catch (e) {
      if (!(e instanceof DwarfOutOfBounds) || probe >= h.end - h.dieOffset) throw e;
      probe = h.end - h.dieOffset; // top DIE longer than the probe: read the whole unit
    }
  }
}

function parseTopDie(ds: DwarfSections, h: UnitHeader, abbrev: Buffer, c: Cursor,
  sectionAt: Map<number, number>, wantRanges: boolean): CompUnit | null {
  const code = c.uleb();
  if (code === 0) return null;
  if (h.abbrevOffset >= abbrev.length) throw new DwarfError(`abbrev offset 0x${h.abbrevOffset.toString(16)} out of range`);
  let decl: AbbrevDecl | null;
  try {
    decl = findAbbrev(abbrev, h.abbrevOffset, code);
  } catch (e) {
    if (e instanceof DwarfOutOfBounds) throw new DwarfError('.debug_abbrev truncated');
    throw e;
  }
  if (!decl) throw new DwarfError(`abbrev code ${code} not found for unit at 0x${h.offset.toString(16)}`);
  if (decl.tag !== DW_TAG_compile_unit && decl.tag !== DW_TAG_partial_unit && decl.tag !== DW_TAG_skeleton_unit) return null;
  const asKey = !ds.elf.isRel;
  const vals = new Map<number, AttrVal>();
  for (let i = 0; i < decl.attrs.length; i++) {
    const at = decl.attrs[i]!;
    const keep = INTERESTING.has(at);
    const v = readValue(c, decl.forms[i]!, decl.consts[i]!, h, asKey, sectionAt, keep);
    if (v) vals.set(at, v);
  }
  const strOffsetsBase = vals.get(DW_AT.str_offsets_base)?.num ?? (h.offsetSize === 8 ? 16 : 8);
  const addrBase = vals.get(DW_AT.addr_base)?.num ?? vals.get(DW_AT.GNU_addr_base)?.num ?? 8;
  const rnglistsBase = vals.get(DW_AT.rnglists_base)?.num ?? (h.offsetSize === 8 ? 20 : 12);
  let low = vals.get(DW_AT.low_pc);
  if (low && isAddrx(low.form)) low = { form: DW_FORM.addr, str: null, ...addrxEntry(ds, low.num, h, addrBase, asKey) };
  const cu: CompUnit = {
    ...h,
    tag: decl.tag,
    name: resolveString(ds, vals.get(DW_AT.name), h, strOffsetsBase),
    compDir: resolveString(ds, vals.get(DW_AT.comp_dir), h, strOffsetsBase),
    ranges: [],
    stmtList: vals.get(DW_AT.stmt_list)?.num ?? -1,
    strOffsetsBase, addrBase, rnglistsBase,
    lowPc: low ? { num: low.num, sec: low.sec } : null,
  };
  if (wantRanges) {
    const high = vals.get(DW_AT.high_pc);
    const rng = vals.get(DW_AT.ranges);
    if (rng) {
      readRangeList(ds, h, rng.form, rng.num, rnglistsBase, addrBase, low ?? null, cu.ranges);
    } else if (low && high) {
      let end: number, endSec = low.sec;
      if (high.form === DW_FORM.addr) { end = high.num; endSec = high.sec; }
      else if (isAddrx(high.form)) { const r = addrxEntry(ds, high.num, h, addrBase, asKey); end = r.num; endSec = r.sec; }
      else end = low.num + high.num;
      if (endSec === low.sec && end > low.num) cu.ranges.push({ sec: low.sec, start: low.num, end });
    }
  }
  return cu;
}

/** A string attribute's value (string, strp, line_strp, strx forms); null when it cannot be read. */
export function resolveString(ds: DwarfSections, v: AttrVal | undefined, h: UnitHeader, strOffsetsBase: number): string | null {
  if (!v) return null;
  if (v.form === DW_FORM.string) return v.str;
  return formString(ds, v.form, v.num, h, strOffsetsBase);
}

/** The string a strp / line_strp / strx-form value names; null when it cannot be read. */
export function formString(ds: DwarfSections, form: number, num: number, h: { offsetSize: 4 | 8 }, strOffsetsBase: number): string | null {
  if (form === DW_FORM.strp) return ds.string('.debug_str', num);
  if (form === DW_FORM.line_strp) return ds.string('.debug_line_str', num);
  if (isStrx(form)) {
    const so = ds.get('.debug_str_offsets');
    if (!so) return null;
    const at = strOffsetsBase + num * h.offsetSize;
    if (at + h.offsetSize > so.data.length) return null;
    const c = new Cursor(so.data, at);
    return ds.string('.debug_str', c.off(h.offsetSize));
  }
  return null; // strp_sup / GNU_strp_alt: supplementary file not available
}
