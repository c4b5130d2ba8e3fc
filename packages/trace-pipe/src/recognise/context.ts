import type { SymbolTable } from '@kallmod/core';

/** What recognisers may ask about the symbol table (cached per table). */
export interface RecogniseContext {
  /** A module name the table knows (so `[x]` after a symbol is a module, not a process name). */
  isModule(name: string): boolean;
  /** Any symbol of this name. */
  hasSymbol(name: string): boolean;
  /** A tracepoint of this name exists (`__traceiter_NAME`): `NAME: ...` is an event, not an ip. */
  isTracepoint(name: string): boolean;
}

const cache = new WeakMap<SymbolTable, RecogniseContext>();

export function contextFor(table: SymbolTable): RecogniseContext {
  let c = cache.get(table);
  if (c) return c;
  const mods = new Set<string>();
  for (const set of table.d.modSets) for (const m of set) mods.add(m);
  c = {
    isModule: (n) => mods.has(n),
    hasSymbol: (n) => table.indicesByName(n).length > 0,
    isTracepoint: (n) => table.indicesByName('__traceiter_' + n).length > 0 || table.indicesByName('__tracepoint_' + n).length > 0,
  };
  cache.set(table, c);
  return c;
}
