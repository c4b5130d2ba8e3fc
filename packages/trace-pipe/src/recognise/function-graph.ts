/**
 * function_graph lines: `func() {`, `func();`, `}`, `} /* func *\/` (funcgraph-tail),
 * `null_queue_rq [null_blk]() {`, funcgraph-args `func(a=1) {`, funcgraph-retval
 * `func(); /* = 0x0 *\/`, `} /* func = -22 *\/`, funcgraph-retaddr `{ /* <-caller+0x../0x.. *\/`,
 * optional abstime / CPU / proc / flags / duration columns; event and trace_printk comments
 * `/* block_rq_issue: ... *\/`; the irq markers `==========>` / `<==========` and CPU/task
 * switch lines (` 1)  kworker-1234  =>  bash-5678 `).
 */
import type { RecogniseContext } from './context.js';
import { NAME, type Hit } from './hit.js';
import { scanPayload } from './events.js';
import { symbolAt } from './symbol.js';

export type GraphKind = 'open' | 'leaf' | 'close' | 'comment';

export interface GraphLine {
  kind: GraphKind;
  /** CPU column, -1 when not printed. */
  cpu: number;
  /** Call depth from the indentation. */
  depth: number;
  /** The frame's symbol (open / leaf / close with funcgraph-tail), then any refs in comments. */
  hits: Hit[];
  /** Index in hits of the frame's own symbol, -1 if none (plain `}`, comment). */
  frame: number;
}

const CPU = /^\s*(?:\d+\.\d+ +\| +)?(\d+)\)/;
/**
 * `(?=(NAME))\5`: the tail's name taken whole (an atomic group). Left to backtrack, each shorter
 * name let `[^*]*` read the rest of the line again (33 ms for a 4 kB `} /* name` line); a
 * shorter name never matches where the whole one does not, so the groups are the same.
 */
const FUNC = new RegExp(String.raw`\|( +)(?:(${NAME})(?: \[[\w.-]+\])?\(([^;{]*?)\)(?: \{|;)|(\})(?: \/\* (?=(${NAME}))\5(?: \[[\w.-]+\])?(?:\(\))?[^*]*\*\/)?|(\/\*))`);
const SWITCH = /^\s*(\d+)\)\s+\S.*-\d+\s+=>\s+\S.*-\d+\s*$/;
const IRQ_IN = /==========>/;
const IRQ_OUT = /<==========/;

export type GraphMarker = { marker: 'switch' | 'lost' | 'irq-in' | 'irq-out'; cpu: number };

/** `CPU:0 [LOST 81234 EVENTS]`: what the frames were is no longer known. */
const LOST = /^CPU:(\d+) \[LOST \d+ EVENTS\]/;

/**
 * Graph lines and markers are short; the patterns backtrack over the whole text, which took
 * seconds on long lines of other kinds: longer lines are not looked at.
 */
const GRAPH_LINE_MAX = 4096;

export function graphMarker(s: string): GraphMarker | null {
  const lost = LOST.exec(s);
  if (lost) return { marker: 'lost', cpu: Number(lost[1]) };
  if (s.length > GRAPH_LINE_MAX) return null;
  const sw = s.includes('=>') ? SWITCH.exec(s) : null;
  if (sw) return { marker: 'switch', cpu: Number(sw[1]) };
  if (s.includes('==========')) {
    const c = CPU.exec(s);
    const cpu = c ? Number(c[1]) : -1;
    if (IRQ_IN.test(s)) return { marker: 'irq-in', cpu };
    if (IRQ_OUT.test(s)) return { marker: 'irq-out', cpu };
  }
  return null;
}

export function graphLine(s: string, ctx: RecogniseContext): GraphLine | null {
  if (s.length > GRAPH_LINE_MAX || !s.includes('|')) return null;
  const m = FUNC.exec(s);
  if (!m) return null;
  const c = CPU.exec(s);
  const cpu = c ? Number(c[1]) : -1;
  const indent = m[1]!.length;
  const depth = Math.max(0, (indent - 2) >> 1);
  const bodyAt = m.index + 1 + indent;
  const hits: Hit[] = [];
  let frame = -1;
  let kind: GraphKind;
  let restFrom: number;
  if (m[2] !== undefined) {
    const h = symbolAt(s, bodyAt, ctx, { module: true });
    if (h) { hits.push(h); frame = 0; }
    kind = m[0].endsWith('{') ? 'open' : 'leaf';
    restFrom = m.index + m[0].length;
  } else if (m[4] !== undefined) {
    kind = 'close';
    if (m[5] !== undefined) {
      const h = symbolAt(s, bodyAt + 5, ctx, { module: true }); // after "} /* "
      if (h) { hits.push(h); frame = 0; }
    }
    restFrom = m.index + m[0].length;
  } else {
    kind = 'comment';
    restFrom = bodyAt;
  }
  // comments after the frame (retval, retaddr) or the comment itself (events, trace_printk)
  if (restFrom < s.length) {
    const lead = kind === 'comment' && s.startsWith('/* ', restFrom);
    const base = hits.length;
    for (const h of scanPayload(s, lead ? restFrom + 3 : restFrom, s.length, ctx, lead)) {
      if (h.evidenceFrom !== undefined) h.evidenceFrom += base;
      hits.push(h);
    }
  }
  return { kind, cpu, depth, hits, frame };
}
