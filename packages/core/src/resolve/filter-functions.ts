/**
 * `available_filter_functions` / `available_filter_functions_addrs` (tracefs, formats.md §8):
 * parse them and find the 1-based line (the index `set_ftrace_filter` accepts) of one symbol.
 *
 *   name [SP "[" mod "]"]                  available_filter_functions
 *   patchaddr SP name [SP "[" mod "]"]     available_filter_functions_addrs (6.5+; %lx, no 0x)
 *
 * With patch-site addresses a line is matched to the symbol that contains its patch site (the
 * largest symbol address ≤ patch address, same module, within the symbol). Without them the
 * duplicates of one name are matched by order: the core kernel's records are sorted by address
 * and so are each module's, so the n-th line of a (name, module) is the n-th such function by
 * address — when the counts agree. When they do not (a copy without a record), a line is still
 * placed when the lines of the nearest names unique in both (file and table) around it bracket
 * exactly one function of that name: the records are sorted, so it can be no other.
 * Anything else is refused.
 */
import { keyFromHex, keyToHex } from '../address.js';
import { KallmodError } from '../errors.js';
import { F_DYNAMIC, F_LOADABLE, F_PADDING, type SymbolTable } from '../table/symbol-table.js';

export interface FilterFunctions {
  path: string;
  /** Lines carry patch-site addresses (available_filter_functions_addrs). */
  hasAddrs: boolean;
  /** Per line (0-based): name, loadable module tag or null, patch-site key (NaN without). */
  names: string[];
  modules: (string | null)[];
  addrs: Float64Array;
  /** "name\0module" → 0-based line numbers, file order. */
  byName: Map<string, number[]>;
}

const LINE = /^(?:([0-9a-fA-F]+) )?([^\s[]\S*)(?: \[([^\]\s]+)\])?\s*$/;

export function parseFilterFunctions(buf: Buffer | string, path: string): FilterFunctions {
  const text = typeof buf === 'string' ? buf : buf.toString('latin1');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const names: string[] = [];
  const modules: (string | null)[] = [];
  const addrs = new Float64Array(lines.length);
  const byName = new Map<string, number[]>();
  let withAddr = 0;
  for (let n = 0; n < lines.length; n++) {
    const m = LINE.exec(lines[n]!);
    if (!m) throw new KallmodError('not an available_filter_functions[_addrs] line', { file: path, line: n + 1, exitCode: 2 });
    // "deadbeef" alone is a name; "ffffffff81000000 name" has an address
    names.push(m[2]!);
    modules.push(m[3] ?? null);
    if (m[1] !== undefined) { addrs[n] = keyFromHex(m[1]); withAddr++; } else addrs[n] = NaN;
    const k = `${m[2]!}\0${m[3] ?? ''}`;
    const l = byName.get(k);
    if (l) l.push(n); else byName.set(k, [n]);
  }
  if (withAddr !== 0 && withAddr !== lines.length) {
    throw new KallmodError(`mixed lines with and without addresses (${withAddr} of ${lines.length} have one)`, { file: path, exitCode: 2 });
  }
  return { path, hasAddrs: withAddr > 0, names, modules, addrs, byName };
}

export type FtraceIndex =
  | { ok: true; index: number; by: 'addrs' | 'order' | 'neighbours'; detail: string }
  | { ok: false; reason: string };

/** The module tag ftrace prints for symbol i: its loadable module, or none (core, built-in). */
export function ftraceModuleTag(t: SymbolTable, i: number): string | null {
  return t.d.flags[i]! & F_LOADABLE ? (t.modules(i)[0] ?? null) : null;
}

/** [_sinittext, _einittext): vmlinux init text, freed after boot (no ftrace records then). */
function initTextBounds(t: SymbolTable): [number, number] | null {
  const s = t.indicesByName('_sinittext')[0];
  const e = t.indicesByName('_einittext')[0];
  if (s === undefined || e === undefined) return null;
  return [t.d.keys[s]!, t.d.keys[e]!];
}

/** The functions that can own a line "name [tag]": same name and tag, no padding, one per address. */
function functionsFor(t: SymbolTable, name: string, tag: string | null): number[] {
  const init = initTextBounds(t);
  const out: number[] = [];
  let last = NaN;
  for (const i of t.indicesByName(name)) {
    if (!t.isText(i) || t.d.flags[i]! & (F_PADDING | F_DYNAMIC)) continue;
    if (ftraceModuleTag(t, i) !== tag) continue;
    const k = t.d.keys[i]!;
    if (tag === null && init && k >= init[0] && k < init[1]) continue;
    if (k === last) continue;
    last = k;
    out.push(i);
  }
  return out.sort((a, b) => t.d.keys[a]! - t.d.keys[b]!);
}

/** 1-based line of `ff` that is symbol i, or why it cannot be told. */
export function ftraceIndex(t: SymbolTable, ff: FilterFunctions, i: number): FtraceIndex {
  const name = t.name(i);
  const tag = ftraceModuleTag(t, i);
  const shown = `${name}${tag ? ` [${tag}]` : ''}`;
  const lines = ff.byName.get(`${name}\0${tag ?? ''}`) ?? [];
  if (lines.length === 0) return { ok: false, reason: `'${shown}' is not in ${ff.path} (notrace, inlined, init text, or another kernel)` };
  const key = t.d.keys[i]!;
  if (ff.hasAddrs) {
    const size = t.kallsymsSize(i) || 4096;
    const hits = lines.filter((n) => {
      const p = ff.addrs[n]!;
      if (!(p >= key && p < key + size)) return false;
      const j = t.floorIndex(p);
      return j >= 0 && t.d.keys[j] === key;
    });
    if (hits.length === 1) return { ok: true, index: hits[0]! + 1, by: 'addrs', detail: `patch site ${keyToHex(ff.addrs[hits[0]!]!)}` };
    if (hits.length === 0) {
      // a line of this name inside another function of this table: same boot, this copy is not traceable
      const anyInside = lines.some((n) => { const j = t.lookupKey(ff.addrs[n]!); return j >= 0 && t.name(j) === name; });
      return { ok: false, reason: anyInside
        ? `no patch site of ${ff.path} lies in this copy of '${shown}' (not traceable: notrace or no fentry)`
        : `no patch site of ${ff.path} lies in any '${shown}' of the symbol table (saved from another boot or kernel?)` };
    }
    return { ok: false, reason: `${hits.length} lines of ${ff.path} have patch sites in this '${shown}'` };
  }
  const fns = functionsFor(t, name, tag);
  const rank = fns.findIndex((j) => t.d.keys[j] === key);
  if (rank < 0) return { ok: false, reason: `this '${shown}' is init text (freed after boot, never in ${ff.path})` };
  if (fns.length !== lines.length) {
    // by neighbours: the line whose bracket of unique lines holds this function and no other copy
    const anchors = anchorsOf(t, ff);
    const mine = lines.filter((n) => {
      const [lo, hi] = bracket(ff, anchors, n);
      const inside = fns.filter((j) => t.d.keys[j]! > lo && t.d.keys[j]! < hi);
      return inside.length === 1 && inside[0] === fns[rank];
    });
    if (mine.length === 1) {
      return { ok: true, index: mine[0]! + 1, by: 'neighbours',
        detail: `${lines.length} line(s) for ${fns.length} functions of that name; the only one between its neighbouring unique functions` };
    }
    return { ok: false, reason: `${lines.length} line(s) '${shown}' in ${ff.path} but ${fns.length} function(s) of that name in the symbol table: ` +
      'cannot tell which line is this one (give available_filter_functions_addrs)' };
  }
  const detail = lines.length === 1 ? 'only line of that name' : `duplicate ${rank + 1} of ${lines.length} by address`;
  return { ok: true, index: lines[rank]! + 1, by: 'order', detail };
}

const anchorCache = new WeakMap<FilterFunctions, WeakMap<SymbolTable, Map<number, number>>>();

/** Lines whose (name, module) occurs once in the file and is one function of the table: line → its key. */
export function anchorsOf(t: SymbolTable, ff: FilterFunctions): Map<number, number> {
  let byTable = anchorCache.get(ff);
  if (!byTable) anchorCache.set(ff, (byTable = new WeakMap()));
  let out = byTable.get(t);
  if (out) return out;
  out = new Map();
  for (const [k, lines] of ff.byName) {
    if (lines.length !== 1) continue;
    const z = k.indexOf('\0');
    const fns = functionsFor(t, k.slice(0, z), k.slice(z + 1) || null);
    if (fns.length === 1) out.set(lines[0]!, t.d.keys[fns[0]!]!);
  }
  byTable.set(t, out);
  return out;
}

/** Keys of the nearest anchor lines before and after line n with the same module tag. */
function bracket(ff: FilterFunctions, anchors: Map<number, number>, n: number): [number, number] {
  const tag = ff.modules[n];
  let p = n - 1;
  while (p >= 0 && !(anchors.has(p) && ff.modules[p] === tag)) p--;
  let q = n + 1;
  while (q < ff.names.length && !(anchors.has(q) && ff.modules[q] === tag)) q++;
  return [p >= 0 ? anchors.get(p)! : -Infinity, q < ff.names.length ? anchors.get(q)! : Infinity];
}
