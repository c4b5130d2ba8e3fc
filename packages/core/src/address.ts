/**
 * Kernel addresses as exact doubles ("keys").
 *
 * A 64-bit address does not fit a double, and BigInt lookups run 20x slower than number ones
 * (shared/reference/native.md). Kernel addresses all have their top 16 bits set, user addresses
 * none, so folding the top half keeps every canonical x86-64 address exact and ordered:
 *   hi >= 0xffff0000 → (hi - 0xffff0000)·2^32 + lo + 2^48     (kernel half)
 *   hi <  0x00010000 → hi·2^32 + lo                         (exact below 2^48: user space,
 *                                                            32-bit kernels, per-CPU offsets)
 *   otherwise        → NaN: not canonical with 48-bit VAs, and folding it would land on a
 *                      kernel key (0001ffff8225f8ab read as ffffffff8225f8ab)
 * With 57-bit VAs (LA57, arm64 52-bit) the kernel half starts lower (0xff00...), but kernel text,
 * modules and BPF stay above 0xffff800000000000 (KERNEL_SYMBOL_BASE), where every symbol is; the
 * rest of that half (direct map, vmalloc) holds no symbol and gets no key either.
 * Differences of two kernel-half keys are real address differences, so KASLR slides and
 * offsets are plain subtraction.
 */
export const TWO32 = 4294967296;
export const KERNEL_BASE = 2 ** 48;
/** Key of 0xffff800000000000: no 64-bit kernel symbol lies in [KERNEL_BASE, this). */
export const KERNEL_SYMBOL_BASE = KERNEL_BASE + 0x8000 * TWO32;

export function keyFromParts(hi: number, lo: number): number {
  // kernel addresses take the first test alone: the hot path pays nothing for the check
  return hi >= 0xffff0000 ? (hi - 0xffff0000) * TWO32 + lo + KERNEL_BASE : hi < 0x10000 ? hi * TWO32 + lo : NaN;
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

/**
 * Value of the 8 hex digits at view[at, at + 8), or -1 when a byte is not a hex digit. Four
 * bytes at a time (SWAR): a start-up parses 160k addresses as cold code, where a loop per
 * digit cost ~3x more.
 */
export function hex8At(view: DataView, at: number): number {
  const a = hex4(view.getUint32(at)), b = hex4(view.getUint32(at + 4));
  return a < 0 || b < 0 ? -1 : a * 65536 + b;
}

/** The 4 hex digits packed in w (first digit in the top byte) → 0..0xffff, or -1. */
function hex4(w: number): number {
  // every byte below 0x80, so that the per-byte sums below cannot carry into the next byte
  if (w & 0x80808080) return -1;
  const x = w | 0x20202020; // 'A'-'F' → 'a'-'f' (only those land in 'a'-'f')
  // top bit of a byte set ⇔ byte in [lo, hi]: (b + 0x80 - lo) & ~(b + 0x7f - hi)
  const digit = (w + 0x50505050) & ~(w + 0x46464646);
  const alpha = (x + 0x1f1f1f1f) & ~(x + 0x19191919);
  if (~(digit | alpha) & 0x80808080) return -1;
  // nibble per byte: c & 0xf, + 9 for letters (bit 6 set)
  const n = (w & 0x0f0f0f0f) + 9 * ((w >>> 6) & 0x01010101);
  const t = (n | (n >>> 4)) & 0x00ff00ff;
  return (t | (t >>> 8)) & 0xffff;
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

/**
 * Why hex digits (no 0x) give no key, for messages (off the hot path): null when they do.
 * 'not hex' | 'over 64 bits' | 'kernel half, no symbols there (LA57 direct map / vmalloc)' |
 * 'not canonical'.
 */
export function whyNoKey(hex: string): string | null {
  const s = hex.replace(/^0x/i, '').replace(/^0+(?=.)/, '');
  if (!/^[0-9a-f]+$/i.test(s)) return 'not hex';
  if (s.length > 16) return 'over 64 bits';
  if (!Number.isNaN(keyFromHex(s))) return null;
  const top = parseInt(s.padStart(16, '0').slice(0, 2), 16);
  if (top === 0xff) return 'a kernel-half address where no symbol lies (LA57 direct map or vmalloc)';
  if (top === 0) return 'not a kernel address (above 48 bits: user space with LA57, else not canonical)';
  return 'not a canonical address (neither the kernel nor the user half)';
}

/**
 * Why a source's symbol address (hex digits `hex`, key `key`) cannot be a symbol's, or null.
 * Beyond whyNoKey: the kernel half below 0xffff800000000000 holds no symbol of any 64-bit kernel
 * (a key there would stretch the address index over 2^47 bytes). Off the hot path.
 */
export function whyNotSymbolAddress(key: number, hex: string): string | null {
  if (Number.isNaN(key)) return whyNoKey(hex);
  if (key >= KERNEL_BASE && key < KERNEL_SYMBOL_BASE) return 'a kernel-half address below 0xffff800000000000, where no symbol lies';
  return null;
}

/** True for keys in the kernel half of the address space. */
export function isKernelKey(key: number): boolean {
  return key >= KERNEL_BASE;
}

/** The high 32 bits of the address a key stands for (keyToPaddedHex's first 8 digits), for writers of bytes. */
export function keyHigh32(key: number): number {
  return key >= KERNEL_BASE ? Math.floor((key - KERNEL_BASE) / TWO32) + 0xffff0000 : Math.floor(key / TWO32);
}

/** The low 32 bits of the address a key stands for. */
export function keyLow32(key: number): number {
  const k = key >= KERNEL_BASE ? key - KERNEL_BASE : key;
  return k - Math.floor(k / TWO32) * TWO32;
}
