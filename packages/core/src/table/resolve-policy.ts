/**
 * THE resolution policy: which symbol a printed kernel reference means. Transformers only
 * recognise text (the name, offset, size, address and module as printed) and say what kind of
 * text it is (`Hints`); the decision is made here, once, for all of them and for `lookup`, and
 * `Resolution.reason` records which rules made it. `resolvedBy` is spelled from those reasons
 * (`describe`), so that no caller ever parses it back.
 *
 * 1. A printed address decides when it can be looked up (not zero where it was printed, not
 *    hidden by the sources): the symbol it lies in, when that symbol or an alias at its start
 *    has the printed name (or no name was printed); for a return address (perf callchains), the
 *    symbol at address - 1 when that one has the printed name (a call that was the last
 *    instruction of a function). Inlined code takes the function it lies in, unchecked. Each
 *    address checked against a printed name is counted (SymbolTable.noteCheck): many
 *    disagreements mean the text comes from another kernel or boot.
 * 2. Otherwise the printed name: every symbol of that name (text symbols first), narrowed by the
 *    printed module, the printed kallsyms size (a module or size no candidate has is counted as a
 *    disagreement and recorded in `mismatch`), the offset, then what the hints allow (a log
 *    prints `[mod]` for every loadable-module symbol; a neighbour's module as evidence). One
 *    left: resolved; several: ambiguous with every candidate; none: unresolved. Never a guess.
 */
import { keyFromHex, keyToHex } from '../address.js';
import type { PrintedRef, Reason, Resolution } from '../types.js';
import type { SymbolTable } from './symbol-table.js';

/** What kind of text the reference was read from: which rules may apply beyond the printed parts. */
export interface Hints {
  /** The printed address may be a return address (perf callchains): address - 1 may be in the printed symbol. */
  returnAddress?: boolean;
  /** The printed name is inlined code (perf `(inlined)` frames): the address gives the function it is in. */
  inlined?: boolean;
  /** The text prints `[mod]` after every loadable-module symbol (kernel logs): none printed, not loadable. */
  modulePrintedWhenLoadable?: boolean;
  /** A kernel log's `func file.c:NN [inline]` line: said in resolvedBy (its code is in the caller below). */
  inlineFrame?: boolean;
  /** A neighbouring reference (trace: the caller) whose module may leave exactly one candidate. */
  evidence?: { resolution: Resolution; label: string } | null;
  /** The printed address as a key when the caller has it (NaN: printed, but not a kernel address). */
  key?: number;
}

/** The printed parts the policy reads (a PrintedRef without its text). */
export type Printed = Pick<PrintedRef, 'name' | 'offset' | 'size' | 'address'> & { module?: string | null };

const NO_HINTS: Hints = {};

/** Printed reference + hints → the one answer. */
export function resolveReference(t: SymbolTable, p: Printed, h: Hints = NO_HINTS): Resolution {
  const key = h.key ?? (p.address ? keyFromHex(p.address) : undefined);
  // a zero address was hidden where it was printed (/proc/PID/stack, %pK), and sources that
  // hide every address have none to hold it against: the name decides
  if (key !== undefined && key !== 0 && !t.addressesHidden) {
    const r = byAddress(t, key, p, h);
    if (r) return r;
    return byName(t, p, h, true);
  }
  if (p.name) return byName(t, p, h, false);
  if (key !== undefined) return unusable(t, key);
  return t.unresolvedBy(['nothing'], null);
}

function unusable(t: SymbolTable, key: number): Resolution {
  return t.unresolvedBy([`address-unusable:${t.whyNoAddress(key) ?? 'not in any symbol'}`], null);
}

/** The answer by address, or null when a printed name disagrees (then the name decides). */
function byAddress(t: SymbolTable, key: number, p: Printed, h: Hints): Resolution | null {
  const why = t.whyNoAddress(key);
  const i = why ? -1 : t.lookupKey(key);
  const name = p.name;
  if (!name || h.inlined) {
    if (i < 0) return unusable(t, key);
    return t.resolutionBy(i, key - t.d.keys[i]!, [name && h.inlined ? 'inlined' : 'address']);
  }
  if (i >= 0) {
    const j = t.aliasNamed(i, name);
    if (j >= 0) { t.noteCheck(true); return t.resolutionBy(j, key - t.d.keys[j]!, [j === i ? 'address' : 'alias']); }
  }
  if (h.returnAddress && !why) {
    const prev = t.lookupKey(key - 1);
    if (prev >= 0 && prev !== i && t.name(prev) === name) {
      t.noteCheck(true);
      return t.resolutionBy(prev, key - t.d.keys[prev]!, ['return-address']);
    }
  }
  const hex = p.address ?? (why ? 'a non-kernel address' : keyToHex(key));
  t.noteCheck(false, i >= 0 ? `${hex} is ${t.name(i)} here, printed as ${name}` : `${hex} (${name}) is in no symbol here`);
  return null;
}

/** What narrowing by the printed parts gave, and the checks it made (replayed on a memo hit). */
interface Narrowed { indices: number[]; reasons: Reason[]; checks: [boolean, string][] }

/**
 * Candidate indices for a printed name, narrowed by module, size and offset as printed. The
 * checks (a printed module or size that no candidate has) are returned, not yet counted.
 */
export function narrowByName(t: SymbolTable, name: string, offset: number | null, size: number | null, module: string | null): Narrowed {
  let c = t.indicesByName(name).slice();
  const reasons: Reason[] = ['name'];
  const checks: [boolean, string][] = [];
  if (c.length > 1) {
    const text = c.filter((i) => t.isText(i));
    if (text.length) c = text;
  }
  if (module && c.length) {
    const f = c.filter((i) => t.modules(i).includes(module));
    // only when the sources list loadable modules at all (System.map alone knows none)
    if (t.knowsLoadable()) {
      checks.push([f.length > 0, `${name} [${module}]: no symbol of that name in that module`]);
      // said even with one candidate: the answer is not in the printed module
      if (!f.length) reasons.push(`module-mismatch:${module}`);
    }
    if (f.length && c.length > 1) { c = f; reasons.push('module'); }
  }
  // kallsyms sizes are address differences: unknown when the addresses are hidden
  if (size != null && c.length && !t.addressesHidden) {
    const hex = `0x${size.toString(16)}`;
    const f = c.filter((i) => t.d.ksizes[i] === size);
    checks.push([f.length > 0, `${name}+?/${hex}: no symbol of that name has that size`]);
    if (!f.length) reasons.push(`size-mismatch:${hex}`);
    else if (c.length > 1) { c = f; reasons.push('size'); }
  }
  if (offset != null && c.length > 1) {
    const f = c.filter((i) => { const k = t.d.ksizes[i]!; return k === 0 || offset < k; });
    if (f.length && f.length < c.length) { c = f; reasons.push('offset'); }
  }
  return { indices: c, reasons, checks };
}

/** Name-path answers by (printed parts, hints): a profile repeats the same frames. */
const MEMO_LIMIT = 50_000;
const memos = new WeakMap<SymbolTable, Map<string, { r: Resolution; checks: [boolean, string][]; byEvidence: boolean }>>();

function byName(t: SymbolTable, p: Printed, h: Hints, afterAddress: boolean): Resolution {
  const name = p.name!;
  const module = p.module ?? null;
  const flags = (afterAddress ? 1 : 0) | (h.modulePrintedWhenLoadable ? 2 : 0) | (h.inlineFrame ? 4 : 0);
  const memoKey = `${name}\0${p.offset}\0${p.size}\0${module}\0${flags}`;
  let memo = memos.get(t);
  if (memo) {
    const m = memo.get(memoKey);
    // evidence is another reference's answer, not part of the key: an answer it could have
    // changed (several candidates were left for it) is kept only for lookups without evidence
    if (m && !(m.byEvidence && h.evidence)) { for (const [agree, example] of m.checks) t.noteCheck(agree, example); return m.r; }
  }
  const n = narrowByName(t, name, p.offset, p.size, module);
  for (const [agree, example] of n.checks) t.noteCheck(agree, example);
  let c = n.indices;
  const reasons: Reason[] = afterAddress ? ['address-disagrees', ...n.reasons] : n.reasons;
  if (h.modulePrintedWhenLoadable && !module && c.length > 1) {
    const f = c.filter((i) => !t.isLoadable(i));
    if (f.length && f.length < c.length) { c = f; reasons.push('not-loadable'); }
  }
  const ev = h.evidence;
  const byEvidence = c.length > 1;
  if (ev && c.length > 1 && !ev.resolution.ambiguous && ev.resolution.modules.length) {
    // core-kernel evidence (no module) never picks: calls into and out of the core are the rule
    const em = ev.resolution.modules;
    const f = c.filter((i) => t.modules(i).some((m) => em.includes(m)));
    if (f.length === 1) { c = f; reasons.push(`evidence:${ev.label}`); }
  }
  if (h.inlineFrame) reasons.push('inline-frame');
  const r = t.resolveAmongBy(c, p.offset, reasons);
  const mismatch = mismatchOf(reasons);
  if (mismatch.length) r.mismatch = mismatch;
  // stored unless evidence was there to use (that answer is the evidence's, not the name's)
  if (!(byEvidence && ev)) {
    if (!memo) memos.set(t, (memo = new Map()));
    if (memo.size >= MEMO_LIMIT) memo.clear(); // constant memory on any input
    memo.set(memoKey, { r, checks: n.checks, byEvidence });
  }
  return r;
}

/** `mismatch` of the JSON output: what the text printed that no candidate has. */
function mismatchOf(reasons: readonly Reason[]): string[] {
  const out: string[] = [];
  for (const x of reasons) {
    if (x.startsWith('module-mismatch:')) out.push(`module ${x.slice(16)}`);
    else if (x.startsWith('size-mismatch:')) out.push(`size ${x.slice(14)}`);
  }
  return out;
}

/**
 * resolvedBy's rule part (the caller adds the outcome: `; module:SRC; objname:SRC`, `: N
 * candidates`, `: no such symbol`). The spellings are those of the --refs output before the
 * policy moved here; `address-disagrees` is now said by every transformer the same way.
 */
export function describe(reasons: readonly Reason[]): string {
  let s = '';
  for (const x of reasons) {
    switch (x) {
      case 'address': case 'alias': s += 'address'; break;
      case 'return-address': s += 'address - 1 (a return address just past the printed function)'; break;
      case 'inlined': s += 'address (inlined frame: the function it was inlined into)'; break;
      case 'address-disagrees': s += 'address not in the printed symbol; '; break;
      case 'name': s += 'name'; break;
      case 'module': case 'size': case 'offset': case 'not-loadable': s += `+${x}`; break;
      case 'inline-frame': s += '; inline frame (its code is in the caller below)'; break;
      case 'nothing': s += 'nothing to resolve'; break;
      default:
        if (x.startsWith('evidence:')) s += `+${x}`;
        else if (x.startsWith('module-mismatch:')) s += `+module(no match: ${x.slice(16)})`;
        else if (x.startsWith('size-mismatch:')) s += `+size(no match: ${x.slice(14)})`;
        else if (x.startsWith('address-unusable:')) s += `address: ${x.slice(17)}`;
    }
  }
  return s;
}
