/**
 * Source lines for resolved references (`--lines`): after the table has decided which symbol a
 * printed reference means, (symbol, offset) becomes an address in the DWARF file's own link-time
 * space (vmlinux: the symbol's link address, KASLR slide taken off; .ko: an offset in the section
 * the module's symbols say it was loaded at) and SourceLines gives its frames. DWARF files are
 * opened on the first lookup that needs them.
 */
import { KallmodError, type Warning } from '../errors.js';
import { keyFromHex } from '../address.js';
import { F_LOADABLE, type SymbolTable } from '../table/symbol-table.js';
import type { Resolution } from '../types.js';
import type { SourceLines, SourceFrame } from '../sources/elf/source-lines.js';
import type { ModuleObjects } from '../sources/module-objects.js';
import { lazyModule } from '../lazy.js';

// the DWARF readers: by package specifier, as sources/index.ts loads them (the parsers chunk of the bundle)
const elfReader = () => lazyModule('@kallmod/core/sources/elf/index') as typeof import('../sources/elf/index.js');
const moduleObjects = () => lazyModule('@kallmod/core/sources/module-objects') as typeof import('../sources/module-objects.js');

import type { FrameJson, LineInfo } from './line-text.js';
export { addressDiscriminator, discriminatorSuffix, lineFields, lineSuffix, refWithLines, type FrameJson, type LineInfo } from './line-text.js';

/** Where the DWARF is: the vmlinux, module directories, and the build-ids the kernel says (running, or a snapshot's record). */
export interface LineSourceFiles {
  vmlinux: string | null;
  modulesDirs: string[];
  moduleBuildId?: (mod: string) => string | null;
  /** The kernel's GNU build-id: a vmlinux with another is not used (null or absent: not known, not checked). */
  kernelBuildId?: string | null;
  /** Where the vmlinux's line index is kept (sources/elf/line-index.ts; the cache base directory), null: none. */
  indexDir?: string | null;
  /** Said when the index is built (the CLI: when stderr is a terminal). */
  progress?: (message: string) => void;
}

interface ModuleLines { lines: SourceLines; sections: { index: number; base: number; end: number }[] }

const asJson = (f: SourceFrame): FrameJson => (f.discriminator
  ? { name: f.name, file: f.file, line: f.line || null, column: f.column || null, discriminator: f.discriminator }
  : { name: f.name, file: f.file, line: f.line || null, column: f.column || null });

export class LineSource {
  private vmlinux: { lines: SourceLines; slide: number } | null | undefined;
  private readonly modules = new Map<string, ModuleLines | null>();
  private moduleFiles: ModuleObjects | null = null;
  /** why a lookup had no DWARF to use, said once per cause */
  readonly missing = new Set<string>();

  constructor(private readonly table: SymbolTable, private readonly files: LineSourceFiles,
    private readonly warn: (w: Warning) => void) {}

  /** True when some DWARF file is there to read. */
  get hasFiles(): boolean { return this.files.vmlinux !== null || this.files.modulesDirs.length > 0; }

  /**
   * Lines of a resolved, unambiguous reference; `returnAddress`: the printed address is where a
   * call returns to, so the call is at address - 1. Null when the DWARF does not cover it.
   */
  lines(r: Resolution, returnAddress: boolean): LineInfo | null {
    if (r.ambiguous || r.address === null || r.name === null) return null;
    const start = keyFromHex(r.address);
    if (Number.isNaN(start)) return null;
    const off = r.offset ?? 0;
    const key = start + off - (returnAddress && off > 0 ? 1 : 0);
    const i = this.table.lookupKey(start);
    const loadable = i >= 0 && (this.table.d.flags[i]! & F_LOADABLE) !== 0;
    let frames: SourceFrame[];
    if (loadable) {
      const mod = this.table.modules(i)[0]!;
      const m = this.module(mod);
      if (!m) return null;
      const s = m.sections.find((x) => key >= x.base && key < x.end);
      if (!s) return null;
      frames = m.lines.frames(key - s.base, s.index);
    } else {
      const v = this.core();
      if (!v) return null;
      frames = v.lines.frames(key - v.slide);
    }
    if (frames.length === 0) return null;
    const outer = frames[frames.length - 1]!;
    if (outer.name === null && frames.length === 1) outer.name = r.name; // no DWARF function here: the symbol's name (as addr2line falls back to its symtab)
    const inlined = frames.slice(0, -1).map(asJson);
    return outer.discriminator
      ? { file: outer.file, line: outer.line || null, column: outer.column || null, discriminator: outer.discriminator, inlined }
      : { file: outer.file, line: outer.line || null, column: outer.column || null, inlined };
  }

  /** The vmlinux and its slide: the kallsyms address minus the link address, by a vote of the names both have. */
  private core(): { lines: SourceLines; slide: number } | null {
    if (this.vmlinux !== undefined) return this.vmlinux;
    this.vmlinux = null;
    const path = this.files.vmlinux;
    if (!path) { this.missing.add('vmlinux'); return null; }
    const lines = elfReader().SourceLines.open(path, {
      dir: this.files.indexDir ?? null,
      warn: (source, message) => this.warn({ source, message }),
      ...(this.files.progress ? { progress: this.files.progress } : {}),
    });
    const want = this.files.kernelBuildId ?? null;
    if (want !== null && lines.buildId() !== want) {
      this.warn({ source: path, message: `not used for --lines: build-id ${lines.buildId() ?? '(none)'}, the kernel's is ${want} (another build)` });
      lines.close();
      return null;
    }
    let slide: number | null;
    try {
      // the vote reads symbols only until it has tried enough (a vmlinux's 190k symbols made whole cost ~0.2 s)
      const code = filtered(lines.eachSymbol(), (s) => s.section !== null && (s.type === 'func' || s.type === 'notype'));
      slide = this.vote(code, (i) => (this.table.d.flags[i]! & F_LOADABLE) === 0);
    } catch (e) { lines.close(); throw e; }
    if (slide === null) {
      this.warn({ source: path, message: 'no symbol of this vmlinux is where the symbol sources put it: another build; --lines not used for the core kernel' });
      lines.close();
      return null;
    }
    this.vmlinux = { lines, slide };
    return this.vmlinux;
  }

  /** The value (address - st_value) most names agree on; null when fewer than half of those tried agree. */
  private vote(syms: Iterable<{ name: string; value: number }>, keep: (i: number) => boolean): number | null {
    const votes = new Map<number, number>();
    let tried = 0;
    for (const s of syms) {
      const idx = this.table.indicesByName(s.name).filter(keep);
      if (idx.length !== 1) continue;
      const d = this.table.d.keys[idx[0]!]! - s.value;
      votes.set(d, (votes.get(d) ?? 0) + 1);
      if (++tried >= 2000) break;
    }
    let best: number | null = null, n = 0;
    for (const [d, c] of votes) if (c > n) { best = d; n = c; }
    return n * 2 > tried ? best : null;
  }

  private module(mod: string): ModuleLines | null {
    const hit = this.modules.get(mod);
    if (hit !== undefined) return hit;
    this.modules.set(mod, null);
    if (!this.files.modulesDirs.length) { this.missing.add('modules'); return null; }
    this.moduleFiles ??= new (moduleObjects().ModuleObjects)(this.files.modulesDirs);
    const path = this.moduleFiles.modules().get(mod);
    if (!path) { this.missing.add(`module ${mod}`); return null; }
    let lines: SourceLines;
    try { lines = elfReader().SourceLines.open(path); } catch (e) {
      if (!(e instanceof KallmodError)) throw e;
      this.warn({ source: path, message: `${e.message.replace(`${path}: `, '')}: no source lines for ${mod}` });
      return null;
    }
    const want = this.files.moduleBuildId?.(mod) ?? null;
    if (want !== null && lines.buildId() !== want) {
      this.warn({ source: path, message: `not used for --lines: build-id ${lines.buildId() ?? '(none)'}, the loaded ${mod} has ${want} (another build)` });
      lines.close();
      return null;
    }
    // section bases: where the table puts the module's own symbols, a vote per section
    const t = this.table;
    const sections: ModuleLines['sections'] = [];
    const elf = lines.elf;
    const bySection = new Map<string, { name: string; value: number }[]>();
    for (const s of lines.symbols()) {
      if (!s.section || (s.type !== 'func' && s.type !== 'notype') || !/text/.test(s.section)) continue;
      let l = bySection.get(s.section); if (!l) { l = []; bySection.set(s.section, l); } l.push(s);
    }
    const inModule = (i: number) => (t.d.flags[i]! & F_LOADABLE) !== 0 && t.modules(i)[0] === mod;
    for (const [name, syms] of bySection) {
      const base = this.vote(syms, inModule);
      const sh = elf.sections.find((x) => x.name === name);
      if (base === null || !sh) continue;
      sections.push({ index: sh.index, base, end: base + sh.size });
    }
    const m = { lines, sections };
    this.modules.set(mod, m);
    return m;
  }

  close(): void {
    this.vmlinux?.lines.close();
    for (const m of this.modules.values()) m?.lines.close();
  }
}

function* filtered<T>(xs: Iterable<T>, keep: (x: T) => boolean): Generator<T> {
  for (const x of xs) if (keep(x)) yield x;
}
