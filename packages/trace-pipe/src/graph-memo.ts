/**
 * function_graph lines memoised by their frame part: `|  vfs_read() {`, `|  I_BDEV();`,
 * `|  }`, from the first `|` to the end of the line. What the recogniser reads of a graph line
 * lies there (graphFrame, the frame's symbol, comments after it), apart from the CPU column,
 * which is read here on bytes (`cpuColumn`), and the duration columns, which it does not read.
 * So one entry serves every call of a function at one depth, whatever its CPU or duration; the
 * call state per CPU (the parent that picks among same-name functions) is still applied to
 * every line (annotator.ts `graphStep`), and the resolutions are reused while the parent (and,
 * for a close, the open call) are the ones they were made with.
 *
 * A line is a candidate only when the recogniser would read it as a graph line or not at all:
 * its first byte after spaces and tabs is a digit or `|` (so no comment, stack line or LOST
 * marker), and it holds no `=` (so no CPU-switch or irq marker, and no funcgraph-args/retval
 * form, which are left to the string path).
 */
import type { Resolution } from '@kallmod/core/types';
import type { CheckRecord } from '@kallmod/core/table/symbol-table';
import type { GraphKind } from './recognise/function-graph.js';
import type { Hit } from './recognise/hit.js';

/** Longer lines are left to the string path (and stay below its GRAPH_LINE_MAX). */
export const GRAPH_MEMO_MAX_LINE = 512;
const SLOTS = 1 << 12;

export interface GraphEntry {
  key: Uint8Array;
  hash: number;
  kind: GraphKind;
  depth: number;
  hits: Hit[];
  frame: number;
  /** Each hit's insertion point, from the `|`. */
  at: number[];
  /** The last resolutions made, with the parent and own frame they were made with. */
  parent: Resolution | null;
  own: Resolution | null;
  resolutions: Resolution[] | null;
  texts: string[];
  checks: CheckRecord[];
}

function isRegexSpace(c: number): boolean { return (c >= 9 && c <= 13) || c === 32 || c === 160; }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

/**
 * Where the line's first `|` is when it is a candidate (see above), else -1.
 */
export function graphCandidate(buf: Uint8Array, start: number, end: number): number {
  if (end - start > GRAPH_MEMO_MAX_LINE) return -1;
  let i = start;
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  if (i === end || !(isDigit(buf[i]!) || buf[i] === 124)) return -1;
  let bar = -1;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 61 /* = */) return -1;
    if (c === 124 && bar < 0) bar = i;
  }
  return bar;
}

/**
 * The CPU column as function-graph.ts's CPU regex reads it,
 * /^\s*(?:\d+\.\d+ +\| +)?(\d+)\)/, on bytes; -1 when it does not match.
 */
export function cpuColumn(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end && isRegexSpace(buf[p]!)) p++;
  const digitsAt = (q: number): number => { while (q < end && isDigit(buf[q]!)) q++; return q; };
  // the abstime column `123.456 |  `
  let q = digitsAt(p);
  if (q > p && buf[q] === 46) {
    let r = digitsAt(q + 1);
    if (r > q + 1 && buf[r] === 32) {
      while (buf[r] === 32) r++;
      if (buf[r] === 124 && buf[r + 1] === 32) {
        r++;
        while (buf[r] === 32) r++;
        const d = digitsAt(r);
        if (d > r && d < end && buf[d] === 41) return cpuValue(buf, r, d);
      }
    }
  }
  q = digitsAt(p);
  return q > p && q < end && buf[q] === 41 ? cpuValue(buf, p, q) : -1;
}

function cpuValue(buf: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (buf[i]! - 48);
  return v;
}

export class GraphMemo {
  private readonly slots: (GraphEntry | undefined)[] = new Array(SLOTS);
  private hash = 0;

  /** The entry for buf[bar, end), or null (then `store` files one under the same hash). */
  find(buf: Uint8Array, bar: number, end: number): GraphEntry | null {
    let h = Math.imul(0x811c9dc5 ^ (end - bar), 0x01000193);
    for (let i = bar; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h = (h ^ (h >>> 15)) >>> 0;
    this.hash = h;
    const e = this.slots[h & (SLOTS - 1)];
    if (!e || e.hash !== h || e.key.length !== end - bar) return null;
    const k = e.key;
    for (let i = bar, j = 0; i < end; i++, j++) if (k[j] !== buf[i]) return null;
    return e;
  }

  store(buf: Uint8Array, bar: number, end: number, kind: GraphKind, depth: number, hits: Hit[], frame: number, at: number[]): GraphEntry {
    const e: GraphEntry = {
      key: buf.slice(bar, end), hash: this.hash, kind, depth, hits, frame, at,
      parent: null, own: null, resolutions: null, texts: [], checks: [],
    };
    this.slots[this.hash & (SLOTS - 1)] = e;
    return e;
  }
}
