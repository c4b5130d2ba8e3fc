/**
 * function_graph lines: `func() {`, `func();`, `}`, `} /* func *\/` (funcgraph-tail),
 * `null_queue_rq [null_blk]() {`, funcgraph-args `func(a=1) {`, funcgraph-retval
 * `func(); /* = 0x0 *\/`, `} /* func = -22 *\/`, funcgraph-retaddr `{ /* <-caller+0x../0x.. *\/`,
 * optional abstime / CPU / proc / flags / duration columns; event and trace_printk comments
 * `/* block_rq_issue: ... *\/`; the irq markers `==========>` / `<==========` and CPU/task
 * switch lines (` 1)  kworker-1234  =>  bash-5678 `).
 */
import type { RecogniseContext } from './context.js';
import type { Hit } from './hit.js';
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
/** The frame part of a function_graph line: after `|` and the indentation. */
export interface GraphFrame {
  /** The `|`. */
  index: number;
  indent: number;
  kind: GraphKind;
  /** A close with funcgraph-tail's `/* name ... *\/`. */
  tailName: boolean;
  /** After the frame (`{`, `;`, `}`, the tail comment, or `/*`). */
  end: number;
}

function isNameStart(c: number): boolean { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; }
function isNameChar(c: number): boolean { return isNameStart(c) || isDigit(c) || c === 46 || c === 36; }
function isModChar(c: number): boolean { return isNameStart(c) || isDigit(c) || c === 46 || c === 45; }

/**
 * What this regex found (its first match), in one pass:
 *   \|( +)(?:(NAME)(?: \[[\w.-]+\])?\(([^;{]*?)\)(?: \{|;)|(\})(?: \/\* (NAME)(?: \[[\w.-]+\])?(?:\(\))?[^*]*\*\/)?|(\/\*))
 * Run as a regex it read the rest of the line again from every `|` (a call's arguments up to
 * `) {`, a tail comment up to its `*` and, backtracking, once more per shorter name). The
 * argument list ends at the first `;`, `{` or `)` followed by ` {` or `;`, and a tail comment
 * at the first `*`: each is looked up once per line (remembered while later `|`s are before it).
 */
export function graphFrame(s: string): GraphFrame | null {
  const n = s.length;
  let stopFrom = -1, stop = -1, starFrom = -1, star = -1;
  const argsEnd = (q: number): number => {
    if (q < stopFrom || q > stop) {
      stopFrom = q;
      for (stop = q; stop < n; stop++) {
        const c = s.charCodeAt(stop);
        if (c === 59 || c === 123) break;
        if (c === 41 && ((s.charCodeAt(stop + 1) === 32 && s.charCodeAt(stop + 2) === 123) || s.charCodeAt(stop + 1) === 59)) break;
      }
    }
    return stop;
  };
  const starAt = (q: number): number => {
    if (q < starFrom || q > star) { starFrom = q; star = s.indexOf('*', q); if (star < 0) star = n; }
    return star;
  };
  for (let b = s.indexOf('|'); b >= 0; b = s.indexOf('|', b + 1)) {
    let p = b + 1;
    while (s.charCodeAt(p) === 32) p++;
    const indent = p - b - 1;
    if (indent === 0) continue;
    const c = s.charCodeAt(p);
    if (isNameStart(c)) {
      let e = p + 1;
      while (isNameChar(s.charCodeAt(e))) e++;
      let open = -1;
      if (s.charCodeAt(e) === 40) open = e;
      else if (s.charCodeAt(e) === 32 && s.charCodeAt(e + 1) === 91) {
        let k = e + 2;
        while (isModChar(s.charCodeAt(k))) k++;
        if (k > e + 2 && s.charCodeAt(k) === 93 && s.charCodeAt(k + 1) === 40) open = k + 1;
      }
      if (open < 0) continue;
      const j = argsEnd(open + 1);
      if (j >= n || s.charCodeAt(j) !== 41) continue;
      return s.charCodeAt(j + 1) === 59
        ? { index: b, indent, kind: 'leaf', tailName: false, end: j + 2 }
        : { index: b, indent, kind: 'open', tailName: false, end: j + 3 };
    }
    if (c === 125) {
      if (s.startsWith(' /* ', p + 1) && isNameStart(s.charCodeAt(p + 5))) {
        let e = p + 6;
        while (isNameChar(s.charCodeAt(e))) e++;
        const t = starAt(e);
        if (t < n && s.charCodeAt(t + 1) === 47) return { index: b, indent, kind: 'close', tailName: true, end: t + 2 };
      }
      return { index: b, indent, kind: 'close', tailName: false, end: p + 1 };
    }
    if (c === 47 && s.charCodeAt(p + 1) === 42) return { index: b, indent, kind: 'comment', tailName: false, end: p + 2 };
  }
  return null;
}

const IRQ_IN = /==========>/;
const IRQ_OUT = /<==========/;

export type GraphMarker = { marker: 'switch' | 'lost' | 'irq-in' | 'irq-out'; cpu: number };

/** `CPU:0 [LOST 81234 EVENTS]`: what the frames were is no longer known. */
const LOST = /^CPU:(\d+) \[LOST \d+ EVENTS\]/;

/**
 * Graph lines and markers are short: longer lines are not looked at. (The cap was put there
 * when the patterns backtracked over the whole text; graphFrame and switchCpu are linear now,
 * and the cap stays so that what is recognised does not change.)
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
  const m = graphFrame(s);
  if (!m) return null;
  const c = CPU.exec(s);
  const cpu = c ? Number(c[1]) : -1;
  const depth = Math.max(0, (m.indent - 2) >> 1);
  const bodyAt = m.index + 1 + m.indent;
  const hits: Hit[] = [];
  let frame = -1;
  const kind = m.kind;
  let restFrom = m.end;
  if (kind === 'open' || kind === 'leaf') {
    const h = symbolAt(s, bodyAt, ctx, { module: true });
    if (h) { hits.push(h); frame = 0; }
  } else if (kind === 'close') {
    if (m.tailName) {
      const h = symbolAt(s, bodyAt + 5, ctx, { module: true }); // after "} /* "
      if (h) { hits.push(h); frame = 0; }
    }
  } else restFrom = bodyAt;
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
