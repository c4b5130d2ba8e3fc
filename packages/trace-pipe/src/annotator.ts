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
import { graphLine, graphMarker } from './recognise/function-graph.js';
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

export interface TraceRecogniser { line(s: string): LineRefs | null }

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
    line(s: string): LineRefs | null {
      const p0 = firstNonSpace(s);
      if (p0 >= s.length) return null;
      const c0 = s.charCodeAt(p0);
      if (c0 === 35 /* # */) return null;
      let hits: Hit[] | null = null;
      if (c0 === 61 /* = */) hits = stackLine(s, ctx);
      if (hits) return hits.length ? { hits, resolutions: resolveAll(table, hits, none) } : null;

      const mk = graphMarker(s);
      if (mk) {
        // another task, or events lost: the frames say nothing about what follows
        if (mk.marker === 'switch' || mk.marker === 'lost') graph.reset(mk.cpu);
        else if (mk.marker === 'irq-in') graph.irqIn(mk.cpu);
        else graph.irqOut(mk.cpu);
        return null;
      }
      const g = graphLine(s, ctx);
      if (g) {
        const frames = graph.frames(g.cpu);
        const parent = g.depth > 0 ? frames[g.depth - 1] ?? null : null;
        const own = frames[g.depth] ?? null;
        const resolutions = resolveAll(table, g.hits, (h, i) => (i === g.frame && parent ? { resolution: parent, label: 'graph-parent-module' } : null));
        if (g.frame >= 0 && g.kind === 'close' && own && own.name === g.hits[g.frame]!.name) resolutions[g.frame] = own; // the same call
        if (g.kind === 'open') { frames.length = g.depth; frames[g.depth] = g.frame >= 0 ? resolutions[g.frame]! : null; }
        else if (g.kind === 'leaf' || g.kind === 'close') frames.length = Math.min(frames.length, g.depth);
        return g.hits.length ? { hits: g.hits, resolutions } : null;
      }
      hits = stackTableLine(s, ctx);
      if (!hits) {
        const p = payloadStart(s);
        if (p >= 0) hits = functionPayload(s, p, ctx, true) ?? scanPayload(s, p, s.length, ctx, true);
        else hits = functionPayload(s, p0, ctx, false) ?? scanPayload(s, p0, s.length, ctx, false);
      }
      if (!hits.length) return null;
      return { hits, resolutions: resolveAll(table, hits, none) };
    },
  };
}

/**
 * --lines: a stack trace's ` => func+off/size` frames, a function tracer's `<-parent` and a
 * kretprobe's return site are where calls return to (the call is at address - 1); a traced
 * function's own entry and a kprobe's probe point are exact.
 */
function isReturnAddress(s: string, start: number): boolean {
  return /(?:=>|<-|\(|\bret_site=?)\s*$/.test(s.slice(Math.max(0, start - 12), start)) && !/\bkp\w*: \($/.test(s.slice(Math.max(0, start - 40), start));
}

export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  const rec = createRecogniser(table);
  const lines = opts.lines;
  return perLineAnnotator(table, opts, (v, w) => {
    if (v.end === v.start) return null;
    const s = v.buf.toString('latin1', v.start, v.end);
    const found = rec.line(s);
    if (!found) return null;
    const { hits, resolutions } = found;
    const li = lines ? hits.map((h, i) => (h.name !== null || h.address !== null ? lines.lines(resolutions[i]!, isReturnAddress(s, h.start)) : null)) : null;
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
  });
}

/**
 * No worker pool: function_graph keeps a call depth per CPU, and CPUs interleave, so any cut
 * can fall inside another CPU's call and lose the parent that tells duplicates apart (a cut
 * before a depth-0 call of one CPU was tried: -j 2 then wrote other bytes than -j 1).
 */
export const inlineOnly = true;
