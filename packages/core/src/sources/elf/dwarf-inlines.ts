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

/** Smallest key of a DWARF tombstone (-2 / -1) in a linked file. */
const TOMBSTONE_KEY = (0xffffffff - 0xffff0000) * 4294967296 + 0xfffffffe + 2 ** 48;

/** One inlined_subroutine: its ranges, where it was called from, its parent in the tree (-1: the function). */
export interface InlineNode { die: number; ranges: RawRange[]; callFile: number; callLine: number; callColumn: number; parent: number }

/** What a unit's walk yields. Offsets are .debug_info offsets. */
export class UnitFunctions {
  /** one entry per range of a function: sorted by (sec, start) */
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly sec: number[] = [];
  readonly die: number[] = [];
  /** the function ranges flattened (values: entry indices) */
  rangeIndex = RangeIndex.EMPTY;
  /** the whole unit's bytes while an index is built (at() then reads nothing) */
  private bytes: Buffer | null = null;
  /** function DIE offset → the offset its subtree ends at (its sibling; the unit's end when it has none) */
  private readonly dieEnd = new Map<number, number>();
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
  useBytes(info: Buffer | null, sectionAt: Map<number, number>): void {
    this.bytes = info;
    this.sectionAt = sectionAt;
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
    const end = c.buf.length;
    const rs: number[] = [], rStart: number[] = [], rEnd: number[] = [], rDie: number[] = [];
    let depth = 0;
    while (c.pos < end) {
      const dieOff = c.base + c.pos;
      const code = c.uleb();
      if (code === 0) { if (--depth <= 0) break; continue; }
      const d = this.abbrevs.get(code);
      let sibling = -1;
      if (d.tag === DW_TAG_subprogram) {
        const r = this.ranges(c, d.attrs, d.forms, d.consts);
        sibling = r.sibling;
        if (r.ranges.length) this.dieEnd.set(dieOff, sibling > dieOff ? sibling : this.cu.end);
        for (const x of r.ranges) { rs.push(x.sec); rStart.push(x.start); rEnd.push(x.end); rDie.push(dieOff); }
      } else {
        fixedLayout(d, this.cu.offsetSize, this.cu.addrSize, this.cu.version);
        if (d.fixed >= 0 && (d.sibling < 0 || d.siblingAt >= 0)) {
          if (d.sibling >= 0) {
            const p = c.pos, form = d.forms[d.sibling]!;
            c.pos += d.siblingAt;
            sibling = this.ref(form, readForm(c, form, 0, this.cu, this.asKey, this.sectionAt));
            c.pos = p;
          }
          c.skip(d.fixed);
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
    const order = sorted ? rs.map((_, i) => i) : rs.map((_, i) => i).sort(cmp);
    for (const i of order) { this.sec.push(rs[i]!); this.start.push(rStart[i]!); this.end.push(rEnd[i]!); this.die.push(rDie[i]!); }
    this.rangeIndex = RangeIndex.of(this.sec, this.start, this.end);
  }

  /** A reference attribute's .debug_info offset. */
  ref(form: number, v: number): number {
    return form === DW_FORM.ref_addr ? v : this.cu.offset + v;
  }

  /** The ranges of the DIE whose attributes start at c (low/high_pc or DW_AT_ranges), and its sibling. */
  /** call_file, call_line, call_column, abstract_origin of the DIE ranges() read last (-1: absent) */
  private readonly last = { callFile: -1, callLine: -1, callColumn: -1, origin: -1 };

  private ranges(c: Cursor, attrs: number[], forms: number[], consts: number[]): { ranges: RawRange[]; sibling: number } {
    let low = -1, lowSec = -1, lowForm = 0, high = -1, highForm = 0, highSec = -1, rng = -1, rngForm = 0, sibling = -1;
    const other = this.last;
    other.callFile = other.callLine = other.callColumn = other.origin = -1;
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
      else if (at === DW_AT.abstract_origin) other.origin = this.ref(f, v);
    }
    const out: RawRange[] = [];
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
    const kept = this.asKey ? out.filter((r) => r.start !== 0 && r.start < TOMBSTONE_KEY) : out.filter((r) => r.sec >= 0 || this.sectionAt.size === 0);
    return { ranges: kept, sibling };
  }

  /** Entry index of the function range containing (sec, addr), the innermost (last starting) one; -1 when none. */
  functionAt(sec: number, addr: number): number {
    return this.rangeIndex.at(sec, addr);
  }

  /** The inline tree of the function whose DIE is at `die` (read once). */
  inlineTree(die: number): InlineNode[] {
    const hit = this.inlines.get(die);
    if (hit) return hit;
    const out: InlineNode[] = [];
    const c = this.at(die, (this.dieEnd.get(die) ?? this.cu.end) - die);
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
            die: l.origin >= 0 ? l.origin : dieOff, ranges: r.ranges, parent: cur,
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

  /** The name of the DIE at `off` in this unit: DW_AT_name, else its abstract_origin's or specification's. */
  nameAt(off: number, resolveElsewhere: (off: number) => string | null, depth = 0): string | null {
    if (off < this.cu.offset || off >= this.cu.end) return resolveElsewhere(off);
    let r: { name: string | null; origin: number };
    try { r = this.nameDie(this.at(off, 512)); } catch (e) {
      if (!(e instanceof DwarfOutOfBounds)) throw e;
      r = this.nameDie(this.at(off, this.cu.end - off)); // a DIE longer than the window
    }
    if (r.name !== null) return r.name;
    if (r.origin >= 0 && depth < 8) return this.nameAt(r.origin, resolveElsewhere, depth + 1);
    return null;
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
