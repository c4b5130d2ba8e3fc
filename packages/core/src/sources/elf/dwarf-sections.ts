/**
 * Lazy access to the DWARF sections of one ElfFile. For ET_REL every section is loaded whole
 * with its relocations applied (a .ko is small); for linked files .debug_info is read in
 * small ranges (CU headers and top DIEs only), the other (small) sections whole.
 */
import { ElfFile } from './elf-file.js';
import { relocatedSection } from './relocations.js';
import { cstring } from './elf-file.js';

export interface LoadedSection {
  index: number;
  name: string;
  data: Buffer;
  /** field offset → section index of the relocation target (ET_REL only) */
  sectionAt: Map<number, number>;
}

const EMPTY_MAP = new Map<number, number>();

export class DwarfSections {
  readonly elf: ElfFile;
  private readonly loaded = new Map<string, LoadedSection | null>();

  constructor(elf: ElfFile) {
    this.elf = elf;
  }

  /** Index of a debug section (".debug_info" etc.), or -1. */
  indexOf(name: string): number {
    const s = this.elf.find(name);
    return s && s.size > 0 ? s.index : -1;
  }

  /** Whole section (relocated for ET_REL), or null when absent. */
  get(name: string): LoadedSection | null {
    const hit = this.loaded.get(name);
    if (hit !== undefined) return hit;
    const idx = this.indexOf(name);
    let v: LoadedSection | null = null;
    if (idx >= 0) {
      const r = relocatedSection(this.elf, idx);
      v = { index: idx, name, data: r.data, sectionAt: r.sectionAt };
    }
    this.loaded.set(name, v);
    return v;
  }

  /** Size of .debug_info (decompressed when compressed), 0 when absent. */
  infoSize(): number {
    const idx = this.indexOf('.debug_info');
    if (idx < 0) return 0;
    if (this.elf.isRel || this.elf.isCompressed(this.elf.sections[idx]!)) return this.get('.debug_info')!.data.length;
    return this.elf.sections[idx]!.size;
  }

  /**
   * Bytes [off, off+len) of .debug_info (clipped) and the relocation map to use with
   * section offsets. Linked files: positional read; relocatable: slice of the loaded section.
   */
  infoRange(off: number, len: number, scratch?: Buffer): { data: Buffer; sectionAt: Map<number, number> } {
    const idx = this.indexOf('.debug_info');
    if (idx < 0) return { data: Buffer.alloc(0), sectionAt: EMPTY_MAP };
    if (this.elf.isRel || this.elf.isCompressed(this.elf.sections[idx]!)) {
      const s = this.get('.debug_info')!;
      return { data: s.data.subarray(Math.min(off, s.data.length), Math.min(off + len, s.data.length)), sectionAt: s.sectionAt };
    }
    return { data: this.elf.sectionRange(idx, off, len, scratch), sectionAt: EMPTY_MAP };
  }

  /** NUL-terminated string at `off` of a string section, or null when the section is absent. */
  string(name: '.debug_str' | '.debug_line_str', off: number): string | null {
    const s = this.get(name);
    if (!s || off >= s.data.length) return null;
    return cstring(s.data, off);
  }
}
