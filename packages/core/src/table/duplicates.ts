/**
 * Duplicated names, counted one way for `kallmod dups` and `kallmod sources` (they disagreed:
 * 621 against 314, padding counted by one of them). The groups themselves are
 * SymbolTable.duplicateGroups: padding and aliases at one address do not count.
 */
import type { SymbolTable } from './symbol-table.js';

/** Do two copies share their modules (and objname, `withObjname`), so that no triplet tells them apart? */
export function copiesShare(t: SymbolTable, copies: readonly number[], withObjname = true): boolean {
  const seen = new Set<string>();
  for (const i of copies) {
    const k = withObjname ? `${t.d.modSetIds[i]}:${t.d.objIds[i]}` : String(t.d.modSetIds[i]);
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

/** `keys`: how many names (the field `kallmod sources --json` has always had); `symbols`: their copies. */
export interface DuplicateCount { keys: number; symbols: number }

/**
 * Duplicated names and their copies: by name; those still not told apart by (name, module);
 * those still not told apart by the whole triplet (what `dups` calls still ambiguous).
 */
export function duplicateCounts(t: SymbolTable): { byName: DuplicateCount; byNameModule: DuplicateCount; byTriplet: DuplicateCount } {
  const byName = { keys: 0, symbols: 0 }, byNameModule = { keys: 0, symbols: 0 }, byTriplet = { keys: 0, symbols: 0 };
  for (const copies of t.duplicateGroups().values()) {
    byName.keys++; byName.symbols += copies.length;
    if (copiesShare(t, copies, false)) { byNameModule.keys++; byNameModule.symbols += copies.length; }
    if (copiesShare(t, copies, true)) { byTriplet.keys++; byTriplet.symbols += copies.length; }
  }
  return { byName, byNameModule, byTriplet };
}
