import { keyFromHexBytes } from '../address.js';
import { KallmodError, type WarnFn } from '../errors.js';

/**
 * `nm`-style symbol lists: /proc/kallsyms (`addr type name[\t[mod]]`) and System.map
 * (`addr type name`). Scanned as bytes: 160k lines parse in a few ms, well inside the
 * start-up budget.
 */
export interface NmList {
  path: string;
  keys: Float64Array;
  types: Uint8Array;
  names: string[];
  /** kallsyms `[mod]` suffix (loadable or pseudo-module), null for the core kernel. */
  modules: (string | null)[];
  /** Every address was zero: kptr_restrict hid them. Names and modules are still valid. */
  addressesHidden: boolean;
  /** Lines skipped as malformed. */
  skipped: number;
}

/** Pseudo-modules of kallsyms: dynamic code, not modules. */
export const PSEUDO_MODULES = new Set(['__builtin__ftrace', 'bpf', '__builtin__kprobes']);

export function parseNmList(data: Buffer, path: string, warn?: WarnFn): NmList {
  // upper bound of the line count, to size the typed arrays once
  let cap = 1;
  for (let p = data.indexOf(10); p >= 0; p = data.indexOf(10, p + 1)) cap++;
  const keys = new Float64Array(cap);
  const types = new Uint8Array(cap);
  const names: string[] = [];
  const modules: (string | null)[] = [];
  const modIntern = new Map<string, string>();
  let n = 0, skipped = 0, nonzero = false, lineNo = 0;
  let firstBad = 0;
  const len = data.length;
  let pos = 0;
  while (pos < len) {
    let eol = data.indexOf(10, pos);
    if (eol < 0) eol = len;
    lineNo++;
    let end = eol;
    if (end > pos && data[end - 1] === 13) end--;
    let sp = -1;
    for (let q = pos; q < end && q < pos + 20; q++) if (data[q] === 32) { sp = q; break; }
    if (end === pos) { pos = eol + 1; continue; }
    let ok = sp > pos && sp + 3 < end + 1 && data[sp + 2] === 32 && sp + 3 < end;
    let key = NaN;
    if (ok) { key = keyFromHexBytes(data, pos, sp); ok = !Number.isNaN(key); }
    if (!ok) {
      skipped++;
      if (!firstBad) firstBad = lineNo;
      pos = eol + 1;
      continue;
    }
    const nameStart = sp + 3;
    // bounded scan: indexOf would run on to the next module line, far away
    let tab = -1;
    for (let q = nameStart; q < end; q++) if (data[q] === 9) { tab = q; break; }
    const nameEnd = tab < 0 ? end : tab;
    // System.map/kallsyms names never contain spaces; trailing blanks are not part of them
    let ne = nameEnd;
    while (ne > nameStart && data[ne - 1] === 32) ne--;
    keys[n] = key;
    if (key !== 0) nonzero = true;
    types[n] = data[sp + 1]!;
    names.push(data.toString('latin1', nameStart, ne));
    let mod: string | null = null;
    if (tab >= 0 && data[tab + 1] === 91) {
      const close = data.indexOf(93, tab + 2);
      if (close > 0 && close <= end) {
        const raw = data.toString('latin1', tab + 2, close);
        mod = modIntern.get(raw) ?? (modIntern.set(raw, raw), raw);
      }
    }
    modules.push(mod);
    n++;
    pos = eol + 1;
  }
  if (n === 0) throw new KallmodError(`no symbols found (not a kallsyms/System.map file?)`, { file: path, line: firstBad || undefined });
  if (skipped && warn) warn({ source: path, message: `${skipped} malformed line(s) skipped, first at line ${firstBad}` });
  return { path, keys: keys.subarray(0, n), types: types.subarray(0, n), names, modules, addressesHidden: !nonzero, skipped };
}
