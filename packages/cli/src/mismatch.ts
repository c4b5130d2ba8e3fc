/**
 * The input's own evidence that it comes from another kernel or boot than the sources, in
 * words: printed symbols checked against the table (SymbolTable.consistency) that disagreed.
 * One text for every command that reads kernel text (the transformers, report, flame).
 */
import type { SymbolTable } from '@kallmod/core/table/symbol-table';

/** Enough disagreement to say so at the end of an input: 3 or more, over 5% of the checks. */
export function mostlyDisagrees(c: SymbolTable['consistency']): boolean {
  return c.disagreed >= 3 && c.disagreed * 20 > c.checked;
}

export function mismatchWarning(command: string, c: SymbolTable['consistency'], soFar: boolean): string {
  return `kallmod ${command}: warning: ${c.disagreed} of ${c.checked} printed symbols checked${soFar ? ' so far' : ''} ` +
    `do not match the symbol sources${c.example ? ` (e.g. ${c.example})` : ''}: the input probably comes from another kernel or boot; ` +
    'give that machine\'s sources (--snapshot, --kallsyms). Those references are resolved by name alone or left unresolved.\n';
}
