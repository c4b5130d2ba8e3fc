/** The public ElfObject: symbols and DWARF compile-unit ranges of a vmlinux or .ko. */
import { closeSync, openSync, readSync } from 'node:fs';
import { keyFromParts } from '../../address.js';
import { KallmodError } from '../../errors.js';
import { readSourceFile } from '../read-file.js';
import { readAranges } from './aranges.js';
import { DwarfSections } from './dwarf-sections.js';
import { ElfFile, SHT_NOBITS } from './elf-file.js';
import { readCompUnit, readUnitHeaders, RawRange } from './dwarf-units.js';
import { ElfSymbol, readSymbols } from './symtab.js';
import { gnuBuildId } from '../../kernel/identity.js';

export type { ElfSymbol } from './symtab.js';

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** key for ET_EXEC/ET_DYN, 0 for ET_REL */
  addr: number;
  offset: number;
  size: number;
}

export interface CuRange {
  start: number;
  /** half-open */
  end: number;
  /** ET_REL: the section the offsets are in; ET_EXEC: null (start/end are keys) */
  section: string | null;
  /** DW_AT_name as given, e.g. "fs/ext4/inode.c" ("" when the unit has no name) */
  cu: string;
  compDir: string | null;
}

export interface ElfObject {
  path: string;
  kind: 'exec' | 'rel';
  sections: ElfSection[];
  /** .symtab (fall back to .dynsym); [] if none. The null symbol 0 is omitted. */
  symbols(): ElfSymbol[];
  hasDwarf(): boolean;
  /** Hex GNU build-id from the file's note sections, null when it has none. */
  buildId(): string | null;
  /**
   * Sorted by (section, start). From .debug_aranges, falling back to the CU's DW_AT_ranges /
   * low_pc+high_pc for CUs without aranges; relocations applied for ET_REL.
   */
  cuRanges(progress?: (done: number, total: number) => void): CuRange[];
  close(): void;
}

const SHT_NOTE = 7;

/** Smallest key of a DWARF tombstone (-2 / -1) in a linked file. */
const TOMBSTONE_KEY = keyFromParts(0xffffffff, 0xfffffffe);

function toKallmodError(e: unknown, path: string, what: string): never {
  if (e instanceof KallmodError) throw e;
  const msg = e instanceof Error ? e.message : String(e);
  throw new KallmodError(`malformed ${what}: ${msg.split('\n')[0]}`, { file: path, cause: e });
}

class ElfObjectImpl implements ElfObject {
  readonly path: string;
  readonly kind: 'exec' | 'rel';
  readonly sections: ElfSection[];
  private readonly elf: ElfFile;
  private syms: ElfSymbol[] | null = null;
  private ranges: CuRange[] | null = null;

  constructor(elf: ElfFile) {
    this.elf = elf;
    this.path = elf.path;
    this.kind = elf.isRel ? 'rel' : 'exec';
    this.sections = elf.sections.map((s) => ({ index: s.index, name: s.name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size }));
  }

  symbols(): ElfSymbol[] {
    if (!this.syms) {
      try {
        this.syms = readSymbols(this.elf);
      } catch (e) {
        toKallmodError(e, this.path, 'ELF symbol table');
      }
    }
    return this.syms;
  }

  hasDwarf(): boolean {
    const s = this.elf.find('.debug_info');
    return s !== undefined && s.size > 0 && s.type !== SHT_NOBITS;
  }

  buildId(): string | null {
    for (const s of this.elf.sections) {
      if (s.type !== SHT_NOTE) continue;
      const id = gnuBuildId(this.elf.sectionData(s.index));
      if (id) return id;
    }
    return null;
  }

  cuRanges(progress?: (done: number, total: number) => void): CuRange[] {
    if (this.ranges) return this.ranges;
    if (!this.hasDwarf()) throw new KallmodError('no DWARF debug info (no .debug_info section; need an unstripped/debug build)', { file: this.path });
    let out: CuRange[];
    try {
      out = this.collect(progress);
    } catch (e) {
      toKallmodError(e, this.path, 'DWARF');
    }
    const rel = this.elf.isRel;
    out.sort(rel
      ? (a, b) => (a.section! < b.section! ? -1 : a.section! > b.section! ? 1 : a.start - b.start || a.end - b.end)
      : (a, b) => a.start - b.start || a.end - b.end);
    this.ranges = out;
    return out;
  }

  private collect(progress?: (done: number, total: number) => void): CuRange[] {
    const ds = new DwarfSections(this.elf);
    const rel = this.elf.isRel;
    const byCu = new Map<number, RawRange[]>();
    for (const set of readAranges(ds) ?? []) {
      if (set.ranges.length === 0) continue;
      const have = byCu.get(set.cuOffset);
      if (have) have.push(...set.ranges);
      else byCu.set(set.cuOffset, set.ranges);
    }
    const out: CuRange[] = [];
    const secs = this.elf.sections;
    const units = readUnitHeaders(ds);
    const every = Math.max(1, units.length >> 6);
    for (let u = 0; u < units.length; u++) {
      const h = units[u]!;
      if (progress && u % every === 0) progress(u, units.length);
      const fromAranges = byCu.get(h.offset);
      const cu = readCompUnit(ds, h, fromAranges === undefined);
      if (!cu) continue;
      const ranges = fromAranges ?? cu.ranges;
      const name = cu.name ?? '';
      for (const r of ranges) {
        if (rel) {
          if (r.sec < 0 || r.sec >= secs.length) continue;
          out.push({ start: r.start, end: r.end, section: secs[r.sec]!.name, cu: name, compDir: cu.compDir });
        } else {
          if (r.start === 0 || r.start >= TOMBSTONE_KEY) continue;
          out.push({ start: r.start, end: r.end, section: null, cu: name, compDir: cu.compDir });
        }
      }
    }
    progress?.(units.length, units.length);
    return out;
  }

  close(): void {
    this.elf.close();
  }
}

/** Open an ELF file lazily: headers now, sections when asked for. */
export function openElf(path: string): ElfObject {
  return new ElfObjectImpl(ElfFile.open(path));
}

/** Open ELF content already in memory (e.g. a decompressed .ko.xz). */
export function openElfBuffer(buf: Buffer, path: string): ElfObject {
  return new ElfObjectImpl(ElfFile.fromBuffer(buf, path));
}

/** .xz, .gz or .zst content, by its magic. */
export function isCompressedMagic(b: Buffer, n: number): boolean {
  if (n >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a) return true;
  if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  return n >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

/** Compressed (.xz/.gz/.zst by magic) → decompress in memory; otherwise open lazily. */
export function openElfAny(path: string): ElfObject {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new KallmodError(`cannot read: ${why}`, { file: path, cause: e });
  }
  const head = Buffer.alloc(6);
  let n: number;
  try {
    n = readSync(fd, head, 0, 6, 0);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KallmodError(`cannot read: ${err.code === 'EISDIR' ? 'is a directory' : err.message}`, { file: path, cause: e });
  } finally {
    closeSync(fd);
  }
  if (isCompressedMagic(head, n)) return openElfBuffer(readSourceFile(path), path);
  return openElf(path);
}
