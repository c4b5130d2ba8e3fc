/**
 * Source lines and inline frames of addresses in one vmlinux or .ko, from its DWARF: which unit
 * holds an address (aranges, else the units' ranges), then that unit's functions, its line
 * program and the inline tree of the one function asked about, each read on first use and kept
 * in a bounded cache (a whole vmlinux's line rows would not fit the memory budget).
 */
import { rangeIndexAt } from './range-index.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { KallmodError } from '../../errors.js';
import { readSourceFile } from '../read-file.js';
import { readAranges } from './aranges.js';
import { DwarfOutOfBounds, DwarfError } from './dwarf-reader.js';
import { UnitFunctions, type InlineNode } from './dwarf-inlines.js';
import { lineRowAt, readLineTable, type LineTable } from './dwarf-line.js';
import { DwarfSections } from './dwarf-sections.js';
import { readCompUnit, readUnitHeaders, type UnitHeader } from './dwarf-units.js';
import { ElfFile, SHT_NOBITS } from './elf-file.js';
import { isCompressedMagic } from './elf-object.js';
import { gnuBuildId } from '../../kernel/identity.js';
import { readSymbols, type ElfSymbol } from './symtab.js';

/** One frame of an address, innermost first: the inlined function, then who inlined it, ..., the real function. */
export interface SourceFrame {
  /** function name (null when no DWARF function covers the address) */
  name: string | null;
  /** path relative to the kernel tree (the unit's comp_dir stripped), null when unknown */
  file: string | null;
  /** 0 when unknown */
  line: number;
  column: number;
}

/**
 * Line rows kept (RSS budget: 500 MB on a distro vmlinux, whose units' rows would take ~200 MB);
 * the functions of every unit asked about are kept (a few MB for a whole vmlinux).
 */
const CACHE_BYTES = 128 << 20;
/** Units whose inline trees stay parsed. */
const RECENT_UNITS = 64;

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
  private readonly units = new Map<number, UnitFunctions>();
  /** the units used last, in use order: the others are compact()ed */
  private readonly recent = new Map<number, UnitFunctions>();
  private readonly lineTables = new Map<number, LineTable | null>();
  private cached = 0;

  constructor(elf: ElfFile) {
    this.elf = elf;
    this.path = elf.path;
    this.ds = new DwarfSections(elf);
  }

  /** Open a vmlinux or .ko (.xz/.gz/.zst read into memory). */
  static open(path: string): SourceLines {
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
    return new SourceLines(elf);
  }

  get isRel(): boolean { return this.elf.isRel; }

  /** The file's .symtab (section offsets in a .ko, keys in a vmlinux). */
  symbols(): ElfSymbol[] {
    return readSymbols(this.elf);
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
    this.headers = headers;
  }

  private unitAt(sec: number, addr: number): number {
    const i = rangeIndexAt(this.rs, this.rStart, this.rEnd, sec, addr, 8);
    return i < 0 ? -1 : this.rUnit[i]!;
  }

  private unit(u: number): UnitFunctions {
    const hit = this.units.get(u);
    if (hit) { this.touch(u, hit); return hit; }
    const h = this.headers![u]!;
    const cu = readCompUnit(this.ds, h, false);
    if (!cu) throw new DwarfError(`unit at 0x${h.offset.toString(16)} is no compile unit`);
    const { data, sectionAt } = this.ds.infoRange(h.offset, h.end - h.offset);
    const fns = new UnitFunctions(this.ds, cu, data, sectionAt);
    this.units.set(u, fns);
    this.touch(u, fns);
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
      return this.framesOf(addr, sec);
    } catch (e) {
      if (e instanceof KallmodError) throw e;
      const msg = e instanceof DwarfOutOfBounds ? 'DWARF data truncated' : (e as Error).message;
      throw new KallmodError(`malformed DWARF: ${msg}`, { file: this.path, cause: e });
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
      const f = lt?.files[i];
      return f ? treeRelative(f, compDir) : null;
    };
    let file: string | null = null, line = 0, column = 0;
    if (lt) {
      const r = lineRowAt(lt, sec, addr);
      if (r >= 0) { file = fileName(lt.file[r]!); line = lt.line[r]!; column = lt.column[r]!; }
    }
    const f = fns.functionAt(sec, addr);
    if (f < 0) return [{ name: null, file, line, column }];
    const die = fns.die[f]!;
    const tree = fns.inlineTree(die);
    const chain: InlineNode[] = [];
    let parent = -1;
    for (let i = 0; i < tree.length; i++) {
      const n = tree[i]!;
      if (n.parent !== parent) continue;
      if (n.ranges.some((r) => r.sec === sec && addr >= r.start && addr < r.end)) { chain.push(n); parent = i; }
    }
    const out: SourceFrame[] = [];
    const name = (d: number) => fns.nameAt(d, this.nameElsewhere);
    for (let k = chain.length - 1; k >= 0; k--) {
      const n = chain[k]!;
      out.push({ name: name(n.die), file, line, column });
      file = fileName(n.callFile); line = n.callLine; column = n.callColumn;
    }
    out.push({ name: name(die), file, line, column });
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
