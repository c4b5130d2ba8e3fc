import type { SymbolTable } from '../table/symbol-table.js';
import type { ObjnameMode, PrintedRef, RefJson, Resolution } from '../types.js';
import { refJson } from '../table/symbol-table.js';
import { OutBuffer } from './out-buffer.js';
import { LineMemo, MEMO_MAX_LINE, type MemoEntry } from './line-memo.js';
import type { CheckRecord } from '../table/symbol-table.js';

/**
 * The contract between the stream driver (live, chunked, worker pool) and a transformer.
 * A transformer is a module exporting `createAnnotator` (and optionally `cutPoint`); the
 * driver feeds it whole lines and writes what it returns, in order.
 */
import { refWithLines, type LineInfo } from '../lines/line-text.js';
import type { LineSource } from '../lines/line-source.js';

export interface AnnotatorOptions {
  objname: ObjnameMode;
  /** Emit one JSON object per reference instead of the rewritten text. */
  refs: boolean;
  /**
   * Transformer-specific options (plain JSON: they cross into worker threads). `memo: false`
   * turns the line memos off (tests compare the output with and without them).
   */
  extra?: Record<string, unknown>;
  /** Size of the whole input when known (a regular file), so that a path can be chosen up front. */
  inputSize?: number;
  /**
   * `--lines`: where source lines come from (DWARF files opened lazily). Not plain JSON: the
   * command then runs inline (no worker pool), and perf on its TypeScript path.
   */
  lines?: LineSource;
}

export interface Annotator {
  /**
   * Whole lines in: every line of `buf` ends with "\n", except possibly the last one at end of
   * input. `firstLine` is the 1-based number of its first line. Returns the output bytes:
   * `buf` itself, a view of `into` when given and large enough (worker threads hand back an
   * earlier result's buffer, so that no buffer is made per chunk), or a new Buffer.
   */
  chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer;
  /**
   * The input has ended: what a record still open holds (--fold's last sample when no blank
   * line follows it: `perf script | head -N`). Called once, after the last chunk.
   */
  end?(): Buffer;
  /**
   * The number of the line after the last chunk's (the driver then does not count a chunk's
   * lines again before the next one: a second pass over every line of a log).
   */
  readonly nextLine?: number;
}

export interface AnnotatorModule {
  createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator;
  /**
   * For parallel work: the largest offset <= `limit` in buf[0, limit] where a new record
   * starts (so no state crosses the cut), or -1 for "any line boundary will do".
   */
  cutPoint?(buf: Buffer, limit: number): number;
  /**
   * State crosses lines with no safe place to cut (ftrace function_graph: a call depth per
   * CPU, interleaved): never a worker pool, whatever --jobs says, so that the output does not
   * depend on how the input was cut.
   */
  inlineOnly?: boolean;
  /**
   * File size from which the driver starts a worker pool by default (run.ts POOL_MIN_BYTES
   * when absent or undefined). Infinity: this annotator is faster inline than the pool's
   * plumbing on the main thread (the native perf rewriter: BENCHMARKS.md). Asked only for
   * large regular files.
   */
  poolMinBytes?(): number | undefined;
}

/**
 * One line as the per-line helpers see it: buf[start, end) without "\n" (a CR stays in).
 * `memo`: true while the line may be memoised (see perLineAnnotator's `memo`); the per-line
 * function sets it false when what it found depends on more than the line (state of earlier lines).
 */
export interface LineView { buf: Buffer; start: number; end: number; line: number; memo: boolean }

/**
 * Which lines a per-line transformer's answers may be memoised for (stream/line-memo.ts):
 * -2 for "nothing to find in this line" (passed as it is, also in refs mode), -1 for "not this
 * line", else the offset in buf up to which the line's digits are read only
 * by class (a prefix's timestamp, pid, CPU), so that they are masked in the key (`start`: none).
 * The answer itself must read those digits only by class too: a line that matches a stored key
 * (masked) is taken as its entry's without asking again (LineMemo.writeNext).
 */
export type MemoPrefix = (buf: Buffer, start: number, end: number) => number;

/**
 * Sink for a per-line transformer: either rewrites the line (insertions only) or records
 * references (refs mode). Keeps byte-exact passthrough in one place.
 */
export class LineWriter {
  readonly out = new OutBuffer();
  constructor(readonly table: SymbolTable, readonly opts: AnnotatorOptions) {}

  /** Pass a line through untouched (with its newline, if any). */
  pass(buf: Buffer, start: number, endWithNl: number): void {
    if (!this.opts.refs) this.out.bytes(buf, start, endWithNl);
  }

  /** In refs mode: record one reference. */
  ref(line: number, p: PrintedRef, r: Resolution, lines?: LineInfo | null): void {
    const o = refJson(line, p, r);
    this.out.str(JSON.stringify(lines === undefined ? o : refWithLines(o, lines)) + '\n');
  }

  refObject(o: RefJson): void { this.out.str(JSON.stringify(o) + '\n'); }
}

/**
 * Build an Annotator from a per-line function. `fn` returns the insertions for the line as
 * [offset, text] pairs, ascending (offsets relative to the line start), or null for "unchanged".
 * In refs mode `fn` should call writer.ref() and may return null. With `memo` (text mode only),
 * a line whose key was seen gets the insertions of then, and fn is not called.
 * Unchanged bytes are copied in runs that span lines.
 */
export function perLineAnnotator(
  table: SymbolTable,
  opts: AnnotatorOptions,
  fn: (v: LineView, w: LineWriter) => [number, string][] | null,
  memo?: MemoPrefix,
): Annotator {
  const w = new LineWriter(table, opts);
  const out = w.out;
  const view: LineView = { buf: Buffer.alloc(0), start: 0, end: 0, line: 0, memo: false };
  const refs = opts.refs;
  const cache = memo && !refs && opts.extra?.['memo'] !== false ? new LineMemo() : null;
  let nextLine = 1;
  return {
    get nextLine() { return nextLine; },
    chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer {
      let pos = 0, line = firstLine, run = 0;
      const len = buf.length;
      view.buf = buf;
      let prev: MemoEntry | null = null; // the last entry met, whose `next` is tried first
      while (pos < len) {
        const guess: MemoEntry | null = prev !== null ? prev.next : null;
        if (guess !== null) {
          out.bytes(buf, run, pos);
          run = pos;
          const end = LineMemo.writeNext(out, buf, pos, len, guess);
          if (end >= 0) {
            LineMemo.replay(table, guess);
            run = end;
            pos = end + 1;
            line++;
            prev = guess;
            continue;
          }
        }
        let nl = buf.indexOf(10, pos);
        const next = nl < 0 ? len : nl + 1;
        if (nl < 0) nl = len;
        let maskEnd = memo && nl - pos <= MEMO_MAX_LINE ? memo(buf, pos, nl) : -1;
        if (maskEnd === -2) { pos = next; line++; continue; } // nothing to find in it
        if (!cache) maskEnd = -1;
        let entry: MemoEntry | null = null;
        if (maskEnd >= 0) {
          const e = cache!.find(buf, pos, nl, maskEnd);
          if (e) {
            out.bytes(buf, run, pos);
            run = pos;
            if (LineMemo.write(out, buf, pos, nl, maskEnd, e)) {
              LineMemo.replay(table, e);
              if (prev !== null) prev.next = e;
              prev = e;
              run = nl;
              pos = next;
              line++;
              continue;
            }
          }
        }
        view.start = pos; view.end = nl; view.line = line; view.memo = maskEnd >= 0;
        let ins: [number, string][] | null;
        if (maskEnd >= 0) {
          const log: CheckRecord[] = [];
          table.checkLog = log;
          try { ins = fn(view, w); } finally { table.checkLog = null; }
          if (view.memo) entry = cache!.store(buf, pos, nl, maskEnd, ins, log);
        } else ins = fn(view, w);
        // a line that is no entry leaves the guess as it was: what came after it last time
        if (entry !== null) { if (prev !== null) prev.next = entry; prev = entry; }
        if (!refs && ins) {
          for (const [off, text] of ins) {
            out.bytes(buf, run, pos + off);
            out.str(text);
            run = pos + off;
          }
        }
        pos = next;
        line++;
      }
      nextLine = line;
      if (!refs) out.bytes(buf, run, len);
      return out.take(into);
    },
  };
}
