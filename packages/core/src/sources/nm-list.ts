import { KERNEL_BASE, KERNEL_SYMBOL_BASE, keyFromHexBytes, whyNotSymbolAddress } from '../address.js';
import { KallmodError, type WarnFn } from '../errors.js';
import { NameStore } from '../table/name-store.js';

/**
 * `nm`-style symbol lists: /proc/kallsyms (`addr type name[\t[mod]]`) and System.map
 * (`addr type name`). Scanned as bytes: 160k lines parse in a few ms, well inside the
 * start-up budget.
 */
export interface NmList {
  path: string;
  keys: Float64Array;
  types: Uint8Array;
  names: NameStore;
  /** kallsyms `[mod]` suffix (loadable or pseudo-module): index into moduleNames, -1 for the core kernel. */
  moduleIds: Int32Array;
  moduleNames: string[];
  /** Every address was zero: kptr_restrict hid them. Names and modules are still valid. */
  addressesHidden: boolean;
  /** Lines skipped as malformed. */
  skipped: number;
}

/** Pseudo-modules of kallsyms: dynamic code, not modules. */
export const PSEUDO_MODULES = new Set(['__builtin__ftrace', 'bpf', '__builtin__kprobes']);

export function parseNmList(data: Buffer, path: string, warn?: WarnFn): NmList {
  // one latin1 string for the whole file: string indexOf avoids a native call per line, and
  // names become cheap slices instead of 160k separate decodes (latin1: byte offset = index)
  const text = data.toString('latin1');
  let cap = (data.length >> 5) + 16;
  let keys = new Float64Array(cap);
  let types = new Uint8Array(cap);
  let starts = new Uint32Array(cap), ends = new Uint32Array(cap), modIds = new Int32Array(cap);
  const moduleNames: string[] = [];
  const modIntern = new Map<string, number>();
  let n = 0, skipped = 0, nonzero = false, lineNo = 0, firstBad = 0;
  // hex addresses that no kernel symbol can have (garbage, or another architecture's list)
  let garbage = 0, firstGarbage = '';
  const len = text.length;
  let pos = 0;
  while (pos < len) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    lineNo++;
    let end = eol;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    if (end === pos) { pos = eol + 1; continue; }
    const sp = text.indexOf(' ', pos);
    let key = NaN;
    if (sp > pos && sp + 3 < end && text.charCodeAt(sp + 2) === 32) key = keyFromHexBytes(data, pos, sp);
    if (Number.isNaN(key) || (key >= KERNEL_BASE && key < KERNEL_SYMBOL_BASE)) {
      const why = sp > pos && sp < end ? whyNotSymbolAddress(key, text.slice(pos, sp)) : null;
      if (why && why !== 'not hex') {
        if (!garbage++) firstGarbage = `line ${lineNo}: address ${text.slice(pos, sp)}: ${why}`;
        pos = eol + 1;
        continue;
      }
      skipped++;
      if (!firstBad) firstBad = lineNo;
      pos = eol + 1;
      continue;
    }
    if (n === cap) {
      cap *= 2;
      const k2 = new Float64Array(cap); k2.set(keys); keys = k2;
      const t2 = new Uint8Array(cap); t2.set(types); types = t2;
      const s2 = new Uint32Array(cap); s2.set(starts); starts = s2;
      const e2 = new Uint32Array(cap); e2.set(ends); ends = e2;
      const m2 = new Int32Array(cap); m2.set(modIds); modIds = m2;
    }
    const nameStart = sp + 3;
    // bounded scan: indexOf would run on to the far-away module lines
    let tab = -1;
    for (let q = nameStart; q < end; q++) if (text.charCodeAt(q) === 9) { tab = q; break; }
    let ne = tab < 0 ? end : tab;
    // names never contain blanks; trailing ones are not part of them
    while (ne > nameStart && text.charCodeAt(ne - 1) === 32) ne--;
    keys[n] = key;
    if (key !== 0) nonzero = true;
    types[n] = data[sp + 1]!;
    starts[n] = nameStart;
    ends[n] = ne;
    let mod = -1;
    if (tab >= 0 && text.charCodeAt(tab + 1) === 91) {
      const close = text.indexOf(']', tab + 2);
      if (close > 0 && close <= end) {
        const raw = text.slice(tab + 2, close);
        mod = modIntern.get(raw) ?? -1;
        if (mod < 0) { mod = moduleNames.length; moduleNames.push(raw); modIntern.set(raw, mod); }
      }
    }
    modIds[n] = mod;
    n++;
    pos = eol + 1;
  }
  if (n === 0) throw new KallmodError(`no symbols found (not a kallsyms/System.map file?)`, { file: path, line: firstBad || undefined });
  if (skipped && warn) warn({ source: path, message: `${skipped} malformed line(s) skipped, first at line ${firstBad}` });
  if (garbage && warn) warn({ source: path, message: `${firstGarbage}; ${garbage} line(s) with an address no kernel symbol can have skipped` });
  return {
    path, keys: keys.subarray(0, n), types: types.subarray(0, n),
    names: NameStore.ofText(text, starts.subarray(0, n), ends.subarray(0, n)),
    moduleIds: modIds.subarray(0, n), moduleNames, addressesHidden: !nonzero, skipped,
  };
}
