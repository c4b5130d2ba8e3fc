/**
 * Merge the parsed sources into one SymbolTable: the one home of the precedence rules
 * (shared/reference/formats.md §9.2) and of the consistency checks (§9.3).
 *
 * Addresses come from the runtime list (kallmodsyms, else kallsyms, else System.map);
 * link-time sources (System.map, ranges via System.map anchors, linker maps, vmlinux DWARF)
 * are moved by the KASLR slide, which must agree across several anchors or they are dropped.
 */
import { KallmodError, type Warning } from '../errors.js';
import type { NmList } from '../sources/nm-list.js';
import { PSEUDO_MODULES } from '../sources/nm-list.js';
import type { RangeSection } from '../sources/builtin-ranges.js';
import type { KallmodsymsData } from '../sources/kallmodsyms.js';
import type { LinkerMap } from '../sources/linker-map.js';
import type { ModuleObjects } from '../sources/module-objects.js';
import type { ModuleInfo } from '../sources/proc-modules.js';
import { withSyncOsr } from '../sources/sync-osr.js';
import { NameIndex, NameStore } from './name-store.js';
import { computeSlide, type SlideResult } from './kaslr.js';
import { F_DYNAMIC, F_EXACT_SIZE, F_LOADABLE, F_PADDING, SymbolTable, isTextType, type TableData } from './symbol-table.js';

export interface ParsedSources {
  kallsyms?: NmList;
  kallmodsyms?: KallmodsymsData & { path: string };
  systemMap?: NmList;
  ranges?: { path: string; sections: RangeSection[] };
  builtinNames?: Set<string>;
  orderNames?: Set<string>;
  linkerMap?: { paths: string[]; map: LinkerMap };
  /** An unstripped vmlinux: its symtab, and the object of each DWARF compile unit's address ranges (link-time). */
  vmlinux?: { path: string; symbols: { name: string; value: number; size: number; type: string; letter: number }[]; objects: ObjectRange[] };
  /** Loadable modules' objects (.ko DWARF), opened lazily by module name. */
  moduleObjects?: ModuleObjects;
  procModules?: { path: string; modules: ModuleInfo[] };
  /** Explicit KASLR offset when no runtime list gives it. */
  kaslrOffset?: number;
}

/** Link-time [start, end) → object file. */
export interface ObjectRange { start: number; end: number; object: string | null }

export interface BuildReport {
  warnings: Warning[];
  slide: SlideResult | null;
  base: string;
  stats: Record<string, number>;
}

const PROV = ['none', 'kallsyms', 'kallmodsyms', 'ranges', 'linker-map', 'dwarf', 'ko-dwarf', 'system-map'] as const;
type Prov = (typeof PROV)[number];
const P = (p: Prov) => PROV.indexOf(p);

interface Base {
  label: string;
  keys: Float64Array;
  types: Uint8Array;
  names: NameStore;
  /** loadable/pseudo module of symbol i, or null */
  modAt(i: number): string | null;
  /** per base index: module id or -1 (kallsyms), to find the few symbols that have one */
  moduleIds?: Int32Array;
  /** what the parse already knows (NmList): keys[0, sortedPrefix) ascend, none before firstWithModule has a module */
  sortedPrefix?: number;
  firstWithModule?: number;
  /** flag bits of each base symbol that its name gives (NmList.flags: padding), instead of markPadding */
  flags?: Uint8Array;
  kmsMods?: string[][];
  kmsObjs?: (string | null)[];
  kmsSizes?: Float64Array;
}

const isText = isTextType;

const noModules = (): string | null => null;

// The hot loops live in small functions: V8 optimises (and OSR-compiles) them quickly, where
// the same loops inside buildTable cost a compile of the whole function each (start-up budget).

/** Length of the address-sorted prefix (kallsyms: the whole core kernel). */
function sortedPrefix(k: Float64Array): number {
  let p = 1;
  while (p < k.length && k[p - 1]! <= k[p]!) p++;
  return Math.min(p, k.length);
}

/**
 * The order that sorts the unsorted tail (modules) into the sorted prefix: order[j] is the
 * base index of table position j; ties: text first, then file order. `same` positions
 * [0, same) keep their index (kallsyms: the whole core kernel, as the modules lie above it).
 */
function mergeOrder(bk: Float64Array, bt: Uint8Array, p: number): { order: Uint32Array; same: number } {
  const n = bk.length;
  const tail = sortTail(bk, bt, p);
  const order = new Uint32Array(n);
  let i = 0, t = 0, o = 0;
  // the common case, every tail key at or above the prefix's last: one copy, no merge
  if (bk[tail[0]!]! >= bk[p - 1]!) {
    for (; o < p; o++) order[o] = o;
    order.set(tail, p);
    return { order, same: p };
  }
  while (i < p && t < tail.length) order[o++] = bk[i]! <= bk[tail[t]!]! ? i++ : tail[t++]!;
  while (i < p) order[o++] = i++;
  while (t < tail.length) order[o++] = tail[t++]!;
  let same = 0;
  while (same < n && order[same] === same) same++;
  return { order, same };
}

/**
 * Base indices p..n-1 in (key, text first, file order). Packed into one exact double each
 * (key above the tail's lowest, a non-text bit, the index) and sorted natively when they fit
 * in 53 bits, as module addresses do: a comparator sort of a distro's ~60k module symbols
 * cost tens of ms of start-up.
 */
function sortTail(bk: Float64Array, bt: Uint8Array, p: number): Uint32Array {
  const n = bk.length, m = n - p;
  let lo = Infinity, hi = -Infinity;
  for (let i = p; i < n; i++) { const k = bk[i]!; if (k < lo) lo = k; if (k > hi) hi = k; }
  let bits = 1;
  while (2 ** bits < m) bits++;
  const scale = 2 ** bits;
  const out = new Uint32Array(m);
  if ((hi - lo + 1) * 2 * scale <= Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(m);
    for (let t = 0; t < m; t++) packed[t] = ((bk[p + t]! - lo) * 2 + (isText(bt[p + t]!) ? 0 : 1)) * scale + t;
    packed.sort();
    for (let t = 0; t < m; t++) out[t] = p + (packed[t]! % scale);
    return out;
  }
  // a plain array: TypedArray#sort with a comparator is ~50x slower in V8
  const tail: number[] = [];
  for (let i = p; i < n; i++) tail.push(i);
  tail.sort((a, b) => (bk[a]! - bk[b]!) || ((isText(bt[b]!) ? 1 : 0) - (isText(bt[a]!) ? 1 : 0)) || a - b);
  out.set(tail);
  return out;
}

/** Table positions j >= from whose base symbol order[j] has a module. */
function positionsWithModule(moduleIds: Int32Array, order: Uint32Array | null, from: number): Int32Array {
  const out: number[] = [];
  for (let j = from; j < moduleIds.length; j++) if (moduleIds[order ? order[j]! : j]! >= 0) out.push(j);
  return Int32Array.from(out);
}

/** keys/types in table order; positions [0, same) are copied as one block. */
function copyBase(bk: Float64Array, bt: Uint8Array, order: Uint32Array | null, same: number, keys: Float64Array, types: Uint8Array): void {
  if (!order) { keys.set(bk); types.set(bt); return; }
  keys.set(bk.subarray(0, same)); types.set(bt.subarray(0, same));
  for (let j = same; j < keys.length; j++) { const i = order[j]!; keys[j] = bk[i]!; types[j] = bt[i]!; }
}

/** The base's own flag bits in table order (as copyBase). */
function copyFlags(bf: Uint8Array, order: Uint32Array | null, same: number, flags: Uint8Array): void {
  if (!order) { flags.set(bf); return; }
  flags.set(bf.subarray(0, same));
  for (let j = same; j < flags.length; j++) flags[j] = bf[order[j]!]!;
}

function markPadding(names: NameStore, flags: Uint8Array): void {
  // every padding name starts with "__": one byte test rejects nearly all names
  for (let j = 0; j < names.length; j++) {
    if (names.charAt0(j) === 95 && (names.hasPrefix(j, '__pfx_') || names.hasPrefix(j, '__cfi_'))) flags[j]! |= F_PADDING;
  }
}

/** Kallsyms size: per block (-1 core, else module), distance to the next distinct start. */
function kallsymsSizes(keys: Float64Array, blockIds: Int32Array, nBlocks: number): Float64Array {
  const n = keys.length, ksizes = new Float64Array(n);
  // backwards: per block, the smallest start above the current one
  const cur = new Float64Array(nBlocks + 1).fill(Infinity), next = new Float64Array(nBlocks + 1).fill(Infinity);
  for (let j = n - 1; j >= 0; j--) {
    const b = blockIds[j]! + 1;
    const k = keys[j]!;
    if (k < cur[b]!) { next[b] = cur[b]!; cur[b] = k; }
    const nx = next[b]!;
    ksizes[j] = nx === Infinity ? 0 : nx - k;
  }
  return ksizes;
}

/**
 * Exact sizes from an ELF symtab, matched by (address, name): a binary search of the sorted keys
 * per symbol, the name compared in place (string keys "name@address" cost ~0.6 s on a distro
 * vmlinux, mostly number → string; a Map keyed by address ~1 s).
 */
function exactSizesFromSymtab(symbols: { name: string; value: number; size: number }[], slide: number, keys: Float64Array, names: NameStore,
  blockIds: Int32Array, flags: Uint8Array, exactSizes: Float64Array): number {
  let got = 0;
  const n = keys.length;
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i]!;
    if (!(s.size > 0)) continue;
    const k = s.value + slide;
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (keys[mid]! < k) lo = mid + 1; else hi = mid; }
    for (let j = lo; j < n && keys[j] === k; j++) {
      if (blockIds[j] !== -1 || flags[j]! & F_EXACT_SIZE || !names.equals(j, s.name)) continue;
      exactSizes[j] = s.size; flags[j]! |= F_EXACT_SIZE; got++;
    }
  }
  return got;
}

export function buildTable(src: ParsedSources): { table: SymbolTable; report: BuildReport } {
  return withSyncOsr(() => build(src));
}

function build(src: ParsedSources): { table: SymbolTable; report: BuildReport } {
  const warnings: Warning[] = [];
  const warn = (source: string, message: string) => warnings.push({ source, message });
  const stats: Record<string, number> = {};

  // 1. the runtime symbol list
  let base: Base;
  let asLinked = false;
  if (src.kallmodsyms && !src.kallmodsyms.addressesHidden) {
    const k = src.kallmodsyms;
    base = { label: 'kallmodsyms', keys: k.keys, types: k.types, names: NameStore.fromArray(k.names),
      modAt: noModules, kmsMods: k.modules, kmsObjs: k.objnames, kmsSizes: k.hasSize ? k.sizes : undefined };
  } else if (src.kallsyms && !src.kallsyms.addressesHidden) {
    const k = src.kallsyms;
    base = { label: 'kallsyms', keys: k.keys, types: k.types, names: k.names, moduleIds: k.moduleIds,
      sortedPrefix: k.sortedPrefix, firstWithModule: k.firstWithModule, flags: k.flags,
      modAt: (i) => { const m = k.moduleIds[i]!; return m < 0 ? null : k.moduleNames[m]!; } };
  } else if (src.systemMap) {
    const s = src.systemMap;

    const off = src.kaslrOffset ?? 0;
    const keys = off ? s.keys.map((k) => (k === 0 ? 0 : k + off)) : s.keys;
    base = { label: 'system-map', keys, types: s.types, names: s.names, flags: s.flags, ...(off ? {} : { sortedPrefix: s.sortedPrefix }), modAt: noModules };
    if (src.kallsyms?.addressesHidden) {
      if (!off) asLinked = true;
      warn(src.kallsyms.path, 'addresses are hidden (kptr_restrict or no CAP_SYSLOG): using System.map addresses' +
        (off ? ' moved by --kaslr-offset' : ' as linked; pass --kaslr-offset if this boot is KASLR-shifted'));
    }
  } else if (src.vmlinux && !src.kallsyms) {
    // an unstripped vmlinux alone (a distro's -dbg package): its symtab is the System.map
    const v = src.vmlinux.symbols.filter((x) => x.value !== 0);
    const off = src.kaslrOffset ?? 0;
    base = {
      label: 'vmlinux', keys: Float64Array.from(v, (x) => x.value + off), types: Uint8Array.from(v, (x) => x.letter),
      names: NameStore.fromArray(v.map((x) => x.name)), modAt: noModules,
    };
  } else if (src.kallsyms) {
    // names and modules only: keep them so name lookups still work, but say so
    const k = src.kallsyms;
    base = { label: 'kallsyms', keys: k.keys, types: k.types, names: k.names, moduleIds: k.moduleIds,
      sortedPrefix: k.sortedPrefix, firstWithModule: k.firstWithModule, flags: k.flags,
      modAt: (i) => { const m = k.moduleIds[i]!; return m < 0 ? null : k.moduleNames[m]!; } };
    warn(k.path, 'addresses are hidden (all zero: kptr_restrict or no CAP_SYSLOG); address lookups cannot work. ' +
      'Run as root, or annotate with a snapshot taken by `kallmod capture` as root');
  } else if (src.kallmodsyms) {
    // the same for kallmodsyms: names, modules and objnames are right, the addresses are not there
    const k = src.kallmodsyms;
    base = { label: 'kallmodsyms', keys: k.keys, types: k.types, names: NameStore.fromArray(k.names),
      modAt: noModules, kmsMods: k.modules, kmsObjs: k.objnames, kmsSizes: k.hasSize ? k.sizes : undefined };
    warn(k.path, 'addresses are hidden (all zero: kptr_restrict or no CAP_SYSLOG); address lookups cannot work. ' +
      'Run as root, or annotate with a snapshot taken by `kallmod capture` as root');
  } else {
    throw new KallmodError('no symbol source: give --kallsyms, --kallmodsyms, --system-map or --snapshot', { exitCode: 2 });
  }

  // 2. sort by address; ties: text first, then the list's own order (kallsyms puts the
  // kernel's preferred alias first)
  const n = base.keys.length;
  // kallsyms lists the core kernel sorted (ties in the kernel's preferred order) and then the
  // modules unsorted: keep the sorted prefix as it is, sort only the rest, merge.
  const bk = base.keys, bt = base.types;
  const p = base.sortedPrefix ?? sortedPrefix(bk);
  const merged = p >= n ? null : mergeOrder(bk, bt, p);
  const order = merged?.order ?? null;
  const same = merged?.same ?? n;
  const keys = new Float64Array(n);
  const types = new Uint8Array(n);
  const names = base.names.permute(order, same);
  const modSets: string[][] = [[]];
  const modSetIntern = new Map<string, number>([['', 0]]);
  const modSetIds = new Uint32Array(n);
  const flags = new Uint8Array(n);
  const modSrc = new Uint8Array(n);
  const objSrc = new Uint8Array(n);
  const objIds = new Int32Array(n).fill(-1);
  const objnames: string[] = [];
  const objIntern = new Map<string, number>();
  const exactSizes = new Float64Array(n);
  // block of each symbol: -1 core kernel, else an index into blockNames (module or pseudo-module)
  const blockIds = new Int32Array(n).fill(-1);
  const blockNames: string[] = [];
  const blockIntern = new Map<string, number>();
  const blockOf = (m: string): number => {
    let b = blockIntern.get(m);
    if (b === undefined) { b = blockNames.length; blockNames.push(m); blockIntern.set(m, b); }
    return b;
  };
  const isCore = (j: number) => blockIds[j] === -1;

  const internSet = (mods: readonly string[]): number => {
    const k = mods.join(' ');
    let id = modSetIntern.get(k);
    if (id === undefined) { id = modSets.length; modSets.push([...mods]); modSetIntern.set(k, id); }
    return id;
  };
  const internObj = (o: string): number => {
    let id = objIntern.get(o);
    if (id === undefined) { id = objnames.length; objnames.push(o); objIntern.set(o, id); }
    return id;
  };

  const loadedModules = new Set(src.procModules?.modules.map((m) => m.name) ?? []);
  copyBase(bk, bt, order, same, keys, types);
  if (base.flags) copyFlags(base.flags, order, same, flags); else markPadding(names, flags);
  // only the positions that have a module (kallsyms: the module tail) need the loop below
  // (positions below both `same` and the first symbol with a module have none)
  const withMods = base.kmsMods ? null
    : base.moduleIds ? positionsWithModule(base.moduleIds, order, Math.min(same, base.firstWithModule ?? 0)) : new Int32Array(0);
  const count = withMods ? withMods.length : n;
  for (let t = 0; t < count; t++) {
    const j = withMods ? withMods[t]! : t;
    const i = order ? order[j]! : j;
    const m = base.modAt(i);
    if (m !== null) {
      blockIds[j] = blockOf(m);
      if (PSEUDO_MODULES.has(m)) { flags[j]! |= F_DYNAMIC; modSrc[j] = P('kallsyms'); }
      else { flags[j]! |= F_LOADABLE; modSetIds[j] = internSet([m]); modSrc[j] = P('kallsyms'); }
    }
    if (base.kmsMods) {
      const km = base.kmsMods[i]!;
      if (km.length) {
        modSetIds[j] = internSet(km);
        modSrc[j] = P('kallmodsyms');
        // kallmodsyms prints loadable and built-in modules alike: modules.order or /proc/modules tell
        if (m === null && km.length === 1 && (src.orderNames?.has(km[0]!) || loadedModules.has(km[0]!))) {
          flags[j]! |= F_LOADABLE;
          blockIds[j] = blockOf(km[0]!);
        }
      }
      const ko = base.kmsObjs![i];
      if (ko) { objIds[j] = internObj(ko); objSrc[j] = P('kallmodsyms'); }
      if (base.kmsSizes && Number.isFinite(base.kmsSizes[i])) { exactSizes[j] = base.kmsSizes[i]!; flags[j]! |= F_EXACT_SIZE; }
    }
  }

  // 3. kallsyms sizes: distance to the next distinct address of the same block (core kernel
  // or one module), which is what the kernel prints in func+off/size
  const ksizes = kallsymsSizes(keys, blockIds, blockNames.length);

  // the by-name index, built here only if anchors need it, and then handed to the table
  let nameIndex: NameIndex | undefined;
  const tableKeyOf = (name: string): number => {
    for (const j of (nameIndex ??= new NameIndex(names)).find(name)) if (blockIds[j] === -1) return keys[j]!;
    return NaN;
  };

  // 4. KASLR slide between link-time sources and the runtime list
  let slide: SlideResult | null = null;
  if (base.label !== 'system-map' && base.label !== 'vmlinux' && (src.systemMap || src.vmlinux)) {
    const ref = src.systemMap
      ? { label: src.systemMap.path, keys: src.systemMap.keys, names: src.systemMap.names, types: src.systemMap.types }
      : {
        label: src.vmlinux!.path, keys: Float64Array.from(src.vmlinux!.symbols.map((s) => s.value)),
        names: NameStore.fromArray(src.vmlinux!.symbols.map((s) => s.name)), types: Uint8Array.from(src.vmlinux!.symbols, (s) => s.letter),
      };
    slide = computeSlide({ label: base.label, keys, names, isCore, types }, ref);
    for (const w of slide.warnings) warn(w.source, w.message);
  } else if (base.label === 'system-map' || base.label === 'vmlinux') {
    slide = { slide: src.kaslrOffset ?? 0, consistent: true, anchors: [], matchRate: 1, warnings: [] };
  }
  const linkOk = slide !== null && slide.consistent;
  const slideV = slide?.slide ?? 0;

  // address of a core-kernel symbol: runtime list, else link-time + slide
  let smIndex: NameIndex | undefined;
  const addrOf = (name: string): number => {
    const k = tableKeyOf(name);
    if (!Number.isNaN(k) && k !== 0) return k;
    if (src.systemMap && linkOk) {
      const i = (smIndex ??= new NameIndex(src.systemMap.names)).find(name)[0];
      if (i !== undefined) return src.systemMap.keys[i]! + slideV;
    }
    return NaN;
  };

  // 5. built-in modules from modules.builtin.ranges
  if (src.ranges) {
    const iv: { s: number; e: number; id: number }[] = [];
    let unresolved = 0;
    const unknownMods = new Set<string>();
    for (const sec of src.ranges.sections) {
      if (!sec.ranges.length) continue;
      let sb = sec.anchor ? addrOf(sec.anchor) - sec.anchorOffset : NaN;
      // no anchor line (the generator writes none for some sections, e.g. .altinstr_replacement):
      // the linker map knows the section's link-time address
      const ls = src.linkerMap?.map.sections.find((x) => x.name === sec.name);
      if (Number.isNaN(sb) && ls && linkOk) sb = ls.start + slideV;
      if (Number.isNaN(sb)) {
        unresolved++;
        const why = sec.anchor ? `anchor ${sec.anchor} not found in the symbol sources` : 'no anchor line (a linker map would place it)';
        warn(src.ranges.path, `section ${sec.name}: ${why}; its ${sec.ranges.length} range(s) are not used`);
        continue;
      }
      for (const r of sec.ranges) {
        iv.push({ s: sb + r.start, e: sb + r.end, id: internSet(r.modules) });
        if (src.builtinNames) for (const m of r.modules) if (!src.builtinNames.has(m)) unknownMods.add(m);
      }
    }
    if (unknownMods.size) {
      warn(src.ranges.path, `${unknownMods.size} module name(s) not in modules.builtin (another build?): ${[...unknownMods].slice(0, 5).join(', ')}`);
    }
    iv.sort((x, y) => x.s - y.s);
    let p = 0, hit = 0;
    for (let j = 0; j < n; j++) {
      if (!isCore(j) || modSrc[j] === P('kallmodsyms')) continue;
      const k = keys[j]!;
      while (p < iv.length && iv[p]!.e <= k) p++;
      // ranges may overlap only at shared boundaries; scan a few ahead
      for (let q = p; q < iv.length && iv[q]!.s <= k; q++) {
        if (k < iv[q]!.e) { modSetIds[j] = iv[q]!.id; modSrc[j] = P('ranges'); hit++; break; }
      }
    }
    stats['ranges.hits'] = hit;
    stats['ranges.unresolvedSections'] = unresolved;
  }

  // 6. objnames of core-kernel symbols from link-time intervals (moved by the slide)
  const applyIntervals = (ivs: { start: number; end: number; object: string | null }[], prov: Prov, label: string) => {
    if (!linkOk) { warn(label, 'not used: its addresses cannot be matched to the runtime symbols (see the KASLR warnings)'); return; }
    const sorted = ivs.slice().sort((a, b) => a.start - b.start);
    let p = 0, hit = 0, disagree = 0;
    for (let j = 0; j < n; j++) {
      if (!isCore(j)) continue;
      // __pfx_ padding belongs to the function it pads (DWARF ranges start at the entry)
      const k = keys[j]! - slideV + ((flags[j]! & F_PADDING) && prov === 'dwarf' ? ksizes[j]! : 0);
      while (p < sorted.length && sorted[p]!.end <= k) p++;
      let obj: string | null = null;
      for (let q = p; q < sorted.length && sorted[q]!.start <= k; q++) if (k < sorted[q]!.end) { obj = sorted[q]!.object; break; }
      if (!obj) continue;
      if (objIds[j]! >= 0) {
        if (objSrc[j] !== P('kallmodsyms') && objnames[objIds[j]!] !== obj) disagree++;
        continue;
      }
      objIds[j] = internObj(obj); objSrc[j] = P(prov); hit++;
    }
    stats[`${prov}.hits`] = hit;
    if (disagree) warn(label, `${disagree} symbol(s) where it names another object than a higher-precedence source (kept the latter)`);
  };
  if (src.linkerMap) applyIntervals(src.linkerMap.map.ranges, 'linker-map', src.linkerMap.paths.join(', '));
  if (src.vmlinux) {
    applyIntervals(src.vmlinux.objects, 'dwarf', src.vmlinux.path);
    // exact sizes from the ELF symtab, matched by (name, address)
    if (linkOk) {
      const got = exactSizesFromSymtab(src.vmlinux.symbols, slideV, keys, names, blockIds, flags, exactSizes);
      stats['vmlinux.sizes'] = got;
    }
  }

  // /proc/modules of the same boot puts every module's symbols inside [base, base + size)
  if (src.procModules) {
    const span = new Map(src.procModules.modules.filter((m) => m.base !== null).map((m) => [m.name, m]));
    const outside = new Set<string>();
    for (let j = 0; j < n; j++) {
      // text only: since 6.4 a module's data lives in other allocations than /proc/modules' base
      if (!(flags[j]! & F_LOADABLE) || !isText(types[j]!)) continue;
      const m = span.get(blockNames[blockIds[j]!]!);
      if (m && (keys[j]! < m.base! || keys[j]! >= m.base! + m.size)) outside.add(m.name);
    }
    if (outside.size) warn(src.procModules.path, `module(s) ${[...outside].slice(0, 5).join(', ')} loaded elsewhere than ${base.label} says (another boot?)`);
  }

  // 7. loadable modules: objnames (and exact sizes) from their .ko DWARF
  if (src.moduleObjects) {
    const byMod = new Map<string, number[]>();
    for (let j = 0; j < n; j++) if (flags[j]! & F_LOADABLE) {
      const m = blockNames[blockIds[j]!]!;
      const l = byMod.get(m); if (l) l.push(j); else byMod.set(m, [j]);
    }
    let hit = 0;
    for (const [mod, idx] of byMod) {
      const res = src.moduleObjects.resolve(mod,
        idx.map((j) => ({ name: names.get(j), key: keys[j]!, ksize: ksizes[j]!, padding: (flags[j]! & F_PADDING) !== 0 })), (w) => warnings.push(w));
      if (!res) continue;
      idx.forEach((j, t) => {
        const r = res[t];
        if (!r) return;
        if (r.object && objIds[j]! < 0) { objIds[j] = internObj(r.object); objSrc[j] = P('ko-dwarf'); hit++; }
        if (r.size != null && !(flags[j]! & F_EXACT_SIZE)) { exactSizes[j] = r.size; flags[j]! |= F_EXACT_SIZE; }
      });
    }
    stats['ko-dwarf.hits'] = hit;
  }

  const data: TableData = {
    keys, ksizes, exactSizes, names, types, modSetIds, modSets, objIds, objnames, flags, modSrc, objSrc,
    provenance: [...PROV],
    ...(nameIndex ? { nameIndex: { heads: nameIndex.heads, next: nameIndex.next } } : {}),
    ...(asLinked ? { addressesAsLinked: true } : {}),
  };
  stats['symbols'] = n;
  return { table: new SymbolTable(data), report: { warnings, slide, base: base.label, stats } };
}
