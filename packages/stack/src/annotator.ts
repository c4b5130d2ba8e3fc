/**
 * `kallmod stack`: annotate the kernel frames of bpftrace, bcc, /proc/PID/stack, crash, drgn and
 * perf report text with their module(s) and, when the name needs it, their object file.
 * Insert-only: every input byte passes through. The notation goes right after the function name,
 * before `+off` (as `kallmod perf` puts it), so tools that strip offsets to fold frames
 * (stackcollapse-bpftrace.pl, flamegraph.pl on folded stacks) group by (name, module, objname);
 * in a folded stack that is before bcc's `_[k]`, which flamegraph.pl colours by.
 */
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { perLineAnnotator, type Annotator, type AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { Hints } from '@kallmod/core/table/resolve-policy';
import type { Resolution } from '@kallmod/core/types';
import type { LineSource } from '@kallmod/core/lines/line-source';
import { lineSuffix, type LineInfo } from '@kallmod/core/lines/line-text';
import { findStackRefs, type LineState, type StackRef } from './forms.js';

const MODULES_PRINTED: Hints = { modulePrintedWhenLoadable: true };
const NO_HINTS: Hints = {};

/** A blank line ends every stack these tools print: no state crosses it. */
export function cutPoint(buf: Buffer, limit: number): number {
  const i = buf.lastIndexOf('\n\n', limit - 2);
  return i < 0 ? -1 : i + 2;
}

export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  const st: LineState = { user: false };
  const refs: StackRef[] = [];
  const lines = opts.lines ?? null;
  // --lines: a bpftrace/bcc stack's first frame is its ip; the line before had no frame
  let inStack = false;
  return perLineAnnotator(table, opts, (v, w) => {
    refs.length = 0;
    findStackRefs(v.buf.toString('latin1', v.start, v.end), st, refs);
    const first = !inStack;
    inStack = refs.length > 0;
    if (refs.length === 0) return null;
    let ins: [number, string][] | null = null;
    for (const f of refs) {
      // which symbol the frame means: core's one policy (the printed address when there is a
      // non-zero one that names the printed symbol, else the name narrowed by what was printed)
      const r = table.resolve(f.printed, f.modulesPrinted ? MODULES_PRINTED : NO_HINTS);
      const li = lines ? frameLines(lines, f, r, first) : undefined;
      if (opts.refs) { w.ref(v.line, f.printed, r, li); continue; }
      const a = table.annotationAfterPrinted(r, f.printed.module, opts.objname);
      if (a) (ins ??= []).push([f.at, a]);
      // ` file:line` at the end of the line (before a CR): one frame per line in these forms
      const s = li ? lineSuffix(li) : '';
      if (s) (ins ??= []).push([v.end - v.start - (v.buf[v.end - 1] === 13 ? 1 : 0), s]);
    }
    return ins;
  });
}

/**
 * --lines: a frame's lines, when its text says a place in the function (an offset or an
 * address) and its form says what the place is (StackRef.call); null otherwise.
 */
function frameLines(lines: LineSource, f: StackRef, r: Resolution, first: boolean): LineInfo | null {
  if (f.call === null || (f.printed.offset === null && f.printed.address === null)) return null;
  return lines.lines(r, f.call === 'return' || (f.call === 'stack' && !first));
}
