/**
 * Kernel addresses as exact doubles ("keys").
 *
 * A 64-bit address does not fit a double, and BigInt lookups run 20x slower than number ones
 * (shared/reference/native.md). Kernel addresses all have their top 16 bits set, user addresses
 * none, so folding the top half keeps every canonical x86-64 address exact and ordered:
 *   hi >= 0xffff0000 → (hi - 0xffff0000)·2^32 + lo + 2^48     (kernel half)
 *   otherwise        → hi·2^32 + lo                         (exact below 2^48)
 * Differences of two kernel-half keys are real address differences, so KASLR slides and
 * offsets are plain subtraction.
 */
export const TWO32 = 4294967296;
export const KERNEL_BASE = 2 ** 48;

export function keyFromParts(hi: number, lo: number): number {
  return hi >= 0xffff0000 ? (hi - 0xffff0000) * TWO32 + lo + KERNEL_BASE : hi * TWO32 + lo;
}

const HEXVAL = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEXVAL[48 + c] = c;
for (let c = 0; c < 6; c++) { HEXVAL[97 + c] = 10 + c; HEXVAL[65 + c] = 10 + c; }
/** Value of a hex digit byte, or -1. */
export const hexValue = HEXVAL;

/**
 * Parse hex digits buf[start, end) (no 0x) to a key. Returns NaN when a byte is not a hex
 * digit or there are more than 16 digits.
 */
export function keyFromHexBytes(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 16) return NaN;
  let hi = 0, lo = 0;
  const split = end - 8;
  for (let i = start; i < end; i++) {
    const v = HEXVAL[buf[i]!]!;
    if (v < 0) return NaN;
    if (i < split) hi = hi * 16 + v; else lo = lo * 16 + v;
  }
  return keyFromParts(hi, lo);
}

/** Parse a hex string ("ffffffff81000000", "0x..." accepted) to a key; NaN when invalid. */
export function keyFromHex(s: string): number {
  let start = 0;
  if (s.length > 1 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) | 32) === 120) start = 2;
  const n = s.length - start;
  if (n <= 0 || n > 16) return NaN;
  let hi = 0, lo = 0;
  const split = s.length - 8;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 256 ? HEXVAL[c]! : -1;
    if (v < 0) return NaN;
    if (i < split) hi = hi * 16 + v; else lo = lo * 16 + v;
  }
  return keyFromParts(hi, lo);
}


/** Hex string (lower case, no padding, "0x" prefix) of a key. */
export function keyToHex(key: number): string {
  return '0x' + keyToBareHex(key);
}

/** 16-digit zero-padded hex (as /proc/kallsyms prints) of a key. */
export function keyToPaddedHex(key: number): string {
  return keyToBareHex(key).padStart(16, '0');
}

function keyToBareHex(key: number): string {
  let hi: number, lo: number;
  if (key >= KERNEL_BASE) {
    const k = key - KERNEL_BASE;
    hi = Math.floor(k / TWO32) + 0xffff0000;
    lo = k - Math.floor(k / TWO32) * TWO32;
  } else {
    hi = Math.floor(key / TWO32);
    lo = key - hi * TWO32;
  }
  if (hi === 0) return lo.toString(16);
  return hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** True for keys in the kernel half of the address space. */
export function isKernelKey(key: number): boolean {
  return key >= KERNEL_BASE;
}
