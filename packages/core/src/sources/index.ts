/**
 * Which files describe the kernel, and reading them. One contract for every command:
 * explicit source flags, or (when none is given) the running kernel. Any explicit flag turns
 * every running-kernel default off, so two kernels never mix.
 */
import { existsSync } from 'node:fs';
import { KallmodError, type Warning } from '../errors.js';
import { readSourceFile } from './read-file.js';
import { parseNmList } from './nm-list.js';
import { parseBuiltinRanges } from './builtin-ranges.js';
import { parseBuiltinModinfo, parseModulesList } from './modules-list.js';
import { parseModuleSections, parseProcModules, type SectionBases } from './proc-modules.js';
import { lazyModule } from '../lazy.js';
import { moduleBuildId, rootPath } from '../kernel/identity.js';
import { sysModuleSectionLines } from './running-kernel.js';

// parsers most runs never need: loaded on first use (lazy.ts)
const kallmodsymsParser = () => lazyModule('@kallmod/core/sources/kallmodsyms') as typeof import('./kallmodsyms.js');
const linkerMapParser = () => lazyModule('@kallmod/core/sources/linker-map') as typeof import('./linker-map.js');
const elfReader = () => lazyModule('@kallmod/core/sources/elf/index') as typeof import('./elf/index.js');
const moduleObjects = () => lazyModule('@kallmod/core/sources/module-objects') as typeof import('./module-objects.js');
import type { ParsedSources } from '../table/build.js';

export * from './options.js';
import type { SourceOptions } from './options.js';

/** nm's type letter for an ELF symbol (what System.map would say), for vmlinux-only tables. */
function nmLetter(type: string, bind: string, section: string): number {
  const text = section.startsWith('.text') || section.endsWith('.text') || section.startsWith('.init.text') || section.startsWith('.noinstr');
  let c = text ? 't' : section.startsWith('.rodata') ? 'r' : section.startsWith('.bss') ? 'b' : 'd';
  if (type === 'object' && text) c = 'd';
  if (bind === 'weak') c = text ? 'w' : 'v';
  return (bind === 'local' ? c : c.toUpperCase()).charCodeAt(0);
}

/** What one file contributed: for `kallmod sources`. */
export interface LoadedSource { role: string; path: string; origin: 'explicit' | 'running-kernel'; detail?: string }

export { runningKernelOptions, vmlinuxCandidates, type Discovery, type SkippedFile } from './running-kernel.js';

/** How the running-kernel path reads: below which root, with what progress, what is cached. */
export interface ReadContext {
  root?: string;
  /** A progress callback for the DWARF parse of `path` (a bar on a terminal), or undefined. */
  progress?: (path: string) => ((done: number, total: number) => void) | undefined;
  /** The vmlinux part already parsed (the per-kernel cache): its file is not read. */
  vmlinux?: ParsedSources['vmlinux'];
}

/** /sys/module/<m>/sections/* of the running kernel (root only; zeros otherwise). */
function readSysModuleSections(root: string): SectionBases | undefined {
  const out: SectionBases = new Map();
  const lines = sysModuleSectionLines(root);
  if (!lines) return undefined;
  const parsed = parseModuleSections(Buffer.from(lines.join('\n'), 'latin1'), rootPath(root, '/sys/module'));
  for (const [m, s] of parsed) { if ([...s.values()].some((v) => v !== 0)) out.set(m, s); }
  return out;
}

/** Read and parse every source the options name. Explicit files that fail are errors. */
export function readSources(
  o: SourceOptions, origin: LoadedSource['origin'], warn: (w: Warning) => void, ctx: ReadContext = {},
): { parsed: ParsedSources; loaded: LoadedSource[] } {
  const parsed: ParsedSources = {};
  const loaded: LoadedSource[] = [];
  const explicit = origin === 'explicit';
  const attempt = <T>(role: string, path: string, fn: () => T): T | undefined => {
    try {
      const r = fn();
      loaded.push({ role, path, origin });
      return r;
    } catch (e) {
      // by name: a lazily loaded parser may come from another copy of errors.js (tests)
      if (explicit || (e as Error).name !== 'KallmodError') throw e;
      warn({ source: path, message: `${role} not used: ${(e as Error).message}` });
      return undefined;
    }
  };
  if (o.kallmodsyms) {
    const p = o.kallmodsyms;
    parsed.kallmodsyms = attempt('kallmodsyms', p, () => ({ ...kallmodsymsParser().parseKallmodsyms(readSourceFile(p), p, warn), path: p }));
  }
  if (o.kallsyms) parsed.kallsyms = attempt('kallsyms', o.kallsyms, () => parseNmList(readSourceFile(o.kallsyms!), o.kallsyms!, warn));
  if (o.systemMap) parsed.systemMap = attempt('system-map', o.systemMap, () => parseNmList(readSourceFile(o.systemMap!), o.systemMap!, warn));
  if (o.ranges) {
    const p = o.ranges;
    const r = attempt('ranges', p, () => parseBuiltinRanges(readSourceFile(p), p, warn));
    if (r) parsed.ranges = { path: p, sections: r };
  }
  if (o.builtin) parsed.builtinNames = attempt('builtin', o.builtin, () => parseModulesList(readSourceFile(o.builtin!)).names);
  if (o.modinfo) {
    const mi = attempt('modinfo', o.modinfo, () => parseBuiltinModinfo(readSourceFile(o.modinfo!), o.modinfo!, warn));
    if (mi) { parsed.builtinNames ??= new Set(); for (const n of mi.names) parsed.builtinNames.add(n); }
  }
  if (o.order) parsed.orderNames = attempt('modules-order', o.order, () => parseModulesList(readSourceFile(o.order!)).names);
  if (o.linkerMap?.length) {
    const files = o.linkerMap.map((p) => ({ path: p, data: readSourceFile(p) }));
    const map = attempt('linker-map', o.linkerMap.join(','), () => linkerMapParser().parseLinkerMaps(files, warn));
    if (map) parsed.linkerMap = { paths: o.linkerMap, map };
  }
  if (ctx.vmlinux) parsed.vmlinux = ctx.vmlinux;
  else if (o.vmlinux) {
    const p = o.vmlinux;
    parsed.vmlinux = attempt('vmlinux', p, () => {
      const elf = elfReader().openElfAny(p);
      try {
        const symbols = elf.symbols()
          .filter((s) => s.type === 'func' || s.type === 'object' || s.type === 'notype').filter((s) => s.name !== '' && s.section !== null)
          .map((s) => ({ name: s.name, value: s.value, size: s.size, type: s.type, letter: nmLetter(s.type, s.bind, s.section!) }));
        if (!elf.hasDwarf()) warn({ source: p, message: 'no DWARF: objnames will not come from this file' });
        const cuRanges = elf.hasDwarf() ? elf.cuRanges(ctx.progress?.(p)) : [];
        const { cuToObject } = elfReader();
        return { path: p, symbols, objects: cuRanges.map((r) => ({ start: r.start, end: r.end, object: cuToObject(r.cu, r.compDir) })) };
      } finally { elf.close(); }
    });
  }
  let sections: SectionBases | undefined;
  if (o.moduleSections) {
    const p = o.moduleSections;
    sections = attempt('module-sections', p, () => parseModuleSections(readSourceFile(p), p, warn));
  } else if (origin === 'running-kernel') sections = readSysModuleSections(ctx.root ?? '');
  if (o.procModules) {
    const p = o.procModules;
    parsed.procModules = attempt('proc-modules', p, () => ({ path: p, modules: parseProcModules(readSourceFile(p), p, warn) }));
  }
  if (o.modulesDir?.length) {
    for (const d of o.modulesDir) if (!existsSync(d)) { if (explicit) throw new KallmodError('no such directory', { file: d }); }
    const root = ctx.root ?? '';
    parsed.moduleObjects = new (moduleObjects().ModuleObjects)(o.modulesDir.filter(existsSync), sections, explicit ? undefined : (m) => moduleBuildId(root, m));
    loaded.push({ role: 'modules-dir', path: o.modulesDir.join(','), origin });
  }
  if (o.kaslrOffset !== undefined) parsed.kaslrOffset = o.kaslrOffset;
  if (!parsed.kallsyms && !parsed.kallmodsyms && !parsed.systemMap && !parsed.vmlinux) {
    throw new KallmodError('no symbol list: give --kallsyms, --kallmodsyms, --system-map, --vmlinux or --snapshot ' +
      '(or run where /proc/kallsyms is readable)', { exitCode: 2 });
  }
  return { parsed, loaded };
}
