/**
 * The one home of kallmod's text notation, which follows /proc/kallmodsyms:
 *   ` [mod]`            built-in or loadable module
 *   ` [m1] [m2]`        object linked into several built-in modules
 *   ` {obj.o}`          object file (shortest unique path suffix), when the name needs it
 *   ` {?a.o|[m]b.o}`    ambiguous: every candidate, nothing guessed
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
  return mods + (c.objnameShort ?? '?');
}

export function formatAmbiguous(cands: readonly Pick<SymbolJson, 'modules' | 'objnameShort'>[]): string {
  const listed = cands.slice(0, MAX_LISTED_CANDIDATES).map(formatCandidate);
  if (cands.length > MAX_LISTED_CANDIDATES) listed.push(`+${cands.length - MAX_LISTED_CANDIDATES}`);
  return ` {?${listed.join('|')}}`;
}

/** Parse the notation back (for `kallmod resolve` queries): `name [m1] [m2] {obj.o}`. */
export interface TripletQuery {
  name: string;
  offset: number | null;
  modules: string[] | null;
  objname: string | null;
}

export function parseTriplet(q: string): TripletQuery | null {
  const s = q.trim();
  const m = /^(\S+?)(?:\+(0x[0-9a-fA-F]+|\d+))?((?:\s+\[[^\]\s]+\])*)(?:\s+\{([^}\s]+)\})?$/.exec(s);
  if (!m) return null;
  const mods = m[3] ? [...m[3].matchAll(/\[([^\]\s]+)\]/g)].map((x) => x[1]!) : null;
  return { name: m[1]!, offset: m[2] ? Number(m[2]) : null, modules: mods, objname: m[4] ?? null };
}
