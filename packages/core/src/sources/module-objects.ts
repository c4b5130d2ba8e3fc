import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Warning } from '../errors.js';
import { KallmodError } from '../errors.js';
import { openElfAny, cuToObject, type ElfObject, type CuRange } from './elf/index.js';
import { moduleNameFromPath } from './modules-list.js';
import type { SectionBases } from './proc-modules.js';

/**
 * Objnames of loadable-module symbols, from the `.ko` files' DWARF. A `.ko` is relocatable:
 * its CU ranges are (section, offset), placed at run time by the section bases of
 * /sys/module/<m>/sections (or, when those were not saved, derived from where kallsyms puts
 * the module's own symbols). Files are opened only for modules that have symbols.
 */
export interface ModuleSymbol { name: string; key: number; ksize: number; padding: boolean }
export interface ModuleSymbolInfo { object: string | null; size: number | null }

export class ModuleObjects {
  private files: Map<string, string> | null = null;

  /**
   * `buildIds`: what the kernel says each loaded module's build-id is (/sys/module/M/notes);
   * a file with another one is of another build and is not used.
   */
  constructor(private readonly dirs: string[], private readonly sectionBases?: SectionBases,
    private readonly buildIds?: (mod: string) => string | null) {}

  /** module name → .ko path, from a walk of the module directories (done once). */
  private index(): Map<string, string> {
    if (this.files) return this.files;
    const m = new Map<string, string>();
    const walk = (d: string, depth: number) => {
      let ents: string[];
      try { ents = readdirSync(d); } catch (e) { throw new KallmodError(`cannot read module directory: ${(e as Error).message}`, { file: d }); }
      for (const e of ents) {
        const p = join(d, e);
        if (/\.ko(\.(xz|gz|zst|debug))?$/.test(e)) { const n = moduleNameFromPath(e); if (!m.has(n)) m.set(n, p); continue; }
        if (depth < 8) { try { if (statSync(p).isDirectory()) walk(p, depth + 1); } catch { /* dangling link */ } }
      }
    };
    for (const d of this.dirs) walk(d, 0);
    this.files = m;
    return m;
  }

  has(mod: string): boolean { return this.index().has(mod); }
  /** Every module name found, with its file. */
  modules(): ReadonlyMap<string, string> { return this.index(); }

  resolve(mod: string, syms: ModuleSymbol[], warn: (w: Warning) => void): (ModuleSymbolInfo | null)[] | null {
    const path = this.index().get(mod);
    if (!path) return null;
    let elf: ElfObject;
    try { elf = openElfAny(path); } catch (e) { warn({ source: path, message: (e as Error).message }); return null; }
    try {
      const want = this.buildIds?.(mod) ?? null;
      if (want !== null) {
        const have = elf.buildId();
        if (have !== want) {
          warn({ source: path, message: `not used: build-id ${have ?? '(none)'}, the loaded ${mod} has ${want} (another build)` });
          return null;
        }
      }
      const ksyms = elf.symbols();
      const secSize = new Map(elf.sections.map((s) => [s.name, s.size]));
      // section bases: where kallsyms puts the module's own symbols (a vote per section), and
      // the saved /sys/module sections, which must agree (else they are of another boot)
      const voted = new Map<string, number>();
      {
        const votes = new Map<string, Map<number, number>>();
        const byName = new Map<string, number>();
        for (const s of syms) byName.set(s.name, s.key);
        for (const k of ksyms) {
          if (!k.section || (k.type !== 'func' && k.type !== 'notype')) continue;
          const key = byName.get(k.name);
          if (key === undefined) continue;
          const b = key - k.value;
          let v = votes.get(k.section); if (!v) { v = new Map(); votes.set(k.section, v); }
          v.set(b, (v.get(b) ?? 0) + 1);
        }
        for (const [sec, v] of votes) voted.set(sec, [...v.entries()].sort((a, b) => b[1] - a[1])[0]![0]);
      }
      let bases = this.sectionBases?.get(mod);
      if (bases && bases.size) {
        // code sections only: mergeable string sections (.rodata.str1.1) are deduplicated at load
        const off = [...voted].filter(([sec, b]) => /text/.test(sec) && bases!.has(sec) && bases!.get(sec) !== b).map(([sec]) => sec);
        if (off.length) {
          warn({ source: `module sections of ${mod}`,
            message: `${off.slice(0, 3).join(', ')} not where kallsyms puts ${mod}'s symbols (another boot?): using kallsyms` });
          bases = new Map([...bases, ...voted]);
        }
      } else bases = voted;
      const secs = [...bases.entries()].filter(([s]) => secSize.has(s)).map(([name, base]) => ({ name, base, end: base + secSize.get(name)! }));
      const cus = new Map<string, CuRange[]>();
      if (elf.hasDwarf()) for (const r of elf.cuRanges()) {
        const k = r.section ?? '';
        const l = cus.get(k); if (l) l.push(r); else cus.set(k, [r]);
      } else warn({ source: path, message: 'no DWARF: objnames of this module unknown' });
      const sizeAt = new Map<string, number>();
      const fileAt = new Map<string, string>();
      for (const k of ksyms) {
        if (!k.section) continue;
        if (k.size > 0) sizeAt.set(`${k.section}:${k.value}:${k.name}`, k.size);
        if (k.file) fileAt.set(`${k.section}:${k.value}:${k.name}`, k.file);
      }
      // STT_FILE fallback for code outside every CU range (static-call trampolines, asm): the
      // source basename, mapped to the module's one object with that basename
      const byBase = new Map<string, string | null>();
      for (const l of cus.values()) for (const r of l) {
        const o = cuToObject(r.cu, r.compDir);
        if (!o) continue;
        const b = o.slice(o.lastIndexOf('/') + 1);
        byBase.set(b, byBase.has(b) && byBase.get(b) !== o ? null : o);
      }
      return syms.map((s) => {
        const sec = secs.find((x) => s.key >= x.base && s.key < x.end);
        if (!sec) return null;
        const off = s.key - sec.base;
        const probe = off + (s.padding ? s.ksize : 0);
        const list = cus.get(sec.name);
        let object: string | null = null;
        if (list) for (const r of list) if (probe >= r.start && probe < r.end) { object = cuToObject(r.cu, r.compDir); break; }
        if (!object) {
          const f = fileAt.get(`${sec.name}:${off}:${s.name}`);
          if (f) object = byBase.get(f.replace(/\.[cSs]$/, '.o')) ?? null;
        }
        return { object, size: sizeAt.get(`${sec.name}:${off}:${s.name}`) ?? null };
      });
    } finally {
      elf.close();
    }
  }
}
