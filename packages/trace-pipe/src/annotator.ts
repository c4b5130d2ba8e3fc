import { perLineAnnotator, type Annotator, type AnnotatorOptions, type SymbolTable } from '@kallmod/core';

/** Placeholder: passes every line through until the recognisers land. */
export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  return perLineAnnotator(table, opts, () => null);
}
