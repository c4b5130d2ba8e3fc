import type { SymbolTable } from '../table/symbol-table.js';
import type { ObjnameMode, PrintedRef, RefJson, Resolution } from '../types.js';
import { refJson } from '../table/symbol-table.js';
import { OutBuffer } from './out-buffer.js';

/**
 * The contract between the stream driver (live, chunked, worker pool) and a transformer.
 * A transformer is a module exporting `createAnnotator` (and optionally `cutPoint`); the
 * driver feeds it whole lines and writes what it returns, in order.
 */
import { lineFields, type LineInfo } from '../lines/line-text.js';
import type { LineSource } from '../lines/line-source.js';

export interface AnnotatorOptions {
  objname: ObjnameMode;
  /** Emit one JSON object per reference instead of the rewritten text. */
  refs: boolean;
  /** Transformer-specific options (plain JSON: they cross into worker threads). */
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

/** One line as the per-line helpers see it: buf[start, end) without "\n" (a CR stays in). */
export interface LineView { buf: Buffer; start: number; end: number; line: number }

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
    this.out.str(JSON.stringify(lines === undefined ? o : { ...o, ...lineFields(lines) }) + '\n');
  }

  refObject(o: RefJson): void { this.out.str(JSON.stringify(o) + '\n'); }
}

/**
 * Build an Annotator from a per-line function. `fn` returns the insertions for the line as
 * [offset, text] pairs, ascending (offsets relative to the line start), or null for "unchanged".
 * In refs mode `fn` should call writer.ref() and may return null.
 */
export function perLineAnnotator(
  table: SymbolTable,
  opts: AnnotatorOptions,
  fn: (v: LineView, w: LineWriter) => [number, string][] | null,
): Annotator {
  const w = new LineWriter(table, opts);
  const view: LineView = { buf: Buffer.alloc(0), start: 0, end: 0, line: 0 };
  return {
    chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer {
      let pos = 0, line = firstLine;
      const len = buf.length;
      view.buf = buf;
      while (pos < len) {
        let nl = buf.indexOf(10, pos);
        const next = nl < 0 ? len : nl + 1;
        if (nl < 0) nl = len;
        view.start = pos; view.end = nl; view.line = line;
        const ins = fn(view, w);
        if (!opts.refs) {
          if (!ins || ins.length === 0) w.out.bytes(buf, pos, next);
          else {
            let at = pos;
            for (const [off, text] of ins) {
              w.out.bytes(buf, at, pos + off);
              w.out.str(text);
              at = pos + off;
            }
            w.out.bytes(buf, at, next);
          }
        }
        pos = next;
        line++;
      }
      return w.out.take(into);
    },
  };
}
