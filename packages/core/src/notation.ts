/**
 * The one home of kallmod's text notation, which follows /proc/kallmodsyms:
 *   ` [mod]`            built-in or loadable module
 *   ` [m1] [m2]`        object linked into several built-in modules
 *   ` {obj.o}`          object file (shortest unique path suffix), when the name needs it
 *   ` {?a.o|[m]b.o}`    ambiguous: every candidate, nothing guessed (` {?3 candidates}` when
 *                       none has a module or objname to tell it by)
 * Core-kernel symbols get no module part, as in kallmodsyms.
 */
import type { SymbolJson } from './types.js';

export function formatModules(modules: readonly string[]): string {
  let s = '';
  for (const m of modules) s += ` [${m}]`;
  return s;
}

export function formatTriplet(modules: readonly string[], objShort: string | null): string {
  const m = formatModules(modules);
  return objShort ? `${m} {${objShort}}` : m;
}

/** At most this many candidates are spelled out; the rest are counted. */
export const MAX_LISTED_CANDIDATES = 8;

export function formatCandidate(c: Pick<SymbolJson, 'modules' | 'objnameShort'>): string {
  const mods = c.modules.map((m) => `[${m}]`).join('');
  // `[udf]`: in udf, object not known
  return mods + (c.objnameShort ?? (mods ? '' : '?'));
}

/**
 * ` {?a.o|[m]b.o}`; candidates with neither a module nor an objname cannot be spelled (a bare
 * `?` each gave `{??|?}`): they are counted, ` {?a.o|+2 unknown}`, or ` {?3 candidates}` when
 * no candidate can be spelled.
 */
export function formatAmbiguous(cands: readonly Pick<SymbolJson, 'modules' | 'objnameShort'>[]): string {
  const known = cands.filter((c) => c.modules.length > 0 || c.objnameShort !== null);
  if (known.length === 0) return ` {?${cands.length} candidates}`;
  const listed = known.slice(0, MAX_LISTED_CANDIDATES).map(formatCandidate);
  if (known.length > MAX_LISTED_CANDIDATES) listed.push(`+${known.length - MAX_LISTED_CANDIDATES}`);
  if (known.length < cands.length) listed.push(`+${cands.length - known.length} unknown`);
  return ` {?${listed.join('|')}}`;
}

/**
 * Parse the notation back (for `kallmod resolve` queries): `name[+0xOFF[/0xSIZE]] [m1] [m2]
 * {obj.o}` — the `func+off/size` form kernel logs print is read too.
 */
export interface TripletQuery {
  name: string;
  offset: number | null;
  /** Printed kallsyms size (`/0x1a10`): picks between same-named symbols. */
  size: number | null;
  modules: string[] | null;
  objname: string | null;
}

export function parseTriplet(q: string): TripletQuery | null {
  const s = q.trim();
  const m = /^(\S+?)(?:\+(0x[0-9a-fA-F]+|\d+)(?:\/(0x[0-9a-fA-F]+|\d+))?)?((?:\s+\[[^\]\s]+\])*)(?:\s+\{([^}\s]+)\})?$/.exec(s);
  if (!m) return null;
  const mods = m[4] ? [...m[4].matchAll(/\[([^\]\s]+)\]/g)].map((x) => x[1]!) : null;
  return { name: m[1]!, offset: m[2] ? Number(m[2]) : null, size: m[3] ? Number(m[3]) : null, modules: mods, objname: m[5] ?? null };
}
