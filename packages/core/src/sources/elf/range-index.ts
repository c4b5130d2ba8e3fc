/**
 * The range containing (sec, addr) among ranges sorted by (section, start): the last one that
 * starts at or before addr, then up to `back` earlier ones (nested or overlapping ranges).
 * Shared by the unit index (source-lines.ts) and a unit's function ranges (dwarf-inlines.ts).
 */
export function rangeIndexAt(
  secs: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>, sec: number, addr: number, back: number,
): number {
  let lo = 0, hi = starts.length - 1, found = -1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (secs[m]! < sec || (secs[m] === sec && starts[m]! <= addr)) { found = m; lo = m + 1; } else hi = m - 1;
  }
  for (let i = found; i >= 0 && i > found - back; i--) {
    if (secs[i] !== sec) break;
    if (addr >= starts[i]! && addr < ends[i]!) return i;
  }
  return -1;
}
