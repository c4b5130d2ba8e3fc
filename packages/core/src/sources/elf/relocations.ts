/**
 * x86-64 relocations for ET_REL objects (.ko): applied to debug sections so that DWARF
 * offsets (abbrev, str, line_str, rnglists, addr, str_offsets, info) read as in a linked file,
 * and address fields remember which section they point into.
 */
import { KallmodError } from '../../errors.js';
import { ElfFile, readU64, SHT_REL, SHT_RELA } from './elf-file.js';
import { readRawSymbols, RawSymbols, SHN_LORESERVE, symtabIndex } from './symtab.js';

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_PC64 = 24;
const SHF_ALLOC = 2;

export interface RelocatedSection {
  /** Section content with S + A written into every R_X86_64_64/32/32S site. */
  data: Buffer;
  /**
   * Offset of a relocated field → section index of the relocation's symbol, for fields that
   * point into an allocated (code, data) section: an address field at offset `o` whose value is V
   * means "V bytes into section sectionAt.get(o)". Offsets into other debug sections (most of a
   * .ko's relocations: strp, line_strp, ...) are applied but not kept here (a map of all of
   * them cost more than the rest of a module's --lines).
   */
  sectionAt: Map<number, number>;
}

const symCache = new WeakMap<ElfFile, RawSymbols | null>();

function rawSymbols(elf: ElfFile, symIdx: number): RawSymbols | null {
  let r = symCache.get(elf);
  if (r === undefined) {
    r = symIdx >= 0 ? readRawSymbols(elf, symIdx) : null;
    symCache.set(elf, r);
  }
  return r;
}

/** Index of the SHT_RELA/SHT_REL section that applies to section `target`, or -1. */
export function relocationSectionFor(elf: ElfFile, target: number): number {
  for (const s of elf.sections) if ((s.type === SHT_RELA || s.type === SHT_REL) && s.info === target && s.size > 0) return s.index;
  return -1;
}

/**
 * Content of section `target` with its relocations applied (ET_REL only; for other files,
 * or when no relocation section exists, the plain content and an empty map).
 */
export function relocatedSection(elf: ElfFile, target: number): RelocatedSection {
  const raw = elf.sectionData(target);
  const sectionAt = new Map<number, number>();
  if (!elf.isRel) return { data: raw, sectionAt };
  const relIdx = relocationSectionFor(elf, target);
  if (relIdx < 0) return { data: raw, sectionAt };
  const relSec = elf.sections[relIdx]!;
  const isRela = relSec.type === SHT_RELA;
  const entSize = isRela ? 24 : 16;
  const syms = rawSymbols(elf, relSec.link > 0 ? relSec.link : symtabIndex(elf));
  if (!syms) throw new KallmodError(`relocation section ${relSec.name} has no symbol table`, { file: elf.path });
  const rel = elf.sectionData(relIdx);
  const data = Buffer.from(raw); // private copy: never mutate a caller's buffer
  const n = Math.floor(rel.length / entSize);
  for (let i = 0; i < n; i++) {
    const o = i * entSize;
    const off = readU64(rel, o);
    const type = rel.readUInt32LE(o + 8);
    const symI = rel.readUInt32LE(o + 12);
    if (symI >= syms.count) throw new KallmodError(`relocation in ${relSec.name} references symbol ${symI} past the symbol table`, { file: elf.path });
    const width = type === R_X86_64_64 ? 8 : type === R_X86_64_32 || type === R_X86_64_32S ? 4 : 0;
    if (width === 0 || off + width > data.length) continue;
    let addend: number;
    if (isRela) {
      // signed 64-bit addend; debug addends are small, so (hi as int32)·2^32 + lo is exact
      addend = rel.readInt32LE(o + 20) * 4294967296 + rel.readUInt32LE(o + 16);
    } else {
      addend = width === 8 ? readU64(data, off) : data.readUInt32LE(off);
    }
    const v = syms.value[symI]! + addend;
    if (width === 8) {
      const lo = v >>> 0;
      data.writeUInt32LE(lo, off);
      data.writeUInt32LE(Math.floor(v / 4294967296) >>> 0, off + 4);
    } else {
      data.writeUInt32LE(v >>> 0, off);
    }
    const sh = syms.shndx[symI]!;
    if (sh !== 0 && sh < SHN_LORESERVE && ((elf.sections[sh]?.flags ?? SHF_ALLOC) & SHF_ALLOC) !== 0) sectionAt.set(off, sh);
  }
  return { data, sectionAt };
}
