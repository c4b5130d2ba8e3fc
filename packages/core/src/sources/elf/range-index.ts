/**
 * Which of many possibly nested or overlapping ranges holds an address, exactly: the ranges
 * (sorted by section, then start) are flattened once into sorted, disjoint segments, each
 * naming the range that wins there, the last-starting one (the innermost of nested ranges: a
 * function's inner range, a unit's range inside another's). A binary search over the segments
 * answers; no fixed look-back, so a range nested under any number of others is never missed.
 * Shared by the unit index (source-lines.ts), a unit's function ranges (dwarf-inlines.ts) and a
 * line table's sequences (dwarf-line.ts).
 */
export class RangeIndex {
  private constructor(
    readonly sec: Int32Array, readonly start: Float64Array, readonly end: Float64Array,
    /** the range's index in the input arrays */
    readonly value: Int32Array,
  ) {}

  static readonly EMPTY = new RangeIndex(new Int32Array(0), new Float64Array(0), new Float64Array(0), new Int32Array(0));

  /** From the segments as stored (line-index.ts). */
  static fromSegments(sec: Int32Array, start: Float64Array, end: Float64Array, value: Int32Array): RangeIndex {
    return new RangeIndex(sec, start, end, value);
  }

  /** Ranges given as parallel arrays sorted by (section, start); empty ranges hold nothing. */
  static of(secs: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>): RangeIndex {
    const n = starts.length;
    if (n === 0) return RangeIndex.EMPTY;
    // most inputs (a unit's functions, a table's sequences) are disjoint already: they are their own segments
    let disjoint = true;
    for (let i = 0; i < n && disjoint; i++) {
      disjoint = ends[i]! > starts[i]! && (i === 0 || secs[i]! > secs[i - 1]! || starts[i]! >= ends[i - 1]!);
    }
    if (disjoint) {
      const v = new Int32Array(n);
      for (let i = 0; i < n; i++) v[i] = i;
      return new RangeIndex(Int32Array.from(secs), Float64Array.from(starts), Float64Array.from(ends), v);
    }
    const oSec: number[] = [], oStart: number[] = [], oEnd: number[] = [], oVal: number[] = [];
    const emit = (s: number, a: number, b: number, v: number) => {
      const k = oVal.length - 1;
      if (k >= 0 && oVal[k] === v && oSec[k] === s && oEnd[k] === a) { oEnd[k] = b; return; }
      oSec.push(s); oStart.push(a); oEnd.push(b); oVal.push(v);
    };
    const heap: number[] = []; // range indices, the largest on top: the last-starting range wins
    for (let g = 0; g < n;) {
      const s = secs[g]!;
      let h = g;
      while (h < n && secs[h] === s) h++;
      const points: number[] = [];
      for (let i = g; i < h; i++) if (ends[i]! > starts[i]!) points.push(starts[i]!, ends[i]!);
      points.sort((a, b) => a - b);
      heap.length = 0;
      let j = g;
      for (let k = 0; k < points.length; k++) {
        const p = points[k]!;
        if (k > 0 && p === points[k - 1]) continue;
        while (j < h && starts[j]! <= p) { if (ends[j]! > p) heapPush(heap, j); j++; }
        while (heap.length && ends[heap[0]!]! <= p) heapPop(heap);
        let q = k + 1;
        while (q < points.length && points[q] === p) q++;
        if (heap.length && q < points.length) emit(s, p, points[q]!, heap[0]!);
      }
      g = h;
    }
    return new RangeIndex(Int32Array.from(oSec), Float64Array.from(oStart), Float64Array.from(oEnd), Int32Array.from(oVal));
  }

  get length(): number { return this.value.length; }

  /** Index (in the input arrays) of the range holding (sec, addr), -1 when none does. */
  at(sec: number, addr: number): number {
    const ss = this.sec, st = this.start;
    let lo = 0, hi = st.length - 1, found = -1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (ss[m]! < sec || (ss[m] === sec && st[m]! <= addr)) { found = m; lo = m + 1; } else hi = m - 1;
    }
    return found >= 0 && ss[found] === sec && addr < this.end[found]! ? this.value[found]! : -1;
  }
}

function heapPush(h: number[], v: number): void {
  let i = h.push(v) - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! >= v) break;
    h[i] = h[p]!; i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (!h.length) return;
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const c = l + 1 < n && h[l + 1]! > h[l]! ? l + 1 : l;
    if (h[c]! <= last) break;
    h[i] = h[c]!; i = c;
  }
  h[i] = last;
}
