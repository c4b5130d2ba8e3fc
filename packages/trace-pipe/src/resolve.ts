import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { Resolution } from '@kallmod/core/types';
import type { Hit } from './recognise/hit.js';

/** Evidence from around the reference: a resolution whose module may pick one candidate. */
export interface Evidence { resolution: Resolution; label: string }

/**
 * Printed reference → resolution, by the one policy (core table/resolve-policy.ts); the
 * evidence (a caller's resolved module) may leave one of several same-name candidates, said as
 * `evidence:LABEL` in resolvedBy.
 */
export function resolveHit(table: SymbolTable, h: Hit, ev: Evidence | null): Resolution {
  return table.resolve(h, ev ? { evidence: ev } : undefined);
}

/** The text to insert after the symbol token ('' for nothing): a printed ` [mod]` is not repeated. */
export function insertionFor(table: SymbolTable, h: Hit, r: Resolution, opts: AnnotatorOptions): string {
  return table.annotationAfterPrinted(r, h.module, opts.objname);
}
