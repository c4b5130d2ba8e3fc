/**
 * The shape of one printed kernel frame, found on bytes:
 *   ADDR                       (-F ip)
 *   ADDR NAME                  (-F ip,sym)
 *   ADDR NAME+0xOFF (DSO)      (default; DSO any kernel spelling, or "inlined")
 *   ADDR [unknown] (DSO)
 * ADDR is 16 hex digits starting "ffff" (the kernel half): that alone marks the frame as a
 * kernel one, whatever DSO spelling follows ([kernel.kallsyms], [guest.kernel.kallsyms],
 * vmlinux paths, [mod], *.ko, [unknown]); [vsyscall] is the one kernel-half user mapping.
 */
import { hexValue, keyFromParts, keyFromHexBytes } from '@kallmod/core/address';

export const NAMED = 0, UNKNOWN = 1, BARE = 2;

export interface Frame {
  key: number;
  addrStart: number;
  kind: number;
  nameStart: number;
  nameEnd: number;
  /** After the symbol token (name+offset). */
  tokenEnd: number;
  /** Printed offset (see frameOffset), -1 when none or not parsed yet. */
  offset: number;
  dsoStart: number;
  dsoEnd: number;
  inlined: boolean;
}

export function newFrame(): Frame {
  return { key: 0, addrStart: 0, kind: BARE, nameStart: 0, nameEnd: 0, tokenEnd: 0, offset: -1, dsoStart: 0, dsoEnd: 0, inlined: false };
}

/** Does a kernel address (16 hex digits, "ffff" first) start at p, ending at a space or `end`? */
export function isKernelAddrAt(buf: Uint8Array, p: number, end: number): boolean {
  return p + 16 <= end && buf[p] === 102 && buf[p + 1] === 102 && buf[p + 2] === 102 && buf[p + 3] === 102 &&
    (p + 16 === end || buf[p + 16] === 32);
}

const VSYSCALL = Buffer.from('[vsyscall]');

/**
 * Parse the frame whose kernel address starts at p (see isKernelAddrAt) up to `end`.
 * `strict`: the symbol token must be followed by " (DSO)" ending the line or nothing (header
 * lines, where other fields may follow an address). False when it is not a frame after all.
 */
export function parseFrame(buf: Uint8Array, p: number, end: number, f: Frame, strict: boolean): boolean {
  const key = keyFromHexBytes(buf, p, p + 16);
  if (key !== key) return false; // NaN: not hex
  f.key = key; f.addrStart = p; f.offset = -1; f.inlined = false; f.dsoStart = f.dsoEnd = 0;
  const s = p + 17;
  if (s >= end) { f.kind = BARE; f.nameStart = f.nameEnd = f.tokenEnd = p + 16; return true; }
  if (buf[s] === 40 && buf[end - 1] === 41) {
    // "ADDR (DSO)" (-F ip,dso: no symbol printed): a bare address with its dso
    f.kind = BARE; f.nameStart = f.nameEnd = f.tokenEnd = p + 16; f.dsoStart = s + 1; f.dsoEnd = end - 1;
    return !sameBytes(buf, f.dsoStart, f.dsoEnd, VSYSCALL);
  }
  // the symbol token: up to the next space; the offset after its last '+'
  let t = s, plus = -1;
  for (; t < end; t++) {
    const c = buf[t]!;
    if (c === 32) break;
    if (c === 43) plus = t;
  }
  f.tokenEnd = t;
  if (t < end) {
    // " (DSO)" must close the line
    if (buf[t + 1] !== 40 || buf[end - 1] !== 41) { if (strict) return bareAt(f, p); }
    else { f.dsoStart = t + 2; f.dsoEnd = end - 1; }
  }
  if (f.dsoEnd > f.dsoStart && sameBytes(buf, f.dsoStart, f.dsoEnd, VSYSCALL)) return false;
  if (t - s === 9 && buf[s] === 91 && buf[s + 8] === 93 && buf[s + 1] === 117) { // [unknown]
    f.kind = UNKNOWN; f.nameStart = s; f.nameEnd = t; return true;
  }
  f.kind = NAMED; f.nameStart = s;
  // "+0x": the offset itself is parsed only when needed (frameOffset): the text path never is
  f.nameEnd = plus > s && buf[plus + 1] === 48 && buf[plus + 2] === 120 && plus + 3 < t ? plus : t;
  f.inlined = f.dsoEnd - f.dsoStart === 7 && buf[f.dsoStart] === 105 && buf[f.dsoStart + 1] === 110 && buf[f.dsoStart + 2] === 108; // "inlined"
  return true;
}

function bareAt(f: Frame, p: number): boolean {
  f.kind = BARE; f.nameStart = f.nameEnd = f.tokenEnd = p + 16; f.dsoStart = f.dsoEnd = 0;
  return true;
}

export function sameBytes(buf: Uint8Array, start: number, end: number, b: Uint8Array): boolean {
  if (end - start !== b.length) return false;
  for (let k = 0; k < b.length; k++) if (buf[start + k] !== b[k]) return false;
  return true;
}

/** The printed `+0x` offset of a named frame, or -1 (also stored in f.offset). */
export function frameOffset(buf: Uint8Array, f: Frame): number {
  if (f.kind !== NAMED || f.nameEnd >= f.tokenEnd) return (f.offset = -1);
  let off = 0;
  for (let k = f.nameEnd + 3; k < f.tokenEnd; k++) {
    const c = buf[k]!;
    const v = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
    if (v < 0) return (f.offset = -1);
    off = off * 16 + v;
  }
  return (f.offset = off);
}

/** Key of the 16 hex digits at p (NaN if one is not hex): keyFromHexBytes unrolled for the hot loop. */
export function hex16(buf: Uint8Array, p: number): number {
  let hi = 0, lo = 0, bad = 0;
  for (let k = 0; k < 8; k++) { const v = hexValue[buf[p + k]!]!; bad |= v; hi = hi * 16 + v; }
  for (let k = 8; k < 16; k++) { const v = hexValue[buf[p + k]!]!; bad |= v; lo = lo * 16 + v; }
  return bad < 0 ? NaN : keyFromParts(hi, lo);
}

/** The low 16 bits of the address whose 16 hex digits are at p (a memo hash). */
export function hex16Low(buf: Uint8Array, p: number): number {
  return (hexValue[buf[p + 12]!]! << 12) | (hexValue[buf[p + 13]!]! << 8) | (hexValue[buf[p + 14]!]! << 4) | hexValue[buf[p + 15]!]!;
}
