/**
 * A unit's whole abbreviation table, parsed once, for walks over every DIE of a unit (source
 * lines); dwarf-units.ts reads only the top DIE's declaration.
 */
import { Cursor, DW_AT, DW_FORM, DwarfError, DwarfOutOfBounds } from './dwarf-reader.js';

export interface AbbrevDecl {
  tag: number;
  hasChildren: boolean;
  attrs: number[];
  forms: number[];
  consts: number[];
  /** position of DW_AT_sibling in attrs, -1 when the DIE has none */
  sibling: number;
  /** bytes of all attribute values when every form has a fixed size (-1: some form has not), for the unit sizes in fixedFor */
  fixed: number;
  /** byte offset of the DW_AT_sibling value within them (-1: none, or after a variable-size form) */
  siblingAt: number;
  fixedFor: number;
  /** a subprogram that has no address (no low_pc, no ranges) and is a declaration (flag_present): nothing a walk keeps */
  bare: boolean;
}

/** Size of a form's value in a unit with these offset and address sizes; -1 when it varies. */
function formSize(form: number, offsetSize: number, addrSize: number, version: number): number {
  switch (form) {
    case DW_FORM.addr: return addrSize;
    case DW_FORM.data1: case DW_FORM.ref1: case DW_FORM.flag: case DW_FORM.strx1: case DW_FORM.addrx1: return 1;
    case DW_FORM.data2: case DW_FORM.ref2: case DW_FORM.strx2: case DW_FORM.addrx2: return 2;
    case DW_FORM.strx3: case DW_FORM.addrx3: return 3;
    case DW_FORM.data4: case DW_FORM.ref4: case DW_FORM.ref_sup4: case DW_FORM.strx4: case DW_FORM.addrx4: return 4;
    case DW_FORM.data8: case DW_FORM.ref8: case DW_FORM.ref_sig8: case DW_FORM.ref_sup8: return 8;
    case DW_FORM.data16: return 16;
    case DW_FORM.strp: case DW_FORM.line_strp: case DW_FORM.sec_offset: case DW_FORM.strp_sup:
    case DW_FORM.GNU_ref_alt: case DW_FORM.GNU_strp_alt: return offsetSize;
    case DW_FORM.ref_addr: return version <= 2 ? addrSize : offsetSize;
    case DW_FORM.flag_present: case DW_FORM.implicit_const: return 0;
    default: return -1;
  }
}

/**
 * Fill d.fixed / d.siblingAt for a unit's sizes (once per declaration: a kernel's units all have
 * the same), so that a walk steps over a DIE whose values it does not need in one addition.
 */
export function fixedLayout(d: AbbrevDecl, offsetSize: number, addrSize: number, version: number): void {
  const key = offsetSize * 1000 + addrSize * 10 + version;
  if (d.fixedFor === key) return;
  let n = 0, sib = -1;
  for (let i = 0; i < d.forms.length; i++) {
    if (i === d.sibling) sib = n;
    const z = formSize(d.forms[i]!, offsetSize, addrSize, version);
    if (z < 0) { n = -1; break; }
    n += z;
  }
  d.fixed = n;
  d.siblingAt = d.sibling < 0 ? -1 : sib >= 0 || d.sibling === 0 ? sib : -1;
  d.fixedFor = key;
}

/** code → declaration (codes are dense from 1 in what compilers emit; a Map for the others) */
export class AbbrevTable {
  private readonly dense: (AbbrevDecl | undefined)[] = [];
  private readonly sparse = new Map<number, AbbrevDecl>();

  get(code: number): AbbrevDecl {
    const d = code < 4096 ? this.dense[code] : this.sparse.get(code);
    if (!d) throw new DwarfError(`abbrev code ${code} not in its table`);
    return d;
  }

  set(code: number, d: AbbrevDecl): void {
    if (code < 4096) this.dense[code] = d;
    else this.sparse.set(code, d);
  }
}

/**
 * Declarations by their bytes (tag, children, attribute specs): a kernel's units each have a
 * table of their own, mostly of the same declarations (one object each instead of ~150 MB of
 * copies for a vmlinux's units). Keyed by a hash of the bytes, each candidate compared byte for
 * byte with where it was first read: a table read makes no object for a declaration seen before
 * (building strings as keys was a third of reading the tables, and most of their garbage).
 */
interface Interned { d: AbbrevDecl; buf: Buffer; start: number; end: number }
const interned = new Map<number, Interned | Interned[]>();
let internedCount = 0;

function sameBytes(a: Buffer, as: number, ae: number, b: Buffer, bs: number): boolean {
  for (let i = as, j = bs; i < ae; i++, j++) if (a[i] !== b[j]) return false;
  return true;
}

function lookup(h: number, buf: Buffer, start: number, end: number): AbbrevDecl | null {
  const e = interned.get(h);
  if (e === undefined) return null;
  const len = end - start;
  if (!Array.isArray(e)) return e.end - e.start === len && sameBytes(buf, start, end, e.buf, e.start) ? e.d : null;
  for (const x of e) if (x.end - x.start === len && sameBytes(buf, start, end, x.buf, x.start)) return x.d;
  return null;
}

function remember(h: number, x: Interned): void {
  if (internedCount >= 1 << 20) return;
  internedCount++;
  const e = interned.get(h);
  if (e === undefined) interned.set(h, x);
  else if (Array.isArray(e)) e.push(x);
  else interned.set(h, [e, x]);
}

/** The table at `off` of .debug_abbrev (kept by its unit; its declarations shared). */
export function abbrevTable(abbrev: Buffer, off: number): AbbrevTable {
  const t = new AbbrevTable();
  const c = new Cursor(abbrev, off);
  try {
    for (;;) {
      const code = c.uleb();
      if (code === 0) break;
      // the declaration's extent and hash first: (tag, children, then (at, form[, const]) pairs up to (0, 0))
      const start = c.pos;
      c.uleb(); c.u8();
      for (;;) {
        const at = c.uleb(), form = c.uleb();
        if (at === 0 && form === 0) break;
        if (form === DW_FORM.implicit_const) c.sleb();
      }
      const end = c.pos;
      let h = 0x811c9dc5;
      for (let i = start; i < end; i++) h = Math.imul(h ^ abbrev[i]!, 0x01000193);
      const have = lookup(h, abbrev, start, end);
      if (have) { t.set(code, have); continue; }
      c.pos = start;
      const tag = c.uleb();
      const hasChildren = c.u8() !== 0;
      const d: AbbrevDecl = { tag, hasChildren, attrs: [], forms: [], consts: [], sibling: -1, fixed: -1, siblingAt: -1, fixedFor: -1, bare: false };
      let declaration = false, pc = false;
      for (;;) {
        const at = c.uleb(), form = c.uleb();
        if (at === 0 && form === 0) break;
        if (at === DW_AT.sibling) d.sibling = d.attrs.length;
        if (at === DW_AT.declaration && form === DW_FORM.flag_present) declaration = true;
        if (at === DW_AT.low_pc || at === DW_AT.ranges) pc = true;
        d.attrs.push(at);
        d.forms.push(form);
        d.consts.push(form === DW_FORM.implicit_const ? c.sleb() : 0);
      }
      d.bare = declaration && !pc;
      remember(h, { d, buf: abbrev, start, end });
      t.set(code, d);
    }
  } catch (e) {
    if (e instanceof DwarfOutOfBounds) throw new DwarfError('.debug_abbrev truncated');
    throw e;
  }
  return t;
}
