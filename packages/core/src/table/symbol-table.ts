import { keyToHex, keyFromHex, KERNEL_BASE } from '../address.js';
import type { ObjnameMode, PrintedRef, Reason, RefJson, Resolution, SymbolJson } from '../types.js';
import { describe, resolveReference, type Hints, type Printed } from './resolve-policy.js';
import { NameIndex, type NameStore } from './name-store.js';
import { SymbolCache } from './symbol-cache.js';
import { formatAmbiguous, formatModules, formatTriplet } from '../notation.js';

/** Per-symbol flag bits (TableData.flags). */

/** One noteCheck call, as recorded in `SymbolTable.checkLog`. */
export type CheckRecord = readonly [agree: boolean, example: string | undefined];
const AGREED: CheckRecord = [true, undefined];

export const F_LOADABLE = 1;      // in a loadable module (kallsyms `[mod]`)
export const F_DYNAMIC = 2;       // pseudo-module: [bpf], [__builtin__ftrace], [__builtin__kprobes]
export const F_PADDING = 4;       // __pfx_/__cfi_ padding of the next function
export const F_EXACT_SIZE = 8;    // exactSizes[i] is known (ELF st_size, kallmodsyms size)

/**
 * The merged symbol table: one struct of typed arrays sorted by address (ties: preferred alias
 * first), so it can be serialised as-is (snapshot, worker threads, native addon) and scanned
 * without allocation.
 */
export interface TableData {
  keys: Float64Array;          // start address keys, ascending
  ksizes: Float64Array;        // kallsyms size: distance to the next distinct address of the same block; 0 = unknown
  exactSizes: Float64Array;    // valid where F_EXACT_SIZE
  names: NameStore;
  types: Uint8Array;           // type letter char code
  modSetIds: Uint32Array;      // index into modSets; 0 is [] (core kernel)
  modSets: string[][];
  objIds: Int32Array;          // index into objnames, -1 unknown
  objnames: string[];
  flags: Uint8Array;
  modSrc: Uint8Array;          // index into provenance: which source gave the module list
  objSrc: Uint8Array;          // index into provenance: which source gave the objname
  provenance: string[];        // source labels ("kallsyms", "ranges", "linker-map", "dwarf", ...)
  /** A by-name index built earlier (snapshots carry it: building it costs ~8 ms of start-up). */
  nameIndex?: { heads: Int32Array; next: Int32Array };
  /** The address index built earlier (snapshots carry it: ~2-3 ms of start-up). */
  addressIndex?: AddressIndex;
  /**
   * The keys are System.map's as linked although a running kernel's were wanted: its kallsyms
   * hid them (kptr_restrict, not root) and no --kaslr-offset said the slide. Names, modules and
   * objnames are right; on a KASLR boot every address is off by the unknown slide.
   */
  addressesAsLinked?: boolean;
}

/**
 * Direct bucket index over the keys (shared/reference/native.md: 76 M lookups/s vs 9-16 M/s
 * for a binary search): starts[j] is the first symbol index whose key is >= base + j·width.
 */
export interface AddressIndex { base: number; width: number; starts: Int32Array }

export function buildAddressIndex(keys: Float64Array): AddressIndex {
  const n = keys.length;
  if (n === 0) return { base: 0, width: 1, starts: new Int32Array(1) };
  // index the kernel half only: absolute per-CPU symbols at 0x0... would stretch the span
  let first = 0;
  while (first < n && keys[first]! < KERNEL_BASE) first++;
  if (first === n) first = 0;
  const base = keys[first]!;
  const span = keys[n - 1]! - base + 1;
  let shift = 0;
  // about two buckets per symbol: ~0.5 symbols to scan per lookup, and a cheap build
  while (span / 2 ** shift > Math.min(2 ** 21, Math.max(1024, 2 * n))) shift++;
  const width = 2 ** shift;
  const nb = Math.ceil(span / width) + 2;
  const starts = new Int32Array(nb);
  let i = first;
  for (let j = 0; j < nb; j++) {
    const start = base + j * width;
    while (i < n && keys[i]! < start) i++;
    starts[j] = i;
  }
  return { base, width, starts };
}

export interface NameQuery {
  name: string;
  offset?: number | null;
  /** Printed kallsyms size (`/0x40`): narrows duplicates. */
  size?: number | null;
  /** Printed module (`[mod]`): narrows duplicates. */
  module?: string | null;
}

const NO_CANDIDATES: SymbolJson[] = [];

/** Why nothing is looked up by address when the sources hide addresses (also resolve's refusal). */
export const HIDDEN_ADDRESSES = 'the symbol sources hide every address (all zero: kptr_restrict, or not root)';

/** The table index a Resolution came from (a symbol key: JSON output does not show it). */
const SYMBOL_INDEX = Symbol('kallmod.symbolIndex');
type IndexedResolution = Resolution & { [SYMBOL_INDEX]?: number };

/** The table index of the symbol a Resolution names, -1 when none (ambiguous, unresolved, or not made from the table). */
export function symbolIndexOf(r: Resolution): number {
  return (r as IndexedResolution)[SYMBOL_INDEX] ?? -1;
}

export function isTextType(t: number): boolean {
  // t T w W (and i for some arches' init text)
  const c = t | 32;
  return c === 116 || c === 119;
}

/**
 * Shortest path suffix that no other objname ends with (kallmodsyms prints these). Runs on
 * the first `{obj.o}` a run prints: a deeper suffix can only be shared by objnames with the same basename, so
 * only those groups are looked at (all suffixes of all objnames took ~4 ms on a 6.12 kernel).
 */
export function shortestSuffixes(objnames: readonly string[]): string[] {
  const groups = new Map<string, number[]>();
  objnames.forEach((o, i) => {
    const base = o.slice(o.lastIndexOf('/') + 1);
    const g = groups.get(base);
    if (g) g.push(i); else groups.set(base, [i]);
  });
  const out = new Array<string>(objnames.length);
  for (const [base, g] of groups) {
    if (g.length === 1) { out[g[0]!] = base; continue; }
    const lists = g.map((i) => pathSuffixes(objnames[i]!));
    const count = new Map<string, number>();
    for (const l of lists) for (const x of l) count.set(x, (count.get(x) ?? 0) + 1);
    g.forEach((i, k) => { out[i] = lists[k]!.find((x) => count.get(x) === 1) ?? objnames[i]!; });
  }
  return out;
}

/** 'a/b/c.o' → ['c.o', 'b/c.o', 'a/b/c.o']. */
function pathSuffixes(o: string): string[] {
  const out: string[] = [];
  for (let p = o.lastIndexOf('/'); p >= 0; p = p === 0 ? -1 : o.lastIndexOf('/', p - 1)) out.push(o.slice(p + 1));
  out.push(o);
  return out;
}

export class SymbolTable {
  readonly d: TableData;
  readonly length: number;
  private objShortMemo: string[] | null = null;
  /** Each objname's shortest unique suffix (`{obj.o}`), by object id: made on first use (~1.6 ms on a distro kernel). */
  get objShort(): string[] { return (this.objShortMemo ??= shortestSuffixes(this.d.objnames)); }
  private bucketBase = 0;
  private bucketWidth = 1;
  private buckets: Int32Array = new Int32Array(1);
  // per-symbol memos: annotation text per --objname mode, "0x..." address, decoded name
  private readonly annCache: SymbolCache<string>[];
  private readonly hexCache: SymbolCache<string>;
  private readonly nameCache: SymbolCache<string>;

  /**
   * Printed references checked against the table (a printed address must name the printed
   * symbol, a printed /size must be some candidate's kallsyms size), and how many disagreed.
   * Many disagreements mean the input comes from another kernel or boot than the sources.
   */
  readonly consistency = { checked: 0, disagreed: 0, example: '' };
  private onInconsistent: ((c: SymbolTable['consistency']) => void) | null = null;

  /** Call `fn` once, as soon as disagreements pass 5% of at least 20 checked references. */
  watchConsistency(fn: (c: SymbolTable['consistency']) => void): void { this.onInconsistent = fn; }

  /**
   * While set, every noteCheck is also appended here: a transformer that memoises a line's
   * annotation by its bytes replays the checks its first resolution made (checkLog.ts), so
   * that the counts and the warning are those of resolving every line.
   */
  checkLog: CheckRecord[] | null = null;

  /** Record one check of printed text against the table (transformers call it). */
  noteCheck(agree: boolean, example?: string): void {
    if (this.checkLog) this.checkLog.push(agree ? AGREED : [false, example]);
    // without addresses (hidden) there is nothing to hold printed addresses and sizes against
    if (this.addressesHidden) return;
    const c = this.consistency;
    c.checked++;
    if (agree) return;
    c.disagreed++;
    if (!c.example && example) c.example = example;
    if (this.onInconsistent && c.checked >= 20 && c.disagreed * 20 > c.checked) {
      const fn = this.onInconsistent;
      this.onInconsistent = null;
      fn(c);
    }
  }

  /**
   * Every address is zero: kptr_restrict (or no CAP_SYSLOG) hid them. Names, modules and
   * objnames are still right; no address may be looked up or printed (the sorted keys' last
   * one is their maximum, so this is one comparison).
   */
  readonly addressesHidden: boolean;
  /** Symbols in the kernel half (a 64-bit kernel): lower addresses are not kernel addresses. */
  readonly is64: boolean;
  /** TableData.addressesAsLinked: the addresses may be off by an unknown KASLR slide. */
  get addressesAsLinked(): boolean { return this.d.addressesAsLinked === true; }

  constructor(d: TableData) {
    this.d = d;
    this.length = d.keys.length;
    const top = this.length ? d.keys[this.length - 1]! : 0;
    this.addressesHidden = this.length > 0 && top === 0;
    this.is64 = top >= KERNEL_BASE;
    this.annCache = [new SymbolCache(this.length), new SymbolCache(this.length), new SymbolCache(this.length)];
    this.hexCache = new SymbolCache(this.length);
    this.nameCache = new SymbolCache(this.length);
    const ix = d.addressIndex ?? buildAddressIndex(d.keys);
    this.bucketBase = ix.base;
    this.bucketWidth = ix.width;
    this.buckets = ix.starts;
    // hidden addresses: an index below which every key falls, so that floorIndex (and
    // lookupKey, every transformer's hot path) finds nothing without a test of its own
    if (this.addressesHidden) { this.bucketBase = Infinity; this.buckets = new Int32Array(1); }
  }

  /** The address index (snapshots and worker threads carry it). */
  addressIndex(): AddressIndex {
    return { base: this.bucketBase, width: this.bucketWidth, starts: this.buckets };
  }

  /**
   * Index of the last symbol whose start is <= key (preferred alias), or -1. No bounds check.
   * Below the indexed region (user-half keys of a 64-bit table: only per-CPU offsets lie there),
   * NaN, or any key of a table with hidden addresses: -1.
   */
  floorIndex(key: number): number {
    const { keys } = this.d;
    const off = key - this.bucketBase;
    if (!(off >= 0)) return -1;
    const j = Math.floor(off / this.bucketWidth);
    let i = j + 1 >= this.buckets.length ? this.length - 1 : this.buckets[j + 1]! - 1;
    while (i >= 0 && keys[i]! > key) i--;
    if (i < 0) return -1;
    // ties are sorted preferred-first: go back to the first alias
    const k = keys[i]!;
    while (i > 0 && keys[i - 1] === k) i--;
    return i;
  }

  /** Index of the symbol containing the address key, or -1 (hot path: no allocation). */
  lookupKey(key: number): number {
    const i = this.floorIndex(key);
    if (i < 0) return -1;
    const d = this.d;
    // absolute symbols (per-CPU offsets) are not code addresses
    if ((d.types[i]! | 32) === 97) return -1;
    const off = key - d.keys[i]!;
    const ks = d.ksizes[i]!;
    if (ks > 0) return off < ks ? i : -1;
    if (d.flags[i]! & F_EXACT_SIZE) return off < Math.max(d.exactSizes[i]!, 1) ? i : -1;
    // last symbol of a block with no known size: accept within a page, as perf does
    return off < 4096 ? i : -1;
  }

  /** Symbol i's name (memoised: a snapshot's names are bytes, decoded on demand). */
  name(i: number): string { return this.nameCache.get(i) ?? this.nameCache.set(i, this.d.names.get(i)); }
  modules(i: number): string[] { return this.d.modSets[this.d.modSetIds[i]!]!; }
  objname(i: number): string | null { const o = this.d.objIds[i]!; return o < 0 ? null : this.d.objnames[o]!; }
  objnameShort(i: number): string | null { const o = this.d.objIds[i]!; return o < 0 ? null : this.objShort[o]!; }
  isBuiltin(i: number): boolean { return this.d.modSetIds[i] !== 0 && !(this.d.flags[i]! & F_LOADABLE); }
  isText(i: number): boolean { return isTextType(this.d.types[i]!); }
  kallsymsSize(i: number): number { return this.d.ksizes[i]!; }

  private loadableKnown: boolean | null = null;
  isLoadable(i: number): boolean { return (this.d.flags[i]! & F_LOADABLE) !== 0; }

  /** Do the sources list loadable modules (kallsyms `[mod]`, /proc/modules)? */
  knowsLoadable(): boolean {
    return (this.loadableKnown ??= this.d.flags.some((f) => (f & F_LOADABLE) !== 0));
  }

  private nameIndex: NameIndex | null = null;
  private needsObj: Int8Array | null = null;

  /** The by-name index (built on first use, or taken from a snapshot). */
  index(): NameIndex {
    return (this.nameIndex ??= new NameIndex(this.d.names, this.d.nameIndex));
  }

  /**
   * Whether (name, modules) of text symbol i is shared by another text symbol at another
   * address, so only the objname tells them apart (--objname=ambiguous). Per symbol, on demand.
   */
  needsObjname(i: number): boolean {
    const cache = (this.needsObj ??= new Int8Array(this.length).fill(-1));
    let v = cache[i]!;
    if (v < 0) {
      const { modSetIds } = this.d;
      v = 0;
      if (this.isText(i)) {
        for (const k of this.index().sameName(i)) {
          if (k !== i && !this.sameAddress(k, i) && modSetIds[k] === modSetIds[i] && this.isText(k)) { v = 1; break; }
        }
      }
      cache[i] = v;
    }
    return v === 1;
  }

  /**
   * Are symbols i and j one function (aliases at one address)? Never when addresses are
   * hidden: every key is zero there, and distinct copies must stay distinct.
   */
  sameAddress(i: number, j: number): boolean {
    return !this.addressesHidden && this.d.keys[i] === this.d.keys[j];
  }

  /** Indices of every symbol with this exact name, address order. */
  indicesByName(name: string): readonly number[] {
    return this.index().find(name);
  }

  /** Every name that occurs more than once among text symbols, with its indices. */
  duplicatedNames(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const seen = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) {
      if (seen[i] || !this.isText(i)) continue;
      const same = this.index().sameName(i);
      for (const j of same) seen[j] = 1;
      const text = same.filter((j) => this.isText(j));
      if (text.length > 1) out.set(this.name(i), text);
    }
    return out;
  }

  /**
   * The one definition of a duplicated name (`kallmod dups` and `kallmod sources` count these):
   * a text symbol name that two or more addresses carry. `__pfx_`/`__cfi_` padding does not
   * count (it doubles every duplicate), and aliases at one address are one function (the
   * preferred one is kept). Indices in address order.
   */
  duplicateGroups(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [name, idx] of this.duplicatedNames()) {
      if (this.d.flags[idx[0]!]! & F_PADDING) continue;
      const sorted = idx.slice().sort((a, b) => a - b);
      const uniq = sorted.filter((i, k) => k === 0 || !this.sameAddress(i, sorted[k - 1]!));
      if (uniq.length > 1) out.set(name, uniq);
    }
    return out;
  }

  symbolJson(i: number): SymbolJson {
    const d = this.d;
    const exact = (d.flags[i]! & F_EXACT_SIZE) !== 0;
    const nm = this.name(i);
    const j: SymbolJson = {
      address: this.hexAddress(i),
      name: nm,
      size: exact ? d.exactSizes[i]! : d.ksizes[i]!,
      sizeInferred: !exact,
      kallsymsSize: d.ksizes[i]!,
      type: String.fromCharCode(d.types[i]!),
      modules: this.modules(i),
      builtin: this.isBuiltin(i),
      objname: this.objname(i),
      objnameShort: this.objnameShort(i),
    };
    if (d.flags[i]! & F_PADDING) j.paddingOf = nm.slice(6);
    return j;
  }


  /** "0x..." of symbol i, cached: transformers resolve the same hot symbols again and again. Null when hidden. */
  hexAddress(i: number): string | null {
    if (this.addressesHidden) return null;
    return this.hexCache.get(i) ?? this.hexCache.set(i, keyToHex(this.d.keys[i]!));
  }

  /** Resolution of symbol i (offset from its start given), decided by `reason` (resolve-policy.ts). */
  resolutionBy(i: number, offset: number | null, reason: Reason[]): Resolution {
    const s = this.symbolJson(i);
    const r: Resolution = {
      address: s.address, name: s.name, offset, size: s.size, sizeInferred: s.sizeInferred,
      kallsymsSize: s.kallsymsSize, type: s.type, modules: s.modules, builtin: s.builtin,
      objname: s.objname, objnameShort: s.objnameShort, ambiguous: false, candidates: NO_CANDIDATES,
      resolvedBy: this.provenanceOf(i, describe(reason)), reason,
    };
    if (s.paddingOf !== undefined) r.paddingOf = s.paddingOf;
    (r as IndexedResolution)[SYMBOL_INDEX] = i;
    return r;
  }

  private provenanceOf(i: number, how: string): string {
    const d = this.d;
    return `${how}; module:${d.provenance[d.modSrc[i]!]}; objname:${d.provenance[d.objSrc[i]!]}`;
  }

  /** Nothing resolved, for a reason the policy gives. */
  unresolvedBy(reason: Reason[], offset: number | null): Resolution {
    return SymbolTable.unresolved(describe(reason), offset, reason);
  }

  static unresolved(resolvedBy: string, offset: number | null = null, reason: Reason[] = []): Resolution {
    return {
      address: null, name: null, offset, size: null, sizeInferred: null, kallsymsSize: null, type: null,
      modules: [], builtin: false, objname: null, objnameShort: null, ambiguous: false, candidates: NO_CANDIDATES,
      resolvedBy, reason,
    };
  }

  /**
   * THE answer to "which symbol does this printed reference mean" (table/resolve-policy.ts):
   * every transformer and `lookup` ask here, with what the text printed and what kind of text it is.
   */
  resolve(p: Printed, hints?: Hints): Resolution { return resolveReference(this, p, hints); }

  /** Address → symbol. Never ambiguous: an address lies inside one symbol. */
  resolveKey(key: number): Resolution {
    return resolveReference(this, { name: null, offset: null, size: null, address: null }, { key });
  }

  /** Why an address key cannot name a symbol of this table (null: it may). */
  whyNoAddress(key: number): string | null {
    if (this.addressesHidden) return HIDDEN_ADDRESSES;
    if (Number.isNaN(key)) return 'not a kernel address';
    if (key === 0) return 'a zero address (hidden by kptr_restrict where it was printed)';
    if (this.is64 && key < KERNEL_BASE) return 'not a kernel address (user half)';
    return null;
  }

  /** Name (+offset, /size, [module]) → symbol, or ambiguous with every candidate. */
  resolveName(q: NameQuery): Resolution {
    return resolveReference(this, { name: q.name, offset: q.offset ?? null, size: q.size ?? null, address: null, module: q.module ?? null });
  }

  /** One candidate → resolved; several → ambiguous with candidates; none → unresolved. */
  resolveAmongBy(indices: readonly number[], offset: number | null, reason: Reason[]): Resolution {
    if (indices.length === 1) return this.resolutionBy(indices[0]!, offset, reason);
    const how = describe(reason);
    if (indices.length === 0) return SymbolTable.unresolved(`${how}: no such symbol`, offset, reason);
    const r = SymbolTable.unresolved(`${how}: ${indices.length} candidates`, offset, reason);
    r.name = this.name(indices[0]!);
    r.ambiguous = true;
    r.candidates = indices.map((i) => this.symbolJson(i));
    return r;
  }

  /** Symbol i or an alias at its address with this name (i itself first), or -1. */
  aliasNamed(i: number, name: string): number {
    const k = this.d.keys[i]!;
    if (this.name(i) === name) return i;
    for (let j = i + 1; j < this.length && this.d.keys[j] === k; j++) if (this.d.names.equals(j, name)) return j;
    return -1;
  }

  /**
   * The annotation text for symbol i, leading space included ("" when there is nothing to
   * add): ` [mod]`, ` [m1] [m2]`, ` {obj.o}`, or both. Cached per symbol and mode.
   */
  annotation(i: number, mode: ObjnameMode): string {
    const m = mode === 'always' ? 0 : mode === 'ambiguous' ? 1 : 2;
    const cache = this.annCache[m]!;
    let s = cache.get(i);
    if (s === undefined) {
      // no objname known: nothing to show, and no need to build the by-name index for it
      const showObj = this.d.objIds[i]! >= 0 && (m === 0 || (m === 1 && this.needsObjname(i)));
      s = cache.set(i, formatTriplet(this.modules(i), showObj ? this.objnameShort(i) : null));
    }
    return s;
  }

  /**
   * The annotation for a reference that already printed a `[mod]` after itself (kernel logs,
   * ftrace): the module part is not repeated when it says the same.
   */
  annotationAfterPrinted(r: Resolution, printedModule: string | null | undefined, mode: ObjnameMode): string {
    const a = this.annotationOf(r, mode);
    if (!a || !printedModule || r.ambiguous || r.modules.length !== 1 || r.modules[0] !== printedModule) return a;
    const m = formatModules(r.modules);
    return a.startsWith(m) ? a.slice(m.length) : a;
  }

  /** The annotation for any resolution (ambiguous ones list their candidates). */
  annotationOf(r: Resolution, mode: ObjnameMode): string {
    if (r.ambiguous) return formatAmbiguous(r.candidates);
    const known = (r as IndexedResolution)[SYMBOL_INDEX];
    if (known !== undefined) return this.annotation(known, mode);
    if (r.name === null || r.address === null) return '';
    const key = keyFromHex(r.address);
    const i = this.floorIndex(key);
    if (i >= 0) for (let j = i; j < this.length && this.d.keys[j] === key; j++) if (this.name(j) === r.name) return this.annotation(j, mode);
    return formatTriplet(r.modules, mode === 'never' ? null : r.objnameShort);
  }
}

/** The `--refs` object for one printed reference and its resolution. */
export function refJson(line: number, p: PrintedRef, r: Resolution): RefJson {
  return {
    line, text: p.text, name: p.name, offset: p.offset, size: p.size, address: p.address,
    symbolAddress: r.address, symbolSize: r.size, modules: r.modules, builtin: r.builtin,
    objname: r.objname, objnameShort: r.objnameShort, ambiguous: r.ambiguous, candidates: r.candidates,
    resolvedBy: r.resolvedBy,
  };
}
