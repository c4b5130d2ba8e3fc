/**
 * Finding `name+0xOFF/0xSIZE` (%pS) tokens anywhere in a line, in time linear in its length.
 *
 * Why not a global regex: `NAME\+0x…` tried from every position of a run of name characters
 * reads the run to its end each time, so a long word (a 10 MB `tracing_mark_write:` payload)
 * took quadratic time. Here each `+0x` is found with indexOf and its name is read backwards; the
 * stretches read lie between consecutive `+` signs, so every character is read a bounded number
 * of times. What is found is exactly what the regex `${NAME}${OFFSZ}` (global, from `from`) found,
 * less its matches that start inside a word (which every caller skipped).
 */
import { isNameChar } from './hit.js';

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** The end of `+0xHEX/0xHEX` at q (s[q] is '+' of a `+0x`), or -1. */
function offsetSizeEnd(s: string, q: number): number {
  let i = q + 3;
  const h = i;
  while (isHex(s.charCodeAt(i))) i++;
  if (i === h || s.charCodeAt(i) !== 47 /* / */ || s.charCodeAt(i + 1) !== 48 || s.charCodeAt(i + 2) !== 120 /* 0x */) return -1;
  i += 3;
  const h2 = i;
  while (isHex(s.charCodeAt(i))) i++;
  return i === h2 ? -1 : i;
}

/** A token: its name starts at `start`, its `/0xSIZE` ends at `end`. */
export interface OffsetToken { start: number; end: number }

/**
 * The first `name+0xOFF/0xSIZE` whose name starts in s[from, to) at the start of a word (not
 * after a name character), or null. A token whose name would start inside a word, or before
 * `from`, is passed over whole, as the regex's match was.
 */
export function nextOffsetToken(s: string, from: number, to: number): OffsetToken | null {
  let pos = from;
  for (let q = s.indexOf('+0x', pos); q >= 0; q = s.indexOf('+0x', Math.max(pos, q + 1))) {
    const end = offsetSizeEnd(s, q);
    if (end < 0) continue;
    let r = q; // the run of name characters before the '+'
    while (r > 0 && isNameChar(s.charCodeAt(r - 1))) r--;
    let i = Math.max(r, pos);
    while (i < q && !isNameStart(s.charCodeAt(i))) i++;
    if (i === q) continue; // no name can start there
    if (i >= to) return null;
    if (i > 0 && isNameChar(s.charCodeAt(i - 1))) { pos = end; continue; } // inside a word
    return { start: i, end };
  }
  return null;
}
