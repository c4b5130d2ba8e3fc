/** ELF64 symbol tables (.symtab / .dynsym) with STT_FILE grouping. */
import { keyFromParts } from '../../address.js';
import { KallmodError } from '../../errors.js';
import { cstring, ElfFile, readU64, SHT_DYNSYM, SHT_SYMTAB, SHT_SYMTAB_SHNDX } from './elf-file.js';

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export interface ElfSymbol {
  name: string;
  /** ET_EXEC: address key; ET_REL: offset in its section */
  value: number;
  size: number;
  type: 'func' | 'object' | 'notype' | 'section' | 'file' | 'other';
  bind: 'local' | 'global' | 'weak' | 'other';
  /** section name, null for ABS/UNDEF/COMMON */
  section: string | null;
  /** STT_FILE group of a local symbol, else null */
  file: string | null;
}

/** Columnar raw symbols: what relocation processing needs, without building objects. */
export interface RawSymbols {
  count: number;
  /** Resolved section index (SHN_XINDEX expanded); 0 or >= SHN_LORESERVE for special ones. */
  shndx: Uint32Array;
  /** st_value: key for exec/dyn, plain offset for rel */
  value: Float64Array;
}

const TYPES: ElfSymbol['type'][] = ['notype', 'object', 'func', 'section', 'file'];
const BINDS: ElfSymbol['bind'][] = ['local', 'global', 'weak'];

/** The index of .symtab, else .dynsym, else -1. */
export function symtabIndex(elf: ElfFile): number {
  let dyn = -1;
  for (const s of elf.sections) {
    if (s.type === SHT_SYMTAB) return s.index;
    if (s.type === SHT_DYNSYM && dyn < 0) dyn = s.index;
  }
  return dyn;
}

function xindexTable(elf: ElfFile, symIdx: number): Buffer | null {
  for (const s of elf.sections) if (s.type === SHT_SYMTAB_SHNDX && s.link === symIdx) return elf.sectionData(s.index);
  return null;
}

function symData(elf: ElfFile, symIdx: number): Buffer {
  const s = elf.sections[symIdx]!;
  if (s.entsize !== 0 && s.entsize !== 24) throw new KallmodError(`bad symbol table entry size ${s.entsize}`, { file: elf.path });
  return elf.sectionData(symIdx);
}

export function readRawSymbols(elf: ElfFile, symIdx: number): RawSymbols {
  const data = symData(elf, symIdx);
  const count = Math.floor(data.length / 24);
  const xtab = xindexTable(elf, symIdx);
  const shndx = new Uint32Array(count);
  const value = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * 24;
    let sh = data.readUInt16LE(o + 6);
    if (sh === SHN_XINDEX && xtab && xtab.length >= i * 4 + 4) sh = xtab.readUInt32LE(i * 4);
    shndx[i] = sh;
    value[i] = elf.isRel ? readU64(data, o + 8) : keyFromParts(data.readUInt32LE(o + 12), data.readUInt32LE(o + 8));
  }
  return { count, shndx, value };
}

/** All symbols except the null symbol 0, in table order. */
export function readSymbols(elf: ElfFile): ElfSymbol[] {
  return [...symbols(elf)];
}

/** The same, one at a time: a reader that needs only the first few (the --lines slide vote) makes no object for the rest. */
export function* symbols(elf: ElfFile): Generator<ElfSymbol> {
  const symIdx = symtabIndex(elf);
  if (symIdx < 0) return;
  const data = symData(elf, symIdx);
  const strIdx = elf.sections[symIdx]!.link;
  const strs = strIdx > 0 && strIdx < elf.sections.length ? elf.sectionData(strIdx) : Buffer.alloc(0);
  const xtab = xindexTable(elf, symIdx);
  const count = Math.floor(data.length / 24);
  const secs = elf.sections;
  let file: string | null = null;
  for (let i = 1; i < count; i++) {
    const o = i * 24;
    const name = cstring(strs, data.readUInt32LE(o));
    const info = data[o + 4]!;
    const t = info & 0xf, b = info >> 4;
    let sh = data.readUInt16LE(o + 6);
    if (sh === SHN_XINDEX && xtab && xtab.length >= i * 4 + 4) sh = xtab.readUInt32LE(i * 4);
    const section = sh === SHN_UNDEF || (sh >= SHN_LORESERVE && sh <= 0xffff && sh !== SHN_XINDEX) ? null : (secs[sh]?.name ?? null);
    const value = elf.isRel ? readU64(data, o + 8) : keyFromParts(data.readUInt32LE(o + 12), data.readUInt32LE(o + 8));
    const type = TYPES[t] ?? 'other';
    const bind = BINDS[b] ?? 'other';
    if (type === 'file') file = name;
    yield { name, value, size: readU64(data, o + 16), type, bind, section, file: bind === 'local' ? file : null };
  }
}
