/**
 * Query → the symbols it denotes. The answer is a set of indices (one per address: aliases are
 * one function); the caller decides what one, several or none mean.
 */
import { F_DYNAMIC, F_PADDING, type SymbolTable } from '../table/symbol-table.js';
import { globToRegExp, isGlob, type ResolveQuery } from './query.js';

export interface MatchResult {
  /** Matching symbol indices, address order, one per address. */
  indices: number[];
  /** How the candidates were narrowed (for messages): "name", "name+module+objname", ... */
  how: string;
}

/** Whole-component path suffix: `super.o` and `ext4/super.o` match `fs/ext4/super.o`. */
export function objnameMatches(objname: string | null, q: string): boolean {
  if (objname === null) return false;
  if (objname === q || objname.endsWith('/' + q)) return true;
  // the table only knows a suffix (kallmodsyms prints short names): a longer query ending in it
  return q.endsWith('/' + objname);
}

function isPaddingName(n: string): boolean { return n.startsWith('__pfx_') || n.startsWith('__cfi_'); }

export function matchQuery(t: SymbolTable, q: ResolveQuery): MatchResult {
  const wantPadding = isPaddingName(q.name);
  let c: number[] = [];
  if (q.nameGlob) {
    const re = q.nameGlob;
    for (let i = 0; i < t.length; i++) {
      if (!t.isText(i)) continue;
      const nm = t.name(i);
      if (!re.test(nm) || (!wantPadding && isPaddingName(nm))) continue;
      c.push(i);
    }
    c.sort((a, b) => a - b);
  } else {
    c = t.indicesByName(q.name).slice();
    const text = c.filter((i) => t.isText(i));
    if (text.length) c = text;
  }
  // `__pfx_` padding is never a candidate for a function name
  if (!wantPadding) c = c.filter((i) => !(t.d.flags[i]! & F_PADDING));
  let how = 'name';
  if (q.modules) {
    const res = q.modules.map((m) => (isGlob(m) ? globToRegExp(m) : m));
    const has = (i: number) => {
      const mods = t.modules(i);
      return res.every((r) => (typeof r === 'string' ? mods.includes(r) : mods.some((m) => r.test(m))));
    };
    c = c.filter(has);
    // the printed notation lists every module: an exact list wins over a superset
    if (c.length > 1 && !q.modules.some(isGlob)) {
      const want = [...q.modules].sort().join(' ');
      const exact = c.filter((i) => [...t.modules(i)].sort().join(' ') === want);
      if (exact.length) c = exact;
    }
    how += '+module';
  }
  if (q.objname !== null) {
    const o = q.objname;
    c = c.filter((i) => objnameMatches(t.objname(i), o));
    if (c.length > 1) {
      const exact = c.filter((i) => t.objname(i) === o);
      if (exact.length) c = exact;
    }
    how += '+objname';
  }
  // the size a kernel log prints (func+off/size) is the kallsyms size: unknown when addresses are hidden
  if (q.size !== null && !t.addressesHidden) {
    const sz = q.size;
    c = c.filter((i) => t.kallsymsSize(i) === sz);
    how += '+size';
  }
  if (q.offset !== null && q.offset > 0) {
    const o = q.offset;
    c = c.filter((i) => { const k = t.kallsymsSize(i); return k === 0 || o < k; });
    how += '+offset';
  }
  // pseudo-module symbols ([bpf], [__builtin__ftrace]) only when nothing else matches
  const real = c.filter((i) => !(t.d.flags[i]! & F_DYNAMIC));
  if (real.length) c = real;
  // aliases at one address are one function: keep the preferred (first) one
  const out: number[] = [];
  const seen = new Set<number>();
  for (const i of c) { const k = t.d.keys[i]!; if (t.addressesHidden || !seen.has(k)) { seen.add(k); out.push(i); } }
  out.sort((a, b) => t.d.keys[a]! - t.d.keys[b]!);
  return { indices: out, how };
}
