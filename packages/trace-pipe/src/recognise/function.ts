/**
 * The function tracer's payload: `func <-parent` (print-parent), `func` (print-parent off),
 * with sym-offset `func+0x4/0x370 [mod] <-parent+0x6f/0xf0 [mod]`, sym-addr
 * `func <ffffffff...> <-parent <ffffffff...>`, an unknown ip `0xffffffffc0123456`, parent `0`;
 * trace-cmd's `function:             func <-- parent`.
 */
import type { RecogniseContext } from './context.js';
import type { Hit } from './hit.js';
import { addressAt, symbolAt } from './symbol.js';

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

function onlyTrailingSpace(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * `bare`: whether a lone `func` (no parent) counts: yes after an entry prefix, no for lines
 * without one (any word would match).
 */
export function functionPayload(s: string, from: number, ctx: RecogniseContext, bare: boolean): Hit[] | null {
  let pos = from;
  let arrow = ' <-';
  if (s.startsWith('function: ', pos)) { pos = skipSpaces(s, pos + 10); arrow = ' <-- '; }
  const opts = { module: true, angleAddr: true } as const;
  const f = symbolAt(s, pos, ctx, opts) ?? addressAt(s, pos);
  if (!f) return null;
  if (onlyTrailingSpace(s, f.end)) {
    if (!bare && arrow === ' <-') return null;
    // a lone word that is no symbol is no function-tracer line (events always have "name: ")
    if (f.name !== null && f.offset === null && !ctx.hasSymbol(f.name)) return null;
    return [f];
  }
  let p = f.end;
  if (arrow === ' <-- ') {
    if (!s.startsWith(' <-- ', p)) return null;
    p = skipSpaces(s, p + 5);
  } else {
    if (!s.startsWith(' <-', p)) return null;
    p += 3;
  }
  if (s.charCodeAt(p) === 48 && onlyTrailingSpace(s, p + 1)) return [f]; // parent ip 0
  const parent = symbolAt(s, p, ctx, opts) ?? addressAt(s, p);
  if (!parent || !onlyTrailingSpace(s, parent.end)) return null;
  parent.returnAddress = true;
  f.evidenceFrom = 1;
  f.evidenceLabel = 'parent-module';
  return [f, parent];
}
