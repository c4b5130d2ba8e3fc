/** `kallmod perf`: text (default), `--refs` JSON lines, or `--fold` folded stacks. */
import type { Annotator, AnnotatorOptions, SymbolTable } from '@kallmod/core';
import { createPerfRewriter, nativeAddon } from '@kallmod/core/native';
import { Scanner } from './scan.js';
import { Folder } from './fold.js';

// KALLMOD_NATIVE=1 without the addon: fail at import, on the main thread, in one line.
// With the addon, a worker pool costs more on the main thread than the rewrite itself: inline.
export const poolMinBytes: number | undefined = nativeAddon() ? Number.POSITIVE_INFINITY : undefined;

export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  const fold = Boolean(opts.extra?.['fold']);
  const sc = new Scanner(table, fold ? { ...opts, refs: false } : opts);
  // text: the native rewriter when the addon is loaded (byte-identical; lines it does not
  // decide go to this Scanner), else the Scanner itself (packages/core/src/native.ts)
  const text: Annotator = (!opts.refs || fold ? createPerfRewriter(table, opts, (b, l) => sc.chunk(b, l)) : null) ?? sc;
  if (!fold) return text;
  const folder = new Folder();
  return { chunk: (buf, firstLine) => Buffer.from(folder.fold(text.chunk(buf, firstLine).toString('latin1')), 'latin1') };
}

/** Samples end at a blank line: cut after the last one before `limit` (see run.ts). */
export function cutPoint(buf: Buffer, limit: number): number {
  const i = buf.lastIndexOf('\n\n', limit - 2);
  return i < 0 ? -1 : i + 2;
}
