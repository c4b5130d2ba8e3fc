/** The lines of a byte buffer, newline excluded, as views (no decoding: bytes stay as they are). */
export function byteLines(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  for (let nl = b.indexOf(10); nl >= 0; nl = b.indexOf(10, p)) { out.push(b.subarray(p, nl)); p = nl + 1; }
  out.push(b.subarray(p));
  return out;
}
