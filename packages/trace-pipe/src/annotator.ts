/**
 * `kallmod trace`: annotate ftrace text (trace, trace_pipe, trace-cmd report, stack_trace).
 * Insertions only: every input byte passes through; the notation goes right after each symbol
 * token. State (function_graph frames per CPU, for evidence) lives in one annotator; the
 * recognisers in ./recognise are stateless.
 */
import { perLineAnnotator, type Annotator, type AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { Resolution } from '@kallmod/core/types';
import { lineSuffix } from '@kallmod/core/lines/line-text';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { contextFor, type RecogniseContext } from './recognise/context.js';
import type { Hit } from './recognise/hit.js';
import { stackLine, stackTableLine } from './recognise/stack.js';
import { graphLine, graphMarker, type GraphLine } from './recognise/function-graph.js';
import { cpuColumn, graphCandidate, GraphMemo, type GraphEntry } from './graph-memo.js';
import type { CheckRecord } from '@kallmod/core/table/symbol-table';
import { payloadStart } from './recognise/entry.js';
import { functionPayload } from './recognise/function.js';
import { scanPayload } from './recognise/events.js';
import { insertionFor, resolveHit, type Evidence } from './resolve.js';

/** function_graph frames per CPU: frames[d] = resolution of the open call at depth d. */
class GraphState {
  private cpus = new Map<number, { frames: (Resolution | null)[]; saved: (Resolution | null)[][] }>();
  private of(cpu: number) {
    let c = this.cpus.get(cpu);
    if (!c) { c = { frames: [], saved: [] }; this.cpus.set(cpu, c); }
    return c;
  }
  frames(cpu: number): (Resolution | null)[] { return this.of(cpu).frames; }
  /** Another task now runs on this CPU: its frames say nothing about what follows. */
  reset(cpu: number): void { const c = this.of(cpu); c.frames = []; c.saved = []; }
  /** An interrupt: its handler is not called by the interrupted frame. */
  irqIn(cpu: number): void { const c = this.of(cpu); c.saved.push(c.frames); c.frames = []; }
  irqOut(cpu: number): void { const c = this.of(cpu); c.frames = c.saved.pop() ?? []; }
}

/** All recognised references of one line, in input order (null: none / not ours). */
export interface LineRefs { hits: Hit[]; resolutions: Resolution[] }

/**
 * Which way the last line went: 'text' when what was found depends on that line's text alone
 * (a stack frame, a function-tracer or event payload, a line with no entry prefix), 'state'
 * when earlier lines count (function_graph's frames per CPU) or change (markers).
 */
export type Route = 'text' | 'payload' | 'state';

export interface TraceRecogniser {
  line(s: string): LineRefs | null;
  /** A function_graph line (from graphLine, or the annotator's GraphMemo): the call state per CPU applied, its hits resolved. */
  graph(g: GraphLine, reuse?: GraphEntry): LineRefs | null;
  /** What the last line was read as (the route, and `table` for a stack tracer's row). */
  route: Route;
  table: boolean;
}

function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return i;
}

function resolveAll(table: SymbolTable, hits: Hit[], evidenceFor: (h: Hit, i: number) => Evidence | null): Resolution[] {
  const out: (Resolution | undefined)[] = new Array(hits.length);
  const get = (i: number): Resolution => {
    let r = out[i];
    if (r) return r;
    const h = hits[i]!;
    let ev: Evidence | null;
    if (h.evidenceFrom !== undefined && h.evidenceFrom !== i) ev = { resolution: get(h.evidenceFrom), label: h.evidenceLabel ?? 'neighbour-module' };
    else ev = evidenceFor(h, i);
    r = resolveHit(table, h, ev);
    out[i] = r;
    return r;
  };
  for (let i = 0; i < hits.length; i++) get(i);
  return out as Resolution[];
}

/** The stateful line recogniser (also used by tests without the byte plumbing). */
export function createRecogniser(table: SymbolTable, ctx: RecogniseContext = contextFor(table)): TraceRecogniser {
  const graph = new GraphState();
  const none = () => null;
  return {
    route: 'text',
    table: false,
    graph(g: GraphLine, reuse?: GraphEntry): LineRefs | null {
      const frames = graph.frames(g.cpu);
      const parent = g.depth > 0 ? frames[g.depth - 1] ?? null : null;
      const own = frames[g.depth] ?? null;
      let resolutions: Resolution[];
      if (reuse && reuse.resolutions && reuse.parent === parent && (g.kind !== 'close' || reuse.own === own)) {
        resolutions = reuse.resolutions;
        for (const c of reuse.checks) table.noteCheck(c[0], c[1]);
      } else {
        const log: CheckRecord[] | null = reuse ? [] : null;
        const outer = table.checkLog;
        if (log) table.checkLog = log;
        try {
          resolutions = resolveAll(table, g.hits, (h, i) => (i === g.frame && parent ? { resolution: parent, label: 'graph-parent-module' } : null));
        } finally { if (log) table.checkLog = outer; }
        if (g.frame >= 0 && g.kind === 'close' && own && own.name === g.hits[g.frame]!.name) resolutions[g.frame] = own; // the same call
        if (reuse) {
          if (outer) for (const c of log!) outer.push(c);
          reuse.parent = parent; reuse.own = own; reuse.resolutions = resolutions; reuse.checks = log!; reuse.texts = [];
        }
      }
      if (g.kind === 'open') { frames.length = g.depth; frames[g.depth] = g.frame >= 0 ? resolutions[g.frame]! : null; }
      else if (g.kind === 'leaf' || g.kind === 'close') frames.length = Math.min(frames.length, g.depth);
      return g.hits.length ? { hits: g.hits, resolutions } : null;
    },
    line(s: string): LineRefs | null {
      this.route = 'text';
      this.table = false;
      const p0 = firstNonSpace(s);
      if (p0 >= s.length) return null;
      const c0 = s.charCodeAt(p0);
      if (c0 === 35 /* # */) return null;
      let hits: Hit[] | null = null;
      if (c0 === 61 /* = */) hits = stackLine(s, ctx);
      if (hits) return hits.length ? { hits, resolutions: resolveAll(table, hits, none) } : null;

      this.route = 'state';
      const mk = graphMarker(s);
      if (mk) {
        // another task, or events lost: the frames say nothing about what follows
        if (mk.marker === 'switch' || mk.marker === 'lost') graph.reset(mk.cpu);
        else if (mk.marker === 'irq-in') graph.irqIn(mk.cpu);
        else graph.irqOut(mk.cpu);
        return null;
      }
      const g = graphLine(s, ctx);
      if (g) return this.graph(g);
      hits = stackTableLine(s, ctx);
      if (hits) { this.table = true; this.route = 'text'; }
      else {
        const p = payloadStart(s);
        this.route = p >= 0 ? 'payload' : 'text';
        if (p >= 0) hits = functionPayload(s, p, ctx, true) ?? scanPayload(s, p, s.length, ctx, true);
        else hits = functionPayload(s, p0, ctx, false) ?? scanPayload(s, p0, s.length, ctx, false);
      }
      if (!hits.length) return null;
      return { hits, resolutions: resolveAll(table, hits, none) };
    },
  };
}

function isRegexSpace(c: number): boolean { return (c >= 9 && c <= 13) || c === 32 || c === 160; } // `\s` in latin1

/**
 * For the line memo (core stream/line-memo.ts): -2 for a line with nothing to find, -1 for one
 * whose answer may depend on earlier lines (or that the checks below cannot vouch for), else
 * how far its digits are read only by class. What vouches for a line, on its bytes:
 *   - `[ \t]*=> `: a stack line (the recogniser's first test), nothing masked;
 *   - else no function_graph line or marker and no stack-tracer row can be read from it: its
 *     first non-`\s` byte is no digit (a CPU column, `N)`), it does not start with `CPU:`
 *     ([LOST N EVENTS]), holds no `|` followed by a space (graph frames) and no run of ten `=`
 *     (irq markers). Then the answer is the payload's (after the entry prefix: its end is found
 *     by \d, \S and literal non-digits only, and lies after the first `: `, so the digits up to
 *     there are masked) or, with no prefix, the line's (then nothing may be masked: the
 *     annotator declines the memo, see `maskedUpTo`);
 *   - a digit first: a stack-tracer row (stackTablePrefix), its columns masked.
 */
function traceMemoPrefix(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  if (i === end || buf[i] === 35 /* # */) return -2;
  if (buf[i] === 61 /* = */) return buf[i + 1] === 62 && buf[i + 2] === 32 && i + 2 < end ? start : -1;
  let j = start;
  while (j < end && isRegexSpace(buf[j]!)) j++;
  if (j < end && isDigit(buf[j]!)) return stackTablePrefix(buf, start, end);
  if (buf[start] === 67 && buf[start + 1] === 80 && buf[start + 2] === 85 && buf[start + 3] === 58 /* CPU: */) return -1;
  // one byte loop: a graph frame's `| `, an irq marker's run of ten `=`, the prefix's first `: `
  // (the memo's chained guesses take most lines before this is asked, so a search per word
  // through the whole chunk, ChunkWords, cost more than a look at the lines asked about)
  let colon = -1, eqRun = 0;
  for (let c = start; c < end; c++) {
    const b = buf[c]!;
    if (b === 61) { if (++eqRun === 10) return -1; continue; }
    eqRun = 0;
    if (b === 124) { if (c + 1 < end && buf[c + 1] === 32) return -1; }
    else if (b === 58 && colon < 0 && c + 1 < end && buf[c + 1] === 32) colon = c + 2;
  }
  return colon >= 0 ? colon : start;
}

function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

/**
 * A stack tracer's row (`  0)     2528      48   _raw_spin_trylock+0x9/0x50`), for the memo:
 * the end of what stack.ts's TABLE regex /^ *\d+\) +\d+ +\d+ +/ matches (its digits read by
 * class only), when no graph frame or marker can be read from the line (no `|`, no `=`); else
 * -1. The annotator keeps the entry only when the row was read as one (`rec.table`).
 */
function stackTablePrefix(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && buf[i] === 32) i++;
  const run = (from: number, digits: boolean): number => {
    let k = from;
    while (k < end && (digits ? isDigit(buf[k]!) : buf[k] === 32)) k++;
    return k;
  };
  let k = run(i, true);
  if (k === i || buf[k] !== 41 /* ) */) return -1;
  for (let n = 0; n < 3; n++) {
    const sp = run(k + (n === 0 ? 1 : 0), false);
    if (sp === k + (n === 0 ? 1 : 0)) return -1;
    if (n === 2) { k = sp; break; }
    k = run(sp, true);
    if (k === sp) return -1;
  }
  for (let c = start; c < end; c++) if (buf[c] === 124 || buf[c] === 61) return -1;
  return k;
}


export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  const ctx = contextFor(table);
  const rec = createRecogniser(table, ctx);
  const lines = opts.lines;
  let maskedUpTo = -1; // what traceMemoPrefix said of the line being annotated
  const memoPrefix = (buf: Buffer, start: number, end: number): number => {
    const m = traceMemoPrefix(buf, start, end);
    maskedUpTo = m > start ? m : -1;
    return m;
  };
  // function_graph lines by their frame part (graph-memo.ts): text output only, as --refs and
  // --lines need each hit's own text and place
  const gmemo = !opts.refs && !lines && opts.extra?.['memo'] !== false ? new GraphMemo() : null;
  const graphFast = (buf: Buffer, start: number, end: number): [number, string][] | null | undefined => {
    const bar = graphCandidate(buf, start, end);
    if (bar < 0) return undefined;
    let e = gmemo!.find(buf, bar, end);
    if (e === null) {
      const s = buf.toString('latin1', start, end);
      // what rec.line would do with it: graphMarker cannot match a candidate (no `=`, no `CPU:`)
      const g = graphLine(s, ctx);
      if (!g) return undefined;
      e = gmemo!.store(buf, bar, end, g.kind, g.depth, g.hits, g.frame, g.hits.map((h) => h.at - (bar - start)));
    }
    const found = rec.graph({ kind: e.kind, cpu: cpuColumn(buf, start, end), depth: e.depth, hits: e.hits, frame: e.frame }, e);
    if (!found) return null;
    let ins: [number, string][] | null = null;
    for (let i = 0; i < e.hits.length; i++) {
      let t = e.texts[i];
      if (t === undefined) t = e.texts[i] = insertionFor(table, e.hits[i]!, found.resolutions[i]!, opts);
      if (t) (ins ??= []).push([bar - start + e.at[i]!, t]);
    }
    if (ins && ins.length > 1) ins.sort((a, b) => a[0] - b[0]);
    return ins;
  };
  return perLineAnnotator(table, opts, (v, w) => {
    if (v.end === v.start) return null;
    if (gmemo) {
      const r = graphFast(v.buf, v.start, v.end);
      if (r !== undefined) { v.memo = false; return r; }
    }
    const s = v.buf.toString('latin1', v.start, v.end);
    const found = rec.line(s);
    // a line with no entry prefix reads its digits by value: its key must be unmasked
    if (v.memo && (rec.route === 'state' || (rec.route === 'text' && maskedUpTo >= 0 && !rec.table))) v.memo = false;
    if (!found) return null;
    const { hits, resolutions } = found;
    const li = lines ? hits.map((h, i) => (h.name !== null || h.address !== null ? lines.lines(resolutions[i]!, h.returnAddress === true) : null)) : null;
    if (opts.refs) {
      for (let i = 0; i < hits.length; i++) {
        const h = hits[i]!;
        w.ref(v.line, { text: h.text, name: h.name, offset: h.offset, size: h.size, address: h.address, module: h.module }, resolutions[i]!,
          li ? li[i] : undefined);
      }
      return null;
    }
    const ins: [number, string][] = [];
    for (let i = 0; i < hits.length; i++) {
      const t = insertionFor(table, hits[i]!, resolutions[i]!, opts) + (li ? lineSuffix(li[i]!) : '');
      if (t) ins.push([hits[i]!.at, t]);
    }
    if (ins.length > 1) ins.sort((a, b) => a[0] - b[0]);
    return ins.length ? ins : null;
  }, memoPrefix);
}

/**
 * No worker pool: function_graph keeps a call depth per CPU, and CPUs interleave, so any cut
 * can fall inside another CPU's call and lose the parent that tells duplicates apart (a cut
 * before a depth-0 call of one CPU was tried: -j 2 then wrote other bytes than -j 1).
 */
export const inlineOnly = true;
