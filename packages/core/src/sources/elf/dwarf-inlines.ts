/**
 * The functions of one compile unit and, on demand, the inline tree of one of them: the way
 * gimli-rs/addr2line stays fast. A first walk reads the unit's DIEs for DW_TAG_subprogram
 * address ranges only, jumping over every subtree that has a DW_AT_sibling (types, and the body
 * of each function); the DW_TAG_inlined_subroutine tree of a function is read when an address
 * in it is asked about.
 */
import { RangeIndex } from './range-index.js';
import { cstring } from './elf-file.js';
import type { DwarfSections } from './dwarf-sections.js';
import { abbrevTable, fixedLayout, type AbbrevTable } from './dwarf-abbrev.js';
import {
  Cursor, DW_AT, DW_FORM, DW_TAG_inlined_subroutine, DW_TAG_subprogram, DwarfError, DwarfOutOfBounds, formInfo, isAddrxForm, readForm,
} from './dwarf-reader.js';
import { readRangeList, resolveAddrx, type RawRange } from './dwarf-ranges.js';
import { formString, type CompUnit } from './dwarf-units.js';

const EMPTY_F64 = new Float64Array(0), EMPTY_I32 = new Int32Array(0);

/** Whether one of `ranges` holds (sec, addr). */
function holds(ranges: RawRange[], sec: number, addr: number): boolean {
  for (const r of ranges) if (r.sec === sec && addr >= r.start && addr < r.end) return true;
  return false;
}

/** Smallest key of a DWARF tombstone (-2 / -1) in a linked file. */
const TOMBSTONE_KEY = (0xffffffff - 0xffff0000) * 4294967296 + 0xfffffffe + 2 ** 48;

/** One inlined_subroutine: its ranges, where it was called from, its parent in the tree (-1: the function). */
export interface InlineNode { die: number; ranges: RawRange[]; callFile: number; callLine: number; callColumn: number; parent: number }

/** What a unit's walk yields. Offsets are .debug_info offsets. */
export class UnitFunctions {
  /**
   * One entry per range of a function, sorted by (sec, start); `subtreeEnd`: where the function's
   * DIE subtree ends (its sibling; the unit's end when it has none). Typed arrays: every unit
   * asked about keeps them, and the young-generation GC copies arrays of numbers but not these.
   */
  start = EMPTY_F64;
  end = EMPTY_F64;
  sec = EMPTY_I32;
  die = EMPTY_F64;
  subtreeEnd = EMPTY_F64;
  /** the function ranges flattened (values: entry indices) */
  rangeIndex = RangeIndex.EMPTY;
  /** the whole unit's bytes while an index is built (at() then reads nothing) */
  private bytes: Buffer | null = null;
  private readonly inlines = new Map<number, InlineNode[]>();
  private abbrevTable: AbbrevTable | null;
  readonly asKey: boolean;
  private sectionAt: Map<number, number>;

  /**
   * Walks the unit's bytes once (`info`, the whole unit, is not kept: a function's subtree and a
   * name's DIE are read again when asked for, so that the functions of every unit fit in memory).
   */
  constructor(readonly ds: DwarfSections, readonly cu: CompUnit, info: Buffer, sectionAt: Map<number, number>) {
    this.abbrevTable = null;
    this.asKey = !ds.elf.isRel;
    this.sectionAt = sectionAt;
    this.walk(new Cursor(info, cu.dieOffset - cu.offset, cu.offset));
  }

  /** The unit's abbreviations, parsed on first use. */
  private get abbrevs(): AbbrevTable {
    if (this.abbrevTable) return this.abbrevTable;
    const abbrev = this.ds.get('.debug_abbrev');
    if (!abbrev) throw new DwarfError('.debug_abbrev is missing');
    return (this.abbrevTable = abbrevTable(abbrev.data, this.cu.abbrevOffset));
  }

  /**
   * Drop what can be made again: the inline trees read. The function ranges and the (shared)
   * abbreviations stay.
   */
  compact(): void {
    this.inlines.clear();
  }

  /** Keep the unit's bytes (from its first DIE offset) for the reads that follow, or drop them (null). */
  useBytes(info: Buffer | null, sectionAt?: Map<number, number>): void {
    this.bytes = info;
    if (sectionAt) this.sectionAt = sectionAt;
  }

  /** Cursor at a .debug_info offset of this unit, over at least `len` bytes (clipped to the unit). */
  private at(off: number, len: number): Cursor {
    if (this.bytes) {
      const p = off - this.cu.offset;
      return new Cursor(this.bytes.subarray(p, Math.min(p + len, this.bytes.length)), 0, off);
    }
    const { data, sectionAt } = this.ds.infoRange(off, Math.min(len, this.cu.end - off));
    this.sectionAt = sectionAt;
    return new Cursor(data, 0, off);
  }

  private walk(c: Cursor): void {
    const buf = c.buf, end = buf.length;
    const rs: number[] = [], rStart: number[] = [], rEnd: number[] = [], rDie: number[] = [], rSub: number[] = [];
    const nDie: number[] = [], nInfo: number[] = [];
    const abbrevs = this.abbrevs;
    const { offsetSize, addrSize, version } = this.cu;
    const layout = offsetSize * 1000 + addrSize * 10 + version; // fixedLayout's key
    let depth = 0;
    // a unit's every top-level DIE passes here: the code's one-byte LEB128 read in place, the
    // abbreviation table and the layout key held in locals
    while (c.pos < end) {
      const dieOff = c.base + c.pos;
      const b0 = buf[c.pos]!;
      let code: number;
      if (b0 < 0x80) { code = b0; c.pos++; } else code = c.uleb();
      if (code === 0) { if (--depth <= 0) break; continue; }
      const d = abbrevs.get(code);
      let sibling = -1;
      if (d.tag === DW_TAG_subprogram && !d.bare) {
        const rr = this.ranges(c, d.attrs, d.forms, d.consts);
        sibling = this.last.sibling;
        const sub = sibling > dieOff ? sibling : this.cu.end;
        for (const x of rr) { rs.push(x.sec); rStart.push(x.start); rEnd.push(x.end); rDie.push(dieOff); rSub.push(sub); }
        const l = this.last;
        // a DW_FORM_string name is in the DIE's own bytes: such a DIE is read again when asked
        if ((rr.length || !l.declaration) && l.nameForm !== DW_FORM.string && l.linkForm !== DW_FORM.string) {
          nDie.push(dieOff); nInfo.push(l.nameForm, l.nameVal, l.linkForm, l.linkVal, l.ref);
        }
      } else {
        if (d.fixedFor !== layout) fixedLayout(d, offsetSize, addrSize, version);
        if (d.fixed >= 0 && (d.sibling < 0 || d.siblingAt >= 0)) {
          if (d.sibling >= 0) {
            const p = c.pos, form = d.forms[d.sibling]!;
            c.pos += d.siblingAt;
            sibling = this.ref(form, readForm(c, form, 0, this.cu, this.asKey, this.sectionAt));
            c.pos = p;
          }
          if (c.pos + d.fixed > end) throw new DwarfOutOfBounds();
          c.pos += d.fixed;
        } else {
          for (let i = 0; i < d.attrs.length; i++) {
            const v = readForm(c, d.forms[i]!, d.consts[i]!, this.cu, this.asKey, this.sectionAt);
            if (i === d.sibling) sibling = this.ref(formInfo.form, v);
          }
        }
      }
      if (d.hasChildren) {
        if (sibling > dieOff && depth > 0) c.pos = sibling - c.base; // the subtree skipped
        else depth++;
      }
    }
    const cmp = (a: number, b: number) => rs[a]! - rs[b]! || rStart[a]! - rStart[b]! || rEnd[a]! - rEnd[b]!;
    let sorted = true; // most units list their functions in address order: no sort then (a stable sort would keep it)
    for (let i = 1; i < rs.length && sorted; i++) sorted = cmp(i - 1, i) <= 0;
    if (nDie.length) { this.nameDies = Float64Array.from(nDie); this.nameInfo = Float64Array.from(nInfo); }
    const n = rs.length;
    if (n === 0) return;
    const order = sorted ? null : rs.map((_, i) => i).sort(cmp);
    this.sec = new Int32Array(n); this.start = new Float64Array(n); this.end = new Float64Array(n);
    this.die = new Float64Array(n); this.subtreeEnd = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = order ? order[k]! : k;
      this.sec[k] = rs[i]!; this.start[k] = rStart[i]!; this.end[k] = rEnd[i]!; this.die[k] = rDie[i]!; this.subtreeEnd[k] = rSub[i]!;
    }
    this.rangeIndex = RangeIndex.of(this.sec, this.start, this.end);
  }

  /** A reference attribute's .debug_info offset. */
  ref(form: number, v: number): number {
    return form === DW_FORM.ref_addr ? v : this.cu.offset + v;
  }

  /**
   * Of the DIE ranges() read last (-1: absent): sibling, call_file, call_line, call_column,
   * abstract_origin; its name's and linkage name's form and value, the first of abstract_origin
   * and specification (`ref`), whether it is a declaration.
   */
  private readonly last = {
    sibling: -1, callFile: -1, callLine: -1, callColumn: -1, origin: -1,
    nameForm: 0, nameVal: 0, linkForm: 0, linkVal: 0, ref: -1, declaration: false,
  };
  /**
   * The unit's subprogram DIEs but declarations, by offset (the walk's order), with what names
   * them: nameAt reads no DIE for them (each name of a lookup's frames was a read of its own).
   */
  private nameDies = EMPTY_F64;
  private nameInfo = EMPTY_F64; // per DIE: nameForm, nameVal, linkForm, linkVal, ref
  /** what ranges() returns, the same array each time (one per subprogram DIE of every walk made most of its garbage) */
  private readonly rangeOut: RawRange[] = [];

  /** The ranges of the DIE whose attributes start at c (low/high_pc or DW_AT_ranges): valid until the next call. */
  private ranges(c: Cursor, attrs: number[], forms: number[], consts: number[]): RawRange[] {
    let low = -1, lowSec = -1, lowForm = 0, high = -1, highForm = 0, highSec = -1, rng = -1, rngForm = 0, sibling = -1;
    const other = this.last;
    other.sibling = other.callFile = other.callLine = other.callColumn = other.origin = other.ref = -1;
    other.nameForm = other.linkForm = 0; other.declaration = false;
    for (let i = 0; i < attrs.length; i++) {
      const at = attrs[i]!;
      const v = readForm(c, forms[i]!, consts[i]!, this.cu, this.asKey, this.sectionAt);
      const f = formInfo.form;
      if (at === DW_AT.low_pc) { low = v; lowSec = formInfo.sec; lowForm = f; }
      else if (at === DW_AT.high_pc) { high = v; highForm = f; highSec = formInfo.sec; }
      else if (at === DW_AT.ranges) { rng = v; rngForm = f; }
      else if (at === DW_AT.sibling) sibling = this.ref(f, v);
      else if (at === DW_AT.call_file) other.callFile = v;
      else if (at === DW_AT.call_line) other.callLine = v;
      else if (at === DW_AT.call_column) other.callColumn = v;
      else if (at === DW_AT.abstract_origin) { other.origin = this.ref(f, v); if (other.ref < 0) other.ref = other.origin; }
      else if (at === DW_AT.name) { other.nameForm = f; other.nameVal = v; }
      else if (at === DW_AT.linkage_name || at === DW_AT.MIPS_linkage_name) { other.linkForm = f; other.linkVal = v; }
      else if (at === DW_AT.specification) { if (other.ref < 0) other.ref = this.ref(f, v); }
      else if (at === DW_AT.declaration) other.declaration = v !== 0;
    }
    const out = this.rangeOut;
    out.length = 0;
    other.sibling = sibling;
    const cu = this.cu;
    if (rng >= 0) {
      readRangeList(this.ds, cu, rngForm, rng, cu.rnglistsBase, cu.addrBase, cu.lowPc, out);
    } else if (low >= 0 && high >= 0) {
      if (isAddrxForm(lowForm)) { const a = resolveAddrx(this.ds, low, cu, cu.addrBase, this.asKey); low = a.num; lowSec = a.sec; }
      let e: number;
      if (highForm === DW_FORM.addr) e = high;
      else if (isAddrxForm(highForm)) { const a = resolveAddrx(this.ds, high, cu, cu.addrBase, this.asKey); e = a.num; highSec = a.sec; }
      else { e = low + high; highSec = lowSec; }
      if (highSec === lowSec && e > low) out.push({ sec: lowSec, start: low, end: e });
    }
    let k = 0;
    for (let i = 0; i < out.length; i++) {
      const r = out[i]!;
      if (this.asKey ? r.start !== 0 && r.start < TOMBSTONE_KEY : r.sec >= 0 || this.sectionAt.size === 0) out[k++] = r;
    }
    out.length = k;
    return out;
  }

  /** Entry index of the function range containing (sec, addr), the innermost (last starting) one; -1 when none. */
  functionAt(sec: number, addr: number): number {
    return this.rangeIndex.at(sec, addr);
  }

  /** The inline tree of the function whose DIE is at `die` and whose subtree ends before `end` (read once). */
  inlineTree(die: number, end: number): InlineNode[] {
    const hit = this.inlines.get(die);
    if (hit) return hit;
    const out: InlineNode[] = [];
    const c = this.at(die, end - die);
    const stack: number[] = []; // per open DIE with children: the inline node it is, or the enclosing one
    let cur = -1;
    const first = this.abbrevs.get(c.uleb());
    for (let i = 0; i < first.attrs.length; i++) readForm(c, first.forms[i]!, first.consts[i]!, this.cu, this.asKey, this.sectionAt);
    if (first.hasChildren) {
      while (c.pos < c.buf.length) {
        const dieOff = c.base + c.pos;
        const code = c.uleb();
        if (code === 0) { if (stack.length === 0) break; cur = stack.pop()!; continue; }
        const d = this.abbrevs.get(code);
        let me = cur;
        if (d.tag === DW_TAG_inlined_subroutine) {
          const r = this.ranges(c, d.attrs, d.forms, d.consts);
          me = out.length;
          const l = this.last;
          out.push({
            die: l.origin >= 0 ? l.origin : dieOff, ranges: r.slice(), parent: cur,
            callFile: Math.max(0, l.callFile), callLine: Math.max(0, l.callLine), callColumn: Math.max(0, l.callColumn),
          });
        } else {
          fixedLayout(d, this.cu.offsetSize, this.cu.addrSize, this.cu.version);
          if (d.fixed >= 0) c.skip(d.fixed);
          else for (let i = 0; i < d.attrs.length; i++) readForm(c, d.forms[i]!, d.consts[i]!, this.cu, this.asKey, this.sectionAt);
        }
        if (d.hasChildren) { stack.push(cur); cur = me; }
      }
    }
    this.inlines.set(die, out);
    return out;
  }

  /**
   * The inline chain of (sec, addr) in the function whose DIE is at `die` (subtree ending before
   * `end`), outermost first: what filtering inlineTree's nodes by containment gives (at each
   * level the first node under the chain so far whose ranges hold the address), without the
   * rest of the tree: the subtree of an inlined_subroutine that does not hold the address is
   * stepped over (by its DW_AT_sibling), as nothing in it can be on the chain.
   */
  inlineChain(die: number, end: number, sec: number, addr: number): InlineNode[] {
    const tree = this.inlines.get(die);
    if (tree) {
      const chain: InlineNode[] = [];
      let parent = -1;
      for (let i = 0; i < tree.length; i++) {
        const n = tree[i]!;
        if (n.parent === parent && holds(n.ranges, sec, addr)) { chain.push(n); parent = i; }
      }
      return chain;
    }
    const chain: InlineNode[] = [];
    const c = this.at(die, end - die);
    const abbrevs = this.abbrevs;
    const first = abbrevs.get(c.uleb());
    for (let i = 0; i < first.attrs.length; i++) readForm(c, first.forms[i]!, first.consts[i]!, this.cu, this.asKey, this.sectionAt);
    if (!first.hasChildren) return chain;
    let depth = 1, tipDepth = 1; // depth of the DIEs read next; of the children of the chain's last node
    while (c.pos < c.buf.length) {
      const dieOff = c.base + c.pos;
      const code = c.uleb();
      if (code === 0) { if (--depth < tipDepth) break; continue; }
      const d = abbrevs.get(code);
      if (d.tag === DW_TAG_inlined_subroutine) {
        const r = this.ranges(c, d.attrs, d.forms, d.consts);
        const l = this.last;
        if (holds(r, sec, addr)) {
          chain.push({
            die: l.origin >= 0 ? l.origin : dieOff, ranges: r.slice(), parent: chain.length - 1,
            callFile: Math.max(0, l.callFile), callLine: Math.max(0, l.callLine), callColumn: Math.max(0, l.callColumn),
          });
          if (!d.hasChildren) break;
          tipDepth = ++depth;
          continue;
        }
        if (d.hasChildren) {
          if (l.sibling > dieOff) c.pos = l.sibling - c.base;
          else depth = this.skipChildren(c, depth);
        }
        continue;
      }
      if (d.fixedFor !== this.layoutKey) fixedLayout(d, this.cu.offsetSize, this.cu.addrSize, this.cu.version);
      if (d.fixed >= 0) c.skip(d.fixed);
      else for (let i = 0; i < d.attrs.length; i++) readForm(c, d.forms[i]!, d.consts[i]!, this.cu, this.asKey, this.sectionAt);
      if (d.hasChildren) depth++;
    }
    return chain;
  }

  /** Read past the children of the DIE just read (it has no sibling attribute); the depth after them. */
  private skipChildren(c: Cursor, depth: number): number {
    let n = 1;
    while (n > 0 && c.pos < c.buf.length) {
      const code = c.uleb();
      if (code === 0) { n--; continue; }
      const d = this.abbrevs.get(code);
      for (let i = 0; i < d.attrs.length; i++) readForm(c, d.forms[i]!, d.consts[i]!, this.cu, this.asKey, this.sectionAt);
      if (d.hasChildren) n++;
    }
    return depth;
  }

  private get layoutKey(): number { return this.cu.offsetSize * 1000 + this.cu.addrSize * 10 + this.cu.version; }

  /** The name of the DIE at `off` in this unit: DW_AT_name, else its abstract_origin's or specification's. */
  nameAt(off: number, resolveElsewhere: (off: number) => string | null, depth = 0): string | null {
    if (off < this.cu.offset || off >= this.cu.end) return resolveElsewhere(off);
    const k = this.walkedName(off);
    if (k >= 0) {
      const info = this.nameInfo, j = 5 * k;
      const name = (info[j] ? this.text(info[j]!, info[j + 1]!) : null) ?? (info[j + 2] ? this.text(info[j + 2]!, info[j + 3]!) : null);
      if (name !== null) return name;
      const ref = info[j + 4]!;
      return ref >= 0 && depth < 8 ? this.nameAt(ref, resolveElsewhere, depth + 1) : null;
    }
    let r: { name: string | null; origin: number };
    try { r = this.nameDie(this.at(off, 512)); } catch (e) {
      if (!(e instanceof DwarfOutOfBounds)) throw e;
      r = this.nameDie(this.at(off, this.cu.end - off)); // a DIE longer than the window
    }
    if (r.name !== null) return r.name;
    if (r.origin >= 0 && depth < 8) return this.nameAt(r.origin, resolveElsewhere, depth + 1);
    return null;
  }

  /** Index of the walked subprogram DIE at `off` in nameDies, -1 when it is none of them. */
  private walkedName(off: number): number {
    const a = this.nameDies;
    let lo = 0, hi = a.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, v = a[m]!;
      if (v === off) return m;
      if (v < off) lo = m + 1; else hi = m - 1;
    }
    return -1;
  }

  /** A name attribute's string (not DW_FORM_string: those DIEs are not in nameDies). */
  private text(form: number, v: number): string | null {
    return formString(this.ds, form, v, this.cu, this.cu.strOffsetsBase);
  }

  /** The DIE at c: its name (DW_AT_name, else a linkage name) and its abstract_origin/specification. */
  private nameDie(c: Cursor): { name: string | null; origin: number } {
    const d = this.abbrevs.get(c.uleb());
    let name: string | null = null, linkage: string | null = null, origin = -1;
    for (let i = 0; i < d.attrs.length; i++) {
      const at = d.attrs[i]!;
      const v = readForm(c, d.forms[i]!, d.consts[i]!, this.cu, this.asKey, this.sectionAt);
      const f = formInfo.form;
      if (at === DW_AT.name || at === DW_AT.linkage_name || at === DW_AT.MIPS_linkage_name) {
        const s = f === DW_FORM.string ? cstring(c.buf, v) : formString(this.ds, f, v, this.cu, this.cu.strOffsetsBase);
        if (at === DW_AT.name) name = s; else linkage = s;
      } else if ((at === DW_AT.abstract_origin || at === DW_AT.specification) && origin < 0) origin = this.ref(f, v);
    }
    return { name: name ?? linkage, origin };
  }
}
