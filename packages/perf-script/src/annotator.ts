/** `kallmod perf`: text (default), `--refs` JSON lines, or `--fold` folded stacks. */
import type { Annotator, AnnotatorOptions, SymbolTable } from '@kallmod/core';
import { createPerfRewriterWhenWorthIt, nativeAddon } from '@kallmod/core/native';
import { Scanner } from './scan.js';
import { Folder } from './fold.js';

/**
 * With the addon a worker pool costs more on the main thread than the rewrite itself: inline.
 * Asked only for large files (run.ts), so a short run never loads the addon.
 */
export function poolMinBytes(): number | undefined {
  return nativeAddon() ? Number.POSITIVE_INFINITY : undefined;
}

export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  const fold = Boolean(opts.extra?.['fold']);
  const sc = new Scanner(table, fold ? { ...opts, refs: false } : opts);
  // text: the native rewriter once it pays (byte-identical; lines it does not decide go to
  // this Scanner), else the Scanner itself (packages/core/src/native.ts)
  // --lines and --dso-module: the TypeScript path (the native rewriter has no DWARF reader and
  // does not rewrite dsos; the same bytes either way, as every other line of the native path)
  const dsoModule = Boolean(opts.extra?.['dsoModule']);
  const native = !opts.lines && !dsoModule && (!opts.refs || fold);
  const text: Annotator = (native ? createPerfRewriterWhenWorthIt(table, opts, (b, l, into) => sc.chunk(b, l, into)) : null) ?? sc;
  if (!fold) return text;
  const folder = new Folder(Boolean(opts.extra?.['linesFold']));
  return {
    chunk: (buf, firstLine) => Buffer.from(folder.fold(text.chunk(buf, firstLine).toString('latin1')), 'latin1'),
    end: () => Buffer.from(folder.end(), 'latin1'),
  };
}

export { cutPoint } from './cut-point.js';
