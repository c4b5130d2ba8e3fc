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

function isWs(c: number): boolean { return (c >= 9 && c <= 13) || c === 32 || c === 160; } // `\s` in latin1
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

/**
 * The CPU of a CPU/task switch line (` 1)  kworker-1234  =>  bash-5678 `), or -1: what
 * /^\s*(\d+)\)\s+\S.*-\d+\s+=>\s+\S.*-\d+\s*$/ matched, without its two `.*` retrying each
 * other (3 ms for a 4 kB line of `-1 => `). The `-\d+\s*$` at the end has one place; the line
 * is one iff some `-\d+\s+=>\s+\S` ends before it, with no CR (which `.` stops at) between.
 */
export function switchCpu(s: string): number {
  const n = s.length;
  let p = 0;
  while (p < n && isWs(s.charCodeAt(p))) p++;
  const d = p;
  while (p < n && isDigit(s.charCodeAt(p))) p++;
  if (p === d || s.charCodeAt(p) !== 41 /* ) */) return -1;
  const cpu = Number(s.slice(d, p));
  const w = ++p;
  while (p < n && isWs(s.charCodeAt(p))) p++;
  if (p === w || p >= n) return -1;
  p++; // the \S
  let z = n;
  while (z > 0 && isWs(s.charCodeAt(z - 1))) z--;
  let k = z;
  while (k > 0 && isDigit(s.charCodeAt(k - 1))) k--;
  if (k === z || s.charCodeAt(--k) !== 45 /* - */) return -1;
  let cr = s.indexOf('\r', p);
  const before = cr < 0 ? n : cr; // the first `.*` stops at a CR
  cr = s.lastIndexOf('\r', k - 1);
  for (let i = s.indexOf('-', p); i >= 0 && i < before; i = s.indexOf('-', i + 1)) {
    let j = i + 1;
    while (isDigit(s.charCodeAt(j))) j++;
    if (j === i + 1 || !isWs(s.charCodeAt(j))) continue;
    while (isWs(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) !== 61 || s.charCodeAt(j + 1) !== 62 /* => */ || !isWs(s.charCodeAt(j + 2))) continue;
    j += 2;
    while (isWs(s.charCodeAt(j))) j++;
    if (j >= n) continue;
    const e = j + 1; // after the \S
    if (e <= k && e > cr) return cpu; // the second `.*` is [e, k): no CR in it
  }
  return -1;
}

export function graphMarker(s: string): GraphMarker | null {
  const lost = LOST.exec(s);
  if (lost) return { marker: 'lost', cpu: Number(lost[1]) };
  if (s.length > GRAPH_LINE_MAX) return null;
  const sw = s.includes('=>') ? switchCpu(s) : -1;
  if (sw >= 0) return { marker: 'switch', cpu: sw };
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
