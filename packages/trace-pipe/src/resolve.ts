import { SymbolTable } from '@kallmod/core/table/symbol-table';
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { Resolution } from '@kallmod/core/types';
import type { Hit } from './recognise/hit.js';

/** Evidence from around the reference: a resolution whose module may pick one candidate. */
export interface Evidence { resolution: Resolution; label: string }

/**
 * Printed reference → resolution. The printed address decides; else name narrowed by printed
 * module, size and offset (table.candidates); if several remain and evidence names a module
 * that exactly one candidate belongs to, that one, with `evidence:LABEL` in resolvedBy.
 * Core-kernel evidence (no module) never picks: calls into and out of the core are the rule.
 */
export function resolveHit(table: SymbolTable, h: Hit, ev: Evidence | null): Resolution {
  if (h.address) return table.resolvePrinted({ text: h.text, name: h.name, offset: h.offset, size: h.size, address: h.address, module: h.module });
  if (!h.name) return SymbolTable.unresolved('nothing to resolve');
  const { indices, how } = table.candidates({ name: h.name, offset: h.offset, size: h.size, module: h.module });
  if (indices.length > 1 && ev && !ev.resolution.ambiguous && ev.resolution.modules.length) {
    const em = ev.resolution.modules;
    const f = indices.filter((i) => table.modules(i).some((m) => em.includes(m)));
    if (f.length === 1) return table.resolveAmong(f, h.offset, `${how}+evidence:${ev.label}`);
  }
  return table.resolveAmong(indices, h.offset, how);
}

/** The text to insert after the symbol token ('' for nothing): a printed ` [mod]` is not repeated. */
export function insertionFor(table: SymbolTable, h: Hit, r: Resolution, opts: AnnotatorOptions): string {
  return table.annotationAfterPrinted(r, h.module, opts.objname);
}
