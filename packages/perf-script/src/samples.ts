/**
 * `perf script` text as samples rather than text to rewrite: for `kallmod report` and
 * `kallmod flame`. The same recognition as the annotator (frame-parse.ts for a kernel frame,
 * scan.ts's test for a right-aligned header, fold.ts's stackcollapse rules for the comm and
 * period) and the same resolution (FrameResolver: the printed name at the printed address on
 * bytes, else core's one policy); only what is done with a frame differs: it is handed to a
 * SampleSink instead of being written.
 *
 * A sample is a header line (`comm pid [cpu] time: period event:`) and its indented frames, leaf
 * first, up to a blank line; a header that carries its own frame (`-G`, or no callchain) is a
 * sample of its own. Frames without a header (`-F ip,sym`) make a sample with no comm.
 */
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import type { Resolution } from '@kallmod/core/types';
import type { NativeLineMemo } from '@kallmod/core/native';
import { BARE, NAMED, hex16, hex16Low, isKernelAddrAt, newFrame, parseFrame, type Frame } from './frame-parse.js';
import { FrameResolver } from './frame-resolver.js';
import { collapseFrame, eventComm, samplePeriod } from './fold.js';
import { notUserFrame } from './scan.js';

export interface SampleSink {
  /** A sample starts: its comm (null when perf printed none) and period (1 when none printed). */
  sample(comm: string | null, period: number): void;
  /**
   * A kernel frame of the open sample, leaf first: the index of its symbol, or -1 and the
   * policy's resolution (ambiguous, unresolved: `r.name` null) when the fast test did not decide.
   * Returns the sink's id of the frame (handed over again as `repeat(id)` from the line memo).
   */
  kernel(i: number, r: Resolution | null, printedName: string | null): number;
  /**
   * A user-space frame: its name as stackcollapse-perf.pl spells it, and its dso. Returns an id
   * of the sink's: the same frame text again is handed over as `repeat(id)`, without strings.
   */
  user(name: string, dso: string): number;
  /** The frame `user` or `kernel` returned `id` for, once more. */
  repeat(id: number): void;
  /** The open sample ended (a blank line, the next header, the end of the input). */
  end(): void;
}

const MEMO_MASK = (1 << 14) - 1;
/** Events per native line memo call: a 1 MiB chunk has some 20,000 lines. */
const EVENTS = 1 << 15;
const USER_MASK = (1 << 15) - 1;

/** What the sink needs from a header: the comm (flame graphs), the period (--period). */
export interface WalkerNeeds { comm: boolean; period: boolean }

export class SampleWalker {
  private readonly res: FrameResolver;
  private readonly f: Frame = newFrame();
  private open = false;
  private readonly memoKey = new Float64Array(MEMO_MASK + 1).fill(-1);
  private readonly memoIdx = new Int32Array(MEMO_MASK + 1);
  // user frames by their text (`ADDR SYM+0xOFF (DSO)`), direct-mapped by address: a profile's
  // user stacks repeat, and a string per frame was most of the time
  private readonly userText: (Buffer | undefined)[] = new Array<Buffer | undefined>(USER_MASK + 1);
  private readonly userId = new Int32Array(USER_MASK + 1);
  /**
   * What the line just read did, for the native line memo: -1 anything but one frame (or not
   * repeatable as it is), else the frame's id * 2, + 1 when it was a kernel frame the fast test
   * confirmed (one `consistency.checked` to count again for every repeat).
   */
  private lineValue = -1;
  private events: Int32Array | null = null;
  private learnt: Int32Array | null = null;
  private readonly io = new Float64Array(1);

  constructor(
    readonly table: SymbolTable, opts: AnnotatorOptions, private readonly sink: SampleSink,
    private readonly needs: WalkerNeeds = { comm: true, period: true },
  ) {
    this.res = new FrameResolver(table, opts);
  }

  /**
   * Whole lines in (the last one may lack its newline at the end of the input). With the
   * addon's line memo, lines read before are not read again: a frame line means what its bytes
   * say, so the memo hands back the frame its first reading gave (every other line, headers
   * and blank lines included, is read here as without it: the same samples either way).
   */
  chunk(buf: Buffer, memo?: NativeLineMemo | null): void {
    if (memo) return this.chunkMemo(buf, memo);
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      let nl = buf.indexOf(10, pos);
      if (nl < 0) nl = len;
      let e = nl;
      if (e > pos && buf[e - 1] === 13) e--;
      this.line(buf, pos, e);
      pos = nl + 1;
    }
  }

  private chunkMemo(buf: Buffer, memo: NativeLineMemo): void {
    const events = (this.events ??= new Int32Array(EVENTS));
    let learnt = (this.learnt ??= new Int32Array(3 * 1024));
    const io = this.io, len = buf.length, sink = this.sink, consistency = this.table.consistency;
    let n = 0;
    io[0] = 0;
    while (io[0]! < len) {
      const k = memo.scan(buf, events, io);
      for (let j = 0; j < k; j++) {
        const v = events[j]!;
        if (v >= 0) {
          if (!this.open) this.begin(null, 1);
          // counted where the TS path counts it: a disagreement's 5% test sees the same figures
          if (v & 1) consistency.checked++;
          sink.repeat(v >> 1);
        } else if (v === -1) this.close();
        else {
          const s = -v - 2;
          let nl = buf.indexOf(10, s);
          if (nl < 0) nl = len;
          let e = nl;
          if (e > s && buf[e - 1] === 13) e--;
          this.lineValue = -1;
          this.line(buf, s, e);
          if (this.lineValue >= 0) {
            if (3 * n + 3 > learnt.length) { const l = new Int32Array(learnt.length * 2); l.set(learnt); learnt = this.learnt = l; }
            learnt[3 * n] = s; learnt[3 * n + 1] = nl; learnt[3 * n + 2] = this.lineValue;
            n++;
          }
        }
      }
    }
    if (n) memo.learn(buf, learnt, n);
  }

  /** The input ended: the last sample, when no blank line closed it (`perf script | head`). */
  end(): void { this.close(); }

  private close(): void {
    if (this.open) { this.open = false; this.sink.end(); }
  }

  private begin(comm: string | null, period: number): void {
    this.close();
    this.open = true;
    this.sink.sample(comm, period);
  }

  private line(buf: Buffer, s: number, e: number): void {
    if (s === e) return this.close();
    const c = buf[s];
    if (c === 35) return; // a '#' comment (perf script --header)
    if (c !== 9 && c !== 32) return this.header(buf, s, e);
    let p = s + 1;
    while (p < e && (buf[p] === 32 || buf[p] === 9)) p++;
    if (p === e) return this.close();
    if (isKernelAddrAt(buf, p, e)) {
      if (this.kernelFrame(buf, p, e)) return;
    } else if (c === 32 && notUserFrame(buf, p, e)) return this.header(buf, s, e); // perf indents frames with a tab
    this.userFrame(buf, p, e);
  }

  /** A kernel frame at p (its address); false when it is not one after all ([vsyscall]). */
  private kernelFrame(buf: Buffer, p: number, e: number): boolean {
    if (!this.open) this.begin(null, 1);
    const table = this.table, res = this.res;
    // the annotator's fast path: the printed name at the printed address, memoised
    if (p + 16 < e && buf[p + 16] === 32) {
      const key = hex16(buf, p), h = hex16Low(buf, p) & MEMO_MASK;
      let i: number;
      if (this.memoKey[h] === key) i = this.memoIdx[h]!;
      else { i = key === key ? table.lookupKey(key) : -1; this.memoKey[h] = key; this.memoIdx[h] = i; }
      if (i >= 0) {
        const nb = res.bytesOf(i), n = nb.length, st = p + 17;
        let k = 0;
        while (k < n && nb[k] === buf[st + k]) k++;
        const t = buf[st + n];
        if (k === n && (t === 43 || t === 32 || st + n === e)) {
          table.consistency.checked++;
          this.lineValue = 2 * this.sink.kernel(i, null, null) + 1;
          return true;
        }
      }
    }
    const f = this.f;
    if (!parseFrame(buf, p, e, f, false)) return false;
    this.resolved(f, buf);
    return true;
  }

  /** A parsed kernel frame, as scan.ts's frameAt decides it. */
  private resolved(f: Frame, buf: Buffer): void {
    const table = this.table;
    if (f.kind === NAMED) {
      const i = f.inlined ? -1 : table.lookupKey(f.key);
      if (i >= 0 && this.res.nameIs(i, buf, f.nameStart, f.nameEnd)) { table.noteCheck(true); this.sink.kernel(i, null, null); return; }
      this.sink.kernel(-1, this.res.resolve(f, buf), buf.toString('latin1', f.nameStart, f.nameEnd));
      return;
    }
    const i = table.lookupKey(f.key);
    this.sink.kernel(i, null, i < 0 && f.kind !== BARE ? '[unknown]' : null);
  }

  /** An indented frame that is not a kernel one: `ADDR SYM+0xOFF (DSO)`, `ADDR [unknown] (DSO)`, `ADDR`. */
  private userFrame(buf: Buffer, p: number, e: number): void {
    if (!this.open) this.begin(null, 1);
    // the memo: hashed by the address's last hex digits, checked against the whole text
    let t = p, h = 0;
    for (; t < e && buf[t] !== 32; t++) h = (h << 4) ^ buf[t]! ^ (h >>> 15);
    h = (h ^ (e - p)) & USER_MASK;
    const known = this.userText[h];
    // Buffer.compare: measured faster here than a JS loop over the bytes
    if (known !== undefined && known.length === e - p && known.compare(buf, p, e) === 0) {
      const id = this.userId[h]!;
      this.lineValue = 2 * id;
      return this.sink.repeat(id);
    }
    const id = t >= e ? this.sink.user('[unknown]', '[unknown]') : this.userTail(buf, t + 1, e);
    if (id >= 0) { this.userText[h] = Buffer.from(buf.subarray(p, e)); this.userId[h] = id; this.lineValue = 2 * id; }
  }

  /** `SYM+0xOFF (DSO)` from s to the line end, as stackcollapse-perf.pl names it; the sink's id, -1 for none. */
  private userTail(buf: Buffer, s: number, e: number): number {
    let dso = '[unknown]', symEnd = e;
    if (buf[e - 1] === 41) {
      // the "(" that the last ")" closes: a dso may hold parentheses (`/memfd:x (deleted)`)
      let depth = 0, o = e - 1;
      for (; o >= s; o--) { const c = buf[o]; if (c === 41) depth++; else if (c === 40 && --depth === 0) break; }
      if (o > s && buf[o - 1] === 32) { dso = buf.toString('latin1', o + 1, e - 1); symEnd = o - 1; }
    }
    const name = collapseFrame(buf.toString('latin1', s, symEnd), dso);
    return name !== null ? this.sink.user(name, dso) : -1;
  }

  private header(buf: Buffer, s: number, e: number): void {
    // most headers end with the event (`cycles: `): when neither comm nor period is wanted, no
    // string is made for them; any other may carry its own frame (-G, no -g: `... ([dso])`;
    // `-F comm,ip,sym`: no dso at all) and is read
    if (!this.needs.comm && !this.needs.period && endsWithColon(buf, s, e)) return this.begin(null, 1);
    const l = buf.toString('latin1', s, e);
    const comm = this.needs.comm ? eventComm(l.trimStart()) : null;
    // a kernel frame on the header line itself (-G one-line samples, no -g): the header's own frame
    let q = s;
    const f = this.f;
    while (q < e) {
      while (q < e && (buf[q] === 32 || buf[q] === 9)) q++;
      let t = q;
      while (t < e && buf[t] !== 32 && buf[t] !== 9) t++;
      if (t - q === 16 && isKernelAddrAt(buf, q, e) && parseFrame(buf, q, e, f, true)) {
        this.begin(comm, this.needs.period ? headerPeriod(l.slice(0, q - s)) : 1);
        this.resolved(f, buf);
        return this.close();
      }
      q = t;
    }
    const period = this.needs.period ? headerPeriod(l) : 1;
    // a user-space frame there: `... event:  55d4f0af7fc7 [unknown] (/usr/bin/x)`
    const colon = l.lastIndexOf(': ');
    if (l.endsWith(')') && colon > 0 && !/:\s*$/.test(l)) {
      const m = /^\s*[0-9a-f]+ /.exec(l.slice(colon + 1));
      if (m) {
        this.begin(comm, period);
        this.userTail(buf, s + colon + 1 + m[0].length, e);
        return this.close();
      }
    }
    this.begin(comm, period);
  }
}

function endsWithColon(buf: Buffer, s: number, e: number): boolean {
  while (e > s && buf[e - 1] === 32) e--;
  return e > s && buf[e - 1] === 58;
}

/**
 * The period perf printed: the number after the timestamp (`749.012936:     250000 cpu-clock:`),
 * else stackcollapse-perf.pl's reading of the line's end (1 when it printed none).
 */
export function headerPeriod(l: string): number {
  const m = /\s\d+\.\d+:\s+(\d+)\s/.exec(l);
  return m ? Number(m[1]) || 1 : samplePeriod(l);
}
