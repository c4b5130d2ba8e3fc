/**
 * Source lines and inline frames of addresses in one vmlinux or .ko, from its DWARF: which unit
 * holds an address (aranges, else the units' ranges), then that unit's functions, its line
 * program and the inline tree of the one function asked about, each read on first use and kept
 * in a bounded cache (a whole vmlinux's line rows would not fit the memory budget). A big run
 * over a vmlinux writes its line index (line-index.ts) and answers from it from then on, as every
 * later run over that build does.
 */
import { RangeIndex } from './range-index.js';
import { closeSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KallmodError } from '../../errors.js';
import { readSourceFile } from '../read-file.js';
import { readAranges } from './aranges.js';
import { DwarfOutOfBounds, DwarfError } from './dwarf-reader.js';
import { UnitFunctions } from './dwarf-inlines.js';
import { discriminatorFrom, lineDiscriminator, lineRowAt, readLineTable, type LineTable } from './dwarf-line.js';
import { DwarfSections } from './dwarf-sections.js';
import { readCompUnit, readUnitHeaders, type UnitHeader } from './dwarf-units.js';
import { ElfFile, SHT_NOBITS } from './elf-file.js';
import { isCompressedMagic } from './elf-object.js';
import { gnuBuildId } from '../../kernel/identity.js';
import { readSymbols, symbols as symbolsOf, type ElfSymbol } from './symtab.js';
import { encodeUnit, LineIndex, LineIndexUnusable, LineIndexWriter, type IndexIdentity, type UnitLines } from './line-index.js';

/** One frame of an address, innermost first: the inlined function, then who inlined it, ..., the real function. */
export interface SourceFrame {
  /** function name (null when no DWARF function covers the address) */
  name: string | null;
  /** path relative to the kernel tree (the unit's comp_dir stripped), null when unknown */
  file: string | null;
  /** 0 when unknown */
  line: number;
  column: number;
  /**
   * The line row's DW_LNE_set_discriminator, 0 when none: on the innermost frame only (the row
   * is the address's; the outer frames' call sites carry none in this DWARF).
   */
  discriminator: number;
}

/**
 * Line rows kept (RSS budget: 500 MB on a distro vmlinux, whose units' rows would take ~200 MB);
 * the functions of every unit asked about are kept (a few MB for a whole vmlinux).
 */
const CACHE_BYTES = 128 << 20;
/** Units whose inline trees stay parsed. */
const RECENT_UNITS = 64;

/** Where and when a linked file's line index (line-index.ts) is used. */
export interface LineIndexOptions {
  /** the cache base directory: the index is DIR/BUILD-ID/lines.index; null: no index */
  dir: string | null;
  /** build it in the run that has parsed this many units (default BUILD_AFTER_UNITS) */
  buildAfterUnits?: number;
  /** only for files with at least this much .debug_info (default MIN_INDEXED_INFO) */
  minInfoBytes?: number;
  /** a one-line warning: the index was damaged, or could not be written */
  warn?: (file: string, message: string) => void;
  /** said when the index is built (the CLI: on a TTY only) */
  progress?: (message: string) => void;
}

/**
 * A run that has read this many units of a vmlinux (of ~2,400 in a distro one; ~0.3 s of lazy
 * parsing) is a big one (a profile, a long trace): it pays the index (every unit, ~3-4 s) once,
 * and every later run over that build starts from it. An oops decode (tens of frames) stays lazy.
 */
export const BUILD_AFTER_UNITS = 256;
/** Files smaller than this (modules, test programs) are parsed lazily in well under a second: no index. */
export const MIN_INDEXED_INFO = 32 << 20;

/** Path relative to the kernel tree: without the unit's build directory (as decode_stacktrace.sh strips it). */
export function treeRelative(path: string, compDir: string | null): string {
  let p = path;
  if (compDir) {
    const d = compDir.endsWith('/') ? compDir : compDir + '/';
    if (p.startsWith(d)) p = p.slice(d.length);
  }
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}

export class SourceLines {
  readonly path: string;
  readonly elf: ElfFile;
  private readonly ds: DwarfSections;
  private headers: UnitHeader[] | null = null;
  /** unit ranges sorted by (sec, start): parallel arrays, unit = index into headers */
  private rs: number[] = [];
  private rStart: number[] = [];
  private rEnd: number[] = [];
  private rUnit: number[] = [];
  private rIndex = RangeIndex.EMPTY;
  private readonly units = new Map<number, UnitFunctions>();
  /** the units used last, in use order: the others are compact()ed */
  private readonly recent = new Map<number, UnitFunctions>();
  private readonly lineTables = new Map<number, LineTable | null>();
  private cached = 0;
  /** the line index: undefined until the first lookup decides, null when there is none */
  private lineIndex: LineIndex | null | undefined;
  /** where an index would be (null: not for this file), and whether building it may still be tried */
  private indexPath: string | null = null;
  private mayBuild = false;
  /** set by unit() when this run has parsed enough units: built after the lookup at hand */
  private pendingBuild = false;
  private scratch = Buffer.alloc(0);
  /** the unit reading its bytes from `scratch` (UnitFunctions.useBytes) */
  private scratchUser: UnitFunctions | null = null;

  constructor(elf: ElfFile, private readonly indexOpts: LineIndexOptions | null = null) {
    this.elf = elf;
    this.path = elf.path;
    this.ds = new DwarfSections(elf);
  }

  /** Open a vmlinux or .ko (.xz/.gz/.zst read into memory); `index`: where a linked file's line index may be kept. */
  static open(path: string, index: LineIndexOptions | null = null): SourceLines {
    const b = peek(path);
    const elf = isCompressedMagic(b, b.length) ? ElfFile.fromBuffer(readSourceFile(path), path) : ElfFile.open(path);
    const s = elf.find('.debug_info');
    if (!s || s.size === 0 || s.type === SHT_NOBITS) {
      elf.close();
      throw new KallmodError('no DWARF debug info (no .debug_info section; need an unstripped/debug build)', { file: path });
    }
    if (!elf.find('.debug_line')) {
      elf.close();
      throw new KallmodError('no .debug_line section: no source lines in this file', { file: path });
    }
    return new SourceLines(elf, index);
  }

  get isRel(): boolean { return this.elf.isRel; }

  /** True while lookups are answered from the line index. */
  get indexed(): boolean { return Boolean(this.lineIndex); }

  /** The file's .symtab (section offsets in a .ko, keys in a vmlinux). */
  symbols(): ElfSymbol[] {
    return readSymbols(this.elf);
  }

  /** The same, in table order, made one at a time. */
  eachSymbol(): Iterable<ElfSymbol> {
    return symbolsOf(this.elf);
  }

  /** Hex GNU build-id from the file's notes, null when it has none. */
  buildId(): string | null {
    for (const s of this.elf.sections) {
      if (s.type !== 7 /* SHT_NOTE */) continue;
      const id = gnuBuildId(this.elf.sectionData(s.index));
      if (id) return id;
    }
    return null;
  }

  /** Index of the section named `name` (ET_REL addresses are (section, offset)), -1 when absent. */
  sectionIndex(name: string): number {
    return this.elf.sections.find((s) => s.name === name)?.index ?? -1;
  }

  close(): void {
    this.lineIndex?.close();
    this.units.clear();
    this.recent.clear();
    this.lineTables.clear();
    this.elf.close();
  }

  private index(): void {
    if (this.headers) return;
    const ds = this.ds;
    const headers = readUnitHeaders(ds);
    const byOffset = new Map<number, number>();
    headers.forEach((h, i) => byOffset.set(h.offset, i));
    const rows: [number, number, number, number][] = [];
    const covered = new Set<number>();
    for (const set of readAranges(ds) ?? []) {
      const u = byOffset.get(set.cuOffset);
      if (u === undefined) continue;
      for (const r of set.ranges) { rows.push([r.sec, r.start, r.end, u]); covered.add(u); }
    }
    for (let u = 0; u < headers.length; u++) {
      if (covered.has(u)) continue;
      const cu = readCompUnit(ds, headers[u]!, true);
      if (cu) for (const r of cu.ranges) rows.push([r.sec, r.start, r.end, u]);
    }
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const r of rows) { this.rs.push(r[0]); this.rStart.push(r[1]); this.rEnd.push(r[2]); this.rUnit.push(r[3]); }
    this.rIndex = RangeIndex.of(this.rs, this.rStart, this.rEnd);
    this.headers = headers;
  }

  private unitAt(sec: number, addr: number): number {
    const i = this.rIndex.at(sec, addr);
    return i < 0 ? -1 : this.rUnit[i]!;
  }

  private unit(u: number): UnitFunctions {
    const hit = this.units.get(u);
    if (hit) { this.touch(u, hit); return hit; }
    const h = this.headers![u]!;
    const cu = readCompUnit(this.ds, h, false);
    if (!cu) throw new DwarfError(`unit at 0x${h.offset.toString(16)} is no compile unit`);
    // the walk keeps nothing of the unit's bytes: one buffer serves every unit's walk, and the
    // unit last walked reads its inline trees and names from it until the next walk (the lookup
    // that made the walk asks for one at once: no second read of those bytes)
    const len = h.end - h.offset;
    this.scratchUser?.useBytes(null);
    this.scratchUser = null;
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(Math.max(len, 2 * this.scratch.length));
    const { data, sectionAt } = this.ds.infoRange(h.offset, len, this.scratch);
    const fns = new UnitFunctions(this.ds, cu, data, sectionAt);
    fns.useBytes(data, sectionAt);
    this.scratchUser = fns;
    this.units.set(u, fns);
    this.touch(u, fns);
    if (this.mayBuild && this.units.size >= (this.indexOpts?.buildAfterUnits ?? BUILD_AFTER_UNITS)) { this.mayBuild = false; this.pendingBuild = true; }
    return fns;
  }

  private touch(u: number, fns: UnitFunctions): void {
    this.recent.delete(u);
    this.recent.set(u, fns);
    if (this.recent.size > RECENT_UNITS) {
      const [k, v] = this.recent.entries().next().value as [number, UnitFunctions];
      this.recent.delete(k);
      v.compact();
    }
  }

  private lines(u: number, fns: UnitFunctions): LineTable | null {
    const hit = this.lineTables.get(u);
    if (hit !== undefined) { this.lineTables.delete(u); this.lineTables.set(u, hit); return hit; }
    const cu = fns.cu;
    const t = cu.stmtList >= 0 ? readLineTable(this.ds, cu.stmtList, cu.compDir, cu.strOffsetsBase) : null;
    this.lineTables.set(u, t);
    this.cached += t ? t.addr.length * 20 : 0;
    while (this.cached > CACHE_BYTES && this.lineTables.size > 1) {
      const [k, v] = this.lineTables.entries().next().value as [number, LineTable | null];
      this.lineTables.delete(k);
      this.cached -= v ? v.addr.length * 20 : 0;
    }
    return t;
  }

  /** The name of the DIE at a .debug_info offset in any unit (DW_FORM_ref_addr). */
  private nameElsewhere = (off: number): string | null => {
    const hs = this.headers!;
    let lo = 0, hi = hs.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, h = hs[m]!;
      if (off < h.offset) hi = m - 1;
      else if (off >= h.end) lo = m + 1;
      else return this.unit(m).nameAt(off, () => null);
    }
    return null;
  };

  /**
   * Frames of `addr` (a key in a linked file; an offset in section `sec` of a .ko), innermost
   * first; [] when no unit covers it.
   */
  frames(addr: number, sec = -1): SourceFrame[] {
    try {
      if (this.lineIndex === undefined) this.openIndex();
      if (this.lineIndex && sec === -1) {
        try { return this.lineIndex.frames(addr); } catch (e) {
          if (!(e instanceof LineIndexUnusable)) throw e;
          this.indexBroken(e);
          if (this.lineIndex) return this.lineIndex.frames(addr);
        }
      }
      const out = this.framesOf(addr, sec);
      if (this.pendingBuild) { this.pendingBuild = false; this.build(); }
      return out;
    } catch (e) {
      if (e instanceof KallmodError) throw e;
      const msg = e instanceof DwarfOutOfBounds ? 'DWARF data truncated' : (e as Error).message;
      throw new KallmodError(`malformed DWARF: ${msg}`, { file: this.path, cause: e });
    }
  }

  /** Identity of this file for its index: its build-id and sizes. */
  private identity(): IndexIdentity | null {
    const id = this.buildId();
    if (!id) return null;
    let fileSize: number;
    try { fileSize = statSync(this.path).size; } catch { return null; }
    return { buildId: id, fileSize, infoSize: this.ds.infoSize() };
  }

  /** First lookup: open the index when there is one; a stale or damaged one is rebuilt at once (it was worth building before). */
  private openIndex(): void {
    this.lineIndex = null;
    const o = this.indexOpts;
    if (!o?.dir || this.elf.isRel || this.ds.infoSize() < (o.minInfoBytes ?? MIN_INDEXED_INFO)) return;
    const id = this.identity();
    if (!id) return;
    this.indexPath = join(o.dir, id.buildId, 'lines.index');
    this.mayBuild = true;
    try {
      this.lineIndex = LineIndex.open(this.indexPath, id);
    } catch (e) {
      if (e instanceof LineIndexUnusable) {
        if (e.kind === 'damaged') o.warn?.(this.indexPath, `line index damaged (${e.message}): rebuilt`);
        this.build();
      } else if (!['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) {
        o.warn?.(this.indexPath, `line index not read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): source lines from the DWARF`);
        this.mayBuild = false;
      }
    }
  }

  /** A block failed its check mid-run: said once, the index made again. */
  private indexBroken(e: LineIndexUnusable): void {
    this.indexOpts?.warn?.(this.indexPath!, `line index damaged (${e.message}): rebuilt`);
    this.lineIndex!.close();
    this.lineIndex = null;
    this.mayBuild = true;
    this.build();
  }

  /**
   * Make the index from every unit, by the code that answers lazily, and answer from it from now
   * on. A unit the DWARF readers reject leaves the file without an index (its lookups then fail
   * as they would anyway); a failed write is said once.
   */
  private build(): void {
    const o = this.indexOpts!, path = this.indexPath!, id = this.identity();
    this.mayBuild = false;
    if (!id) return;
    try { unlinkSync(path); } catch { /* none */ }
    o.progress?.(`indexing the source lines of ${this.path} (${(id.infoSize / 1048576).toFixed(0)} MB of DWARF) once: cached in ${path}`);
    let w: LineIndexWriter;
    try { w = new LineIndexWriter(path, id); } catch (e) {
      o.warn?.(path, `line index not written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): source lines from the DWARF`);
      return;
    }
    try {
      this.index();
      for (let u = 0; u < this.headers!.length; u++) {
        const x = this.unitLines(u);
        if (!x) { w.abort(); return; }
        w.unit(encodeUnit(x));
      }
      w.finish(RangeIndex.fromSegments(this.rIndex.sec, this.rIndex.start, this.rIndex.end, this.rIndex.value.map((i) => this.rUnit[i]!)));
    } catch (e) {
      w.abort();
      if (e instanceof DwarfError || e instanceof DwarfOutOfBounds || e instanceof KallmodError) return;
      const code = (e as NodeJS.ErrnoException).code;
      if (code) { o.warn?.(path, `line index not written (${code}): source lines from the DWARF`); return; }
      throw e;
    }
    try { this.lineIndex = LineIndex.open(path, id); } catch (e) {
      if (!(e instanceof LineIndexUnusable) && !(e as NodeJS.ErrnoException).code) throw e;
      o.warn?.(path, `line index not read back (${(e as Error).message}): source lines from the DWARF`);
      return;
    }
    for (const f of this.units.values()) f.compact();
    this.lineTables.clear();
    this.cached = 0;
  }

  /** Unit u's answers for the index; null when they cannot be put there exactly (rows out of order, a 4 GiB sequence). */
  private unitLines(u: number): UnitLines | null {
    const h = this.headers![u]!;
    const cu = readCompUnit(this.ds, h, false);
    if (!cu) throw new DwarfError(`unit at 0x${h.offset.toString(16)} is no compile unit`);
    const { data, sectionAt } = this.ds.infoRange(h.offset, h.end - h.offset);
    let fns = this.units.get(u);
    if (!fns) { fns = new UnitFunctions(this.ds, cu, data, sectionAt); this.units.set(u, fns); }
    fns.useBytes(data, sectionAt);
    try {
      const strings: string[] = [], strIds = new Map<string, number>();
      const str = (v: string | null): number => {
        if (v === null) return -1;
        let i = strIds.get(v);
        if (i === undefined) { i = strings.length; strings.push(v); strIds.set(v, i); }
        return i;
      };
      const names = new Map<number, number>();
      const nameOf = (die: number): number => {
        let i = names.get(die);
        if (i === undefined) { i = str(fns.nameAt(die, this.nameElsewhere)); names.set(die, i); }
        return i;
      };
      const lt = cu.stmtList >= 0 ? readLineTable(this.ds, cu.stmtList, cu.compDir, cu.strOffsetsBase) : null;
      const fileIds = lt ? Array.from({ length: lt.files.length }, (_, i) => {
        const f = lt.files.get(i);
        return str(f ? treeRelative(f, cu.compDir) : null);
      }) : [];
      const fileOf = (i: number): number => fileIds[i] ?? -1;
      // functions: one per DIE, in the order their first range appears
      const fnOfDie = new Map<number, number>(), fnDies: number[] = [], fnEnds: number[] = [];
      fns.die.forEach((d, i) => { if (!fnOfDie.has(d)) { fnOfDie.set(d, fnDies.length); fnDies.push(d); fnEnds.push(fns.subtreeEnd[i]!); } });
      const fr = fns.rangeIndex;
      const fnName: number[] = [], inlLo: number[] = [], inlHi: number[] = [], inlName: number[] = [], inlFile: number[] = [];
      const inlLine: number[] = [], inlColumn: number[] = [], inlParent: number[] = [], inlRngLo: number[] = [], inlRngHi: number[] = [];
      const rngStart: number[] = [], rngEnd: number[] = [];
      for (let k = 0; k < fnDies.length; k++) {
        const d = fnDies[k]!;
        fnName.push(nameOf(d));
        inlLo.push(inlName.length);
        for (const n of fns.inlineTree(d, fnEnds[k]!)) {
          inlName.push(nameOf(n.die)); inlFile.push(fileOf(n.callFile)); inlLine.push(n.callLine); inlColumn.push(n.callColumn);
          inlParent.push(n.parent);
          inlRngLo.push(rngStart.length);
          for (const r of n.ranges) if (r.sec === -1) { rngStart.push(r.start); rngEnd.push(r.end); }
          inlRngHi.push(rngStart.length);
        }
        inlHi.push(inlName.length);
      }
      // line rows: only those that can be an answer (the last at an address; not a repeat of the one before)
      const seqStart: number[] = [], seqLo: number[] = [], seqHi: number[] = [];
      const rowDelta: number[] = [], rowFile: number[] = [], rowLine: number[] = [], rowColumn: number[] = [];
      const discRow: number[] = [], discVal: number[] = [];
      for (const q of lt?.seqs ?? []) {
        seqStart.push(q.start); seqLo.push(rowDelta.length);
        const lo = rowDelta.length;
        let dk = lt ? discriminatorFrom(lt, q.lo) : 0; // the sequence's rows are consecutive: its discriminators too
        for (let r = q.lo; r < q.hi; r++) {
          const a = lt!.addr[r]!;
          while (dk < lt!.discRow.length && lt!.discRow[dk]! < r) dk++;
          const disc = dk < lt!.discRow.length && lt!.discRow[dk] === r ? lt!.discVal[dk]! : 0;
          if (r + 1 < q.hi) {
            const next = lt!.addr[r + 1]!;
            if (next < a) return null; // not sorted: the lazy binary search's answer could not be kept
            if (next === a) continue;
          }
          const k = rowDelta.length - 1;
          if (k >= lo && rowFile[k] === lt!.file[r] && rowLine[k] === lt!.line[r] && rowColumn[k] === lt!.column[r]
            && (discRow.length && discRow[discRow.length - 1] === k ? discVal[discVal.length - 1]! : 0) === disc) continue;
          const d = a - q.start;
          if (d < 0 || d >= 4294967296) return null;
          if (disc !== 0) { discRow.push(rowDelta.length); discVal.push(disc); }
          rowDelta.push(d); rowFile.push(lt!.file[r]!); rowLine.push(lt!.line[r]!); rowColumn.push(lt!.column[r]!);
        }
        seqHi.push(rowDelta.length);
      }
      const i32 = (a: number[]) => Int32Array.from(a), u32 = (a: number[]) => Uint32Array.from(a), f64 = (a: number[]) => Float64Array.from(a);
      return {
        fnIndex: RangeIndex.fromSegments(fr.sec, fr.start, fr.end, fr.value.map((i) => fnOfDie.get(fns.die[i]!)!)),
        fnName: i32(fnName), inlLo: i32(inlLo), inlHi: i32(inlHi), inlName: i32(inlName), inlFile: i32(inlFile), inlLine: u32(inlLine),
        inlColumn: u32(inlColumn), inlParent: i32(inlParent), inlRngLo: i32(inlRngLo), inlRngHi: i32(inlRngHi), rngStart: f64(rngStart), rngEnd: f64(rngEnd),
        seqIndex: lt ? lt.seqIndex : RangeIndex.EMPTY, seqStart: f64(seqStart), seqLo: u32(seqLo), seqHi: u32(seqHi),
        rowDelta: u32(rowDelta), rowFile: u32(rowFile), rowLine: u32(rowLine), rowColumn: u32(rowColumn), files: i32(fileIds),
        discRow: u32(discRow), discVal: u32(discVal), strings,
      };
    } finally {
      fns.useBytes(null, sectionAt);
      fns.compact();
    }
  }

  private framesOf(addr: number, sec: number): SourceFrame[] {
    this.index();
    const u = this.unitAt(sec, addr);
    if (u < 0) return [];
    const fns = this.unit(u);
    const compDir = fns.cu.compDir;
    const lt = this.lines(u, fns);
    const fileName = (i: number): string | null => {
      const f = lt?.files.get(i);
      return f ? treeRelative(f, compDir) : null;
    };
    let file: string | null = null, line = 0, column = 0, discriminator = 0;
    if (lt) {
      const r = lineRowAt(lt, sec, addr);
      if (r >= 0) { file = fileName(lt.file[r]!); line = lt.line[r]!; column = lt.column[r]!; discriminator = lineDiscriminator(lt, r); }
    }
    const f = fns.functionAt(sec, addr);
    if (f < 0) return [{ name: null, file, line, column, discriminator }];
    const die = fns.die[f]!;
    const chain = fns.inlineChain(die, fns.subtreeEnd[f]!, sec, addr);
    const out: SourceFrame[] = [];
    const name = (d: number) => fns.nameAt(d, this.nameElsewhere);
    for (let k = chain.length - 1; k >= 0; k--) {
      const n = chain[k]!;
      out.push({ name: name(n.die), file, line, column, discriminator });
      file = fileName(n.callFile); line = n.callLine; column = n.callColumn; discriminator = 0;
    }
    out.push({ name: name(die), file, line, column, discriminator });
    return out;
  }
}

/** The first bytes of a file (to tell a compressed .ko by its magic), with one-line errors. */
function peek(path: string): Buffer {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KallmodError(`cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message}`,
      { file: path, cause: e });
  }
  try {
    const b = Buffer.alloc(6);
    const n = readSync(fd, b, 0, 6, 0);
    return b.subarray(0, n);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KallmodError(`cannot read: ${err.code === 'EISDIR' ? 'is a directory' : err.message}`, { file: path, cause: e });
  } finally { closeSync(fd); }
}
