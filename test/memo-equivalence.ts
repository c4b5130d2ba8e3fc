/**
 * Test support for the line memos (core stream/line-memo.ts, trace's graph-memo.ts): annotate
 * the same text with the memos on and with them off (`extra.memo: false`), in chunks of a few
 * lines each (so that the chained guesses cross chunk ends), and return both outputs and the
 * consistency counts each made (what the stderr warning is computed from).
 */
import type { Annotator, AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';

type Create = (table: SymbolTable, opts: AnnotatorOptions) => Annotator;

/** Lines of `text` in a fixed pseudo-random order (each line keeps its bytes and newline). */
export function shuffledLines(text: Buffer, seed: number): Buffer {
  const lines: Buffer[] = [];
  for (let p = 0; p < text.length;) { const e = text.indexOf(10, p); const n = e < 0 ? text.length : e + 1; lines.push(text.subarray(p, n)); p = n; }
  let x = seed;
  for (let i = lines.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return Buffer.concat(lines);
}

function annotate(create: Create, table: SymbolTable, text: Buffer, opts: AnnotatorOptions): { out: Buffer; checked: number; disagreed: number } {
  const c0 = { ...table.consistency };
  const a = create(table, opts);
  const outs: Buffer[] = [];
  let p = 0, line = 1, n = 0;
  while (p < text.length) {
    // 1..7 lines per chunk
    let e = p;
    for (let k = 0; k < 1 + (n++ % 7) && e < text.length; k++) { const nl = text.indexOf(10, e); e = nl < 0 ? text.length : nl + 1; }
    const chunk = text.subarray(p, e);
    outs.push(Buffer.from(a.chunk(chunk, line)));
    line += chunk.reduce((s, b) => s + (b === 10 ? 1 : 0), 0);
    p = e;
  }
  return { out: Buffer.concat(outs), checked: table.consistency.checked - c0.checked, disagreed: table.consistency.disagreed - c0.disagreed };
}

export function withAndWithoutMemo(create: Create, table: SymbolTable, text: Buffer, opts: Partial<AnnotatorOptions> = {}) {
  const base: AnnotatorOptions = { objname: 'ambiguous', refs: false, ...opts };
  return {
    memo: annotate(create, table, text, base),
    plain: annotate(create, table, text, { ...base, extra: { ...base.extra, memo: false } }),
  };
}
