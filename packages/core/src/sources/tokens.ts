/** Whitespace tokenising of byte lines, shared by the line-oriented source parsers. */

/** Space, tab, CR, VT, FF. */
export function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

/**
 * Split buf[s, e) on blanks into tok as (start, end) pairs, at most tok.length / 2 tokens;
 * returns the token count. No strings are made.
 */
export function tokenize(buf: Buffer, s: number, e: number, tok: Int32Array): number {
  const max = tok.length >> 1;
  let n = 0;
  let i = s;
  while (i < e && n < max) {
    while (i < e && isBlank(buf[i]!)) i++;
    if (i >= e) break;
    const ts = i;
    while (i < e && !isBlank(buf[i]!)) i++;
    tok[2 * n] = ts;
    tok[2 * n + 1] = i;
    n++;
  }
  return n;
}
