/**
 * /proc/kallmodsyms (Oracle; never merged): every variant of shared/reference/formats.md §2.
 *
 *   A  (UEK, v1 2019)     addr size type name [TAB "[" mod "]"]
 *   B  (v5–v7 RFC 2021)   addr size type name [TAB "[" m1 "]" *(SP "[" mN "]")]
 *   C  (v9/v10 2022)      addr type name [TAB modlist [SP "{" obj.o "}"] / TAB "{" obj.o "}"]
 *
 * The fields are split on any whitespace (the patch e-mails render TABs as spaces, and names
 * contain none); annotation tokens are the ones in brackets or braces after the name.
 * With-size vs without is decided once per file, from the number of fields before the first
 * annotation (4 vs 3): a one-digit size such as "b" looks like a type letter, so a per-line
 * guess would be wrong.
 */
import { KERNEL_BASE, KERNEL_SYMBOL_BASE, keyFromHexBytes, whyNotSymbolAddress } from '../address.js';
import { KallmodError, type WarnFn } from '../errors.js';
import { tokenize } from './tokens.js';

export interface KallmodsymsData {
  keys: Float64Array;
  /** NaN when the variant has no size column. */
  sizes: Float64Array;
  /** Type letter as a char code. */
  types: Uint8Array;
  names: string[];
  /** Module list per symbol; [] for the core kernel. Arrays are shared and frozen. */
  modules: string[][];
  /** "{x.o}" annotation without braces (a shortest unique path suffix, ".o" kept), or null. */
  objnames: (string | null)[];
  hasSize: boolean;
  /** Every address is zero (read without privilege / kptr_restrict). */
  addressesHidden: boolean;
}

const MAX_WARNINGS = 20;
const MAX_FIELDS = 64;
const NO_MODULES: string[] = Object.freeze([]) as unknown as string[];


function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}


/** Number of leading fields before the first "[...]" / "{...}" annotation (looked for from field 3 on). */
function headCount(buf: Buffer, tok: Int32Array, n: number): number {
  for (let i = 2; i < n; i++) {
    const c = buf[tok[2 * i]!];
    if (c === 91 /* [ */ || c === 123 /* { */) return i;
  }
  return n;
}

export function parseKallmodsyms(data: Buffer, path: string, warn: WarnFn = () => {}): KallmodsymsData {
  const tok = new Int32Array(2 * MAX_FIELDS);

  // Pass 1: decide the variant from the first lines that look like symbols.
  let withSize = 0, withoutSize = 0;
  {
    let pos = 0, seen = 0;
    while (pos < data.length && seen < 200) {
      let le = data.indexOf(10, pos);
      if (le < 0) le = data.length;
      const n = tokenize(data, pos, le, tok);
      pos = le + 1;
      if (n < 3) continue;
      const h = headCount(data, tok, n);
      const t1len = tok[3]! - tok[2]!;
      const t2len = tok[5]! - tok[4]!;
      if (h === 3 && t1len === 1 && isLetter(data[tok[2]!]!)) { withoutSize++; seen++; }
      else if (h === 4 && t2len === 1 && isLetter(data[tok[4]!]!)) { withSize++; seen++; }
    }
  }
  const hasSize = withSize > withoutSize;
  const head = hasSize ? 4 : 3;

  const keys: number[] = [];
  const sizes: number[] = [];
  const types: number[] = [];
  const names: string[] = [];
  const modules: string[][] = [];
  const objnames: (string | null)[] = [];
  const modCache = new Map<string, string[]>();
  const objCache = new Map<string, string>();
  let allZero = true;
  let bad = 0;
  let firstBad: { line: number; message: string } | null = null;

  const reject = (line: number, message: string): void => {
    bad++;
    if (firstBad === null) firstBad = { line, message };
    if (bad <= MAX_WARNINGS) warn({ source: path, message: `line ${line}: ${message}; line skipped` });
  };

  let pos = 0, lineNo = 0;
  while (pos < data.length) {
    let le = data.indexOf(10, pos);
    if (le < 0) le = data.length;
    const ls = pos;
    pos = le + 1;
    lineNo++;
    const n = tokenize(data, ls, le, tok);
    if (n === 0) continue;
    if (n === MAX_FIELDS) { reject(lineNo, 'too many fields'); continue; }
    const h = headCount(data, tok, n);
    if (h !== head) {
      reject(lineNo, `expected ${hasSize ? 'address size type name' : 'address type name'}, found ${h} fields before the annotations`);
      continue;
    }
    const key = keyFromHexBytes(data, tok[0]!, tok[1]!);
    if (Number.isNaN(key) || (key >= KERNEL_BASE && key < KERNEL_SYMBOL_BASE)) {
      const why = whyNotSymbolAddress(key, data.toString('latin1', tok[0]!, tok[1]!));
      reject(lineNo, why === 'not hex' || !why ? 'address is not hex' : `address ${data.toString('latin1', tok[0]!, tok[1]!)}: ${why}`);
      continue;
    }
    let size = NaN;
    if (hasSize) {
      size = keyFromHexBytes(data, tok[2]!, tok[3]!);
      if (Number.isNaN(size)) { reject(lineNo, 'size is not hex'); continue; }
    }
    const ti = hasSize ? 2 : 1;
    const ts = tok[2 * ti]!;
    if (tok[2 * ti + 1]! - ts !== 1 || !isLetter(data[ts]!)) { reject(lineNo, 'type is not one letter'); continue; }
    const ni = ti + 1;

    // Annotations: [mod] ... {obj.o}
    let mods: string[] = NO_MODULES;
    let obj: string | null = null;
    if (n > head) {
      const as = tok[2 * head]!;
      const ae = tok[2 * (n - 1) + 1]!;
      const annot = data.toString('utf8', as, ae);
      const cached = modCache.get(annot);
      let ok = true;
      if (cached !== undefined) {
        mods = cached;
        const b = annot.lastIndexOf('{');
        if (b >= 0) obj = annot.slice(b + 1, -1);
      } else {
        const list: string[] = [];
        for (let i = head; i < n && ok; i++) {
          const s = tok[2 * i]!, e = tok[2 * i + 1]!;
          const open = data[s], close = data[e - 1];
          if (e - s < 3) ok = false;
          else if (open === 91 && close === 93 && obj === null) list.push(data.toString('utf8', s + 1, e - 1));
          else if (open === 123 && close === 125 && obj === null) obj = data.toString('utf8', s + 1, e - 1);
          else ok = false;
        }
        if (ok) {
          mods = list.length === 0 ? NO_MODULES : (Object.freeze(list) as string[]);
          modCache.set(annot, mods);
        }
      }
      if (!ok) { reject(lineNo, `cannot read the annotation "${annot}" (want [module] ... {object.o})`); continue; }
      if (obj !== null) {
        const o = objCache.get(obj);
        if (o === undefined) objCache.set(obj, obj); else obj = o;
      }
    }

    if (key !== 0) allZero = false;
    keys.push(key);
    sizes.push(size);
    types.push(data[ts]!);
    names.push(data.toString('utf8', tok[2 * ni]!, tok[2 * ni + 1]!));
    modules.push(mods);
    objnames.push(obj);
  }

  if (bad > 0 && (keys.length === 0 || bad > keys.length)) {
    const fb = firstBad as unknown as { line: number; message: string };
    throw new KallmodError(`not a /proc/kallmodsyms file: ${fb.message}`, { file: path, line: fb.line });
  }
  if (bad > MAX_WARNINGS) warn({ source: path, message: `${bad - MAX_WARNINGS} more malformed lines skipped` });

  return {
    keys: Float64Array.from(keys),
    sizes: Float64Array.from(sizes),
    types: Uint8Array.from(types),
    names,
    modules,
    objnames,
    hasSize,
    addressesHidden: keys.length > 0 && allZero,
  };
}
