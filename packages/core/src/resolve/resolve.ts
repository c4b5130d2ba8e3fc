/**
 * One query → one answer: the symbol and the output forms asked for, or why not
 * (no such symbol, several candidates — every one listed with its full triplet —, or an output
 * form that cannot be made for it).
 */
import { KallmodError } from '../errors.js';
import { formatTriplet } from '../notation.js';
import { HIDDEN_ADDRESSES, type SymbolTable } from '../table/symbol-table.js';
import type { SymbolJson } from '../types.js';
import { ftraceIndex, type FilterFunctions } from './filter-functions.js';
import { matchQuery } from './match.js';
import { bpftraceSpec, eventName, kprobeLine, perfProbeSpec, probeAddress } from './outputs.js';
import { parseResolveQuery, type ResolveQuery } from './query.js';

export interface ResolveOptions {
  kprobe?: boolean;
  kretprobe?: boolean;
  perfProbe?: boolean;
  bpftrace?: boolean;
  ftraceIndex?: boolean;
  /** Event name for the probe forms (default: derived from name and objname). */
  event?: string | null;
  /** Probe group (default `kallmod`). */
  group?: string;
  /** Needed for ftraceIndex; called once, when the first answer needs it. */
  filterFunctions?: () => FilterFunctions;
}

/** A candidate, with the shortest query that names it alone (null: nothing tells it apart). */
export type CandidateJson = SymbolJson & { query: string | null };

export interface ResolveAnswer {
  query: string;
  /** Symbol start + offset, "0x..." (absent on error). */
  address?: string;
  name?: string;
  offset?: number;
  modules?: string[];
  builtin?: boolean;
  objname?: string | null;
  objnameShort?: string | null;
  type?: string;
  kallsymsSize?: number;
  kprobe?: string;
  kretprobe?: string;
  perfProbe?: string;
  bpftrace?: string;
  bpftraceNote?: string;
  ftraceIndex?: number | null;
  ftraceIndexBy?: string;
  ftraceIndexError?: string;
  /** Why the query did not resolve (or an output form could not be made). */
  error?: string;
  /** 'ambiguous' | 'not-found' | 'invalid' | 'refused' (an output form failed) | 'hidden' (the sources hide addresses) */
  errorKind?: 'ambiguous' | 'not-found' | 'invalid' | 'refused' | 'hidden';
  candidates?: CandidateJson[];
}

/** Shortest query in kallmod's notation that names symbol i alone (short objname, else the full path), or null. */
export function uniqueQueryFor(t: SymbolTable, i: number): string | null {
  const name = t.name(i);
  const mods = t.modules(i);
  const short = t.objnameShort(i);
  const tries = [name, `${name}${formatTriplet(mods, null)}`, `${name}${formatTriplet(mods, short)}`];
  const full = t.objname(i);
  if (full && full !== short) tries.push(`${name}${formatTriplet(mods, full)}`);
  for (const q of tries) {
    const m = matchQuery(t, parseResolveQuery(q));
    if (m.indices.length === 1 && (m.indices[0] === i || t.sameAddress(m.indices[0]!, i))) return q;
  }
  return null;
}

export function candidateJson(t: SymbolTable, i: number): CandidateJson {
  return { ...t.symbolJson(i), query: uniqueQueryFor(t, i) };
}

export function resolveQueryText(t: SymbolTable, text: string, o: ResolveOptions = {}): ResolveAnswer {
  let q: ResolveQuery;
  try { q = parseResolveQuery(text); } catch (e) {
    if (e instanceof KallmodError) return { query: text.trim(), error: e.message, errorKind: 'invalid', candidates: [] };
    throw e;
  }
  const m = matchQuery(t, q);
  if (m.indices.length === 0) {
    // a printed /size that no copy has: say which sizes there are (another kernel's log?)
    const sizes = q.size === null ? [] : matchQuery(t, { ...q, size: null }).indices.map((i) => `0x${t.kallsymsSize(i).toString(16)}`);
    const have = sizes.length ? `; ${q.name} has kallsyms size ${sizes.join(', ')} here` : '';
    return { query: q.text, error: `no symbol matches (${m.how})${have}`, errorKind: 'not-found', candidates: [] };
  }
  if (m.indices.length > 1) {
    return {
      query: q.text, error: `ambiguous: ${m.indices.length} symbols match (${m.how}); name one with its triplet`,
      errorKind: 'ambiguous', candidates: m.indices.map((i) => candidateJson(t, i)),
    };
  }
  if (t.addressesHidden) return hiddenAnswer(t, m.indices[0]!, q, o, HIDDEN_REFUSAL);
  // a probe at a link-time address on a KASLR boot is a probe somewhere else: refused as hidden
  if (t.addressesAsLinked) return hiddenAnswer(t, m.indices[0]!, q, o, AS_LINKED_REFUSAL);
  return answerFor(t, m.indices[0]!, q, o);
}

/** Said when an output form needs an address: what still works by name. */
export const HIDDEN_REFUSAL = `${HIDDEN_ADDRESSES}: no address, kprobe, perf probe or ftrace index can be made. ` +
  'By name these still work: lookup NAME (its triplet), dups, the transformers (perf, trace, dmesg, json) on printed names, ' +
  'resolve --bpftrace for a name unique in the kernel or its module. Run as root, or use a snapshot `kallmod capture` took as root';

/** Said when the only addresses are System.map's as linked, the running kernel's hidden. */
export const AS_LINKED_REFUSAL = 'the running kernel hides its addresses (kallsyms all zero: kptr_restrict, or not root) and the ' +
  'System.map addresses are as linked: on a KASLR boot they are off by a slide no source says, so no address, kprobe, perf probe ' +
  'or ftrace index is made. Pass --kaslr-offset HEX (0 on a boot without KASLR), run as root, or use a snapshot `kallmod capture` ' +
  'took as root; resolve --bpftrace still works by name';

/**
 * The symbol, without any address: a zero (or a link-time address) would be taken for one. Only bpftrace's by-name
 * forms can be made; any other output form asked for (or the default, the address) is refused.
 */
function hiddenAnswer(t: SymbolTable, i: number, q: ResolveQuery, o: ResolveOptions, refusal: string): ResolveAnswer {
  const s = t.symbolJson(i);
  const a: ResolveAnswer = {
    query: q.text, name: s.name, ...(q.offset ? { offset: q.offset } : {}),
    modules: s.modules, builtin: s.builtin, objname: s.objname, objnameShort: s.objnameShort, type: s.type,
  };
  let byName = false;
  if (o.bpftrace) {
    const b = bpftraceSpec(t, i, q.offset ?? 0);
    if (!b.spec.startsWith('kprobe:0x')) { a.bpftrace = b.spec; a.bpftraceNote = b.note; byName = true; }
  }
  const needAddress = o.kprobe || o.kretprobe || o.perfProbe || o.ftraceIndex || !byName;
  if (needAddress) { a.error = refusal; a.errorKind = 'hidden'; }
  return a;
}

function answerFor(t: SymbolTable, i: number, q: ResolveQuery, o: ResolveOptions): ResolveAnswer {
  const off = q.offset ?? 0;
  const s = t.symbolJson(i);
  const address = probeAddress(t, i, off);
  const a: ResolveAnswer = {
    query: q.text, address, name: s.name, ...(off ? { offset: off } : {}),
    modules: s.modules, builtin: s.builtin, objname: s.objname, objnameShort: s.objnameShort,
    type: s.type, kallsymsSize: s.kallsymsSize,
  };
  const group = o.group ?? 'kallmod';
  const refuse = (msg: string) => { a.error = a.error ? `${a.error}; ${msg}` : msg; a.errorKind = 'refused'; };
  if (o.kprobe) a.kprobe = kprobeLine('p', group, o.event ?? eventName(t, i, off), address);
  if (o.kretprobe) {
    if (off) refuse('--kretprobe: a return probe goes on the function entry, not at an offset');
    else a.kretprobe = kprobeLine('r', group, o.event ?? eventName(t, i, 0, o.kprobe ? '__ret' : ''), address);
  }
  if (o.perfProbe) a.perfProbe = perfProbeSpec(group, o.event ?? eventName(t, i, off), address);
  if (o.bpftrace) {
    const b = bpftraceSpec(t, i, off);
    a.bpftrace = b.spec;
    a.bpftraceNote = b.note;
  }
  if (o.ftraceIndex) {
    if (off) {
      a.ftraceIndex = null;
      a.ftraceIndexError = 'ftrace filters whole functions: drop the +offset';
      refuse(`--ftrace-index: ${a.ftraceIndexError}`);
    } else if (!o.filterFunctions) {
      throw new KallmodError('--ftrace-index needs the filter functions list', { exitCode: 2 });
    } else {
      const r = ftraceIndex(t, o.filterFunctions(), i);
      if (r.ok) { a.ftraceIndex = r.index; a.ftraceIndexBy = `${r.by}: ${r.detail}`; }
      else { a.ftraceIndex = null; a.ftraceIndexError = r.reason; refuse(`--ftrace-index: ${r.reason}`); }
    }
  }
  return a;
}
