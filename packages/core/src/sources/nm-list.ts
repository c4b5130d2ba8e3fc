import { KERNEL_BASE, KERNEL_SYMBOL_BASE, hex8At, keyFromHexBytes, keyFromParts, whyNotSymbolAddress } from '../address.js';
import { KallmodError, type WarnFn } from '../errors.js';
import { NameStore } from '../table/name-store.js';
import { F_PADDING } from '../table/symbol-table.js';
import { withSyncOsr } from './sync-osr.js';

/**
 * `nm`-style symbol lists: /proc/kallsyms (`addr type name[\t[mod]]`) and System.map
 * (`addr type name`), in one pass with no string per line: this parse is most of the start-up
 * from a raw kallsyms (bench/run.mjs measures it).
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
  /** keys[0, sortedPrefix) ascend (kallsyms: the core kernel; the modules follow unsorted). */
  sortedPrefix: number;
  /** Index of the first symbol with a `[mod]` (length when none has): those before need no module pass. */
  firstWithModule: number;
  /** The table's flag bits the names alone give: F_PADDING for `__pfx_`/`__cfi_` padding (seen as the line is read). */
  flags: Uint8Array;
}

/** Pseudo-modules of kallsyms: dynamic code, not modules. */
export const PSEUDO_MODULES = new Set(['__builtin__ftrace', 'bpf', '__builtin__kprobes']);

const CR = 13, TAB = 9, SP = 32, LBRACKET = 91, RBRACKET = 93, UNDERSCORE = 95;

/** F_PADDING when text[a, e) is a `__pfx_`/`__cfi_` padding name, else 0. */
function paddingFlag(text: string, a: number, e: number): number {
  return e - a >= 6 && (text.startsWith('__pfx_', a) || text.startsWith('__cfi_', a)) ? F_PADDING : 0;
}

/** The parse's growing columns and counters (one object, so the scan loop stays one small function). */
class Columns {
  n = 0;
  keys: Float64Array;
  types: Uint8Array;
  starts: Uint32Array;
  ends: Uint32Array;
  modIds: Int32Array;
  flags: Uint8Array;
  moduleNames: string[] = [];
  modIntern = new Map<string, number>();
  // the last module seen: kallsyms lists a module's symbols together, so most lines compare
  // their module column with it instead of making a string
  lastModName = '';
  lastMod = -1;
  nonzero = false;
  sortedPrefix = -1;
  firstWithModule = -1;
  lineNo = 0;
  skipped = 0;
  firstBad = 0;
  // hex addresses that no kernel symbol can have (garbage, or another architecture's list)
  garbage = 0;
  firstGarbage = '';

  constructor(cap: number) {
    this.keys = new Float64Array(cap);
    this.types = new Uint8Array(cap);
    this.starts = new Uint32Array(cap);
    this.ends = new Uint32Array(cap);
    this.modIds = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
  }

  grow(): void {
    const cap = this.keys.length * 2;
    const k = new Float64Array(cap); k.set(this.keys); this.keys = k;
    const t = new Uint8Array(cap); t.set(this.types); this.types = t;
    const s = new Uint32Array(cap); s.set(this.starts); this.starts = s;
    const e = new Uint32Array(cap); e.set(this.ends); this.ends = e;
    const m = new Int32Array(cap); m.set(this.modIds); this.modIds = m;
    const f = new Uint8Array(cap); f.set(this.flags); this.flags = f;
  }

  /** Module id of text[a, e). */
  moduleId(text: string, a: number, e: number): number {
    const last = this.lastModName;
    if (this.lastMod >= 0 && e - a === last.length && text.startsWith(last, a)) return this.lastMod;
    const raw = text.slice(a, e);
    let id = this.modIntern.get(raw);
    if (id === undefined) { id = this.moduleNames.length; this.moduleNames.push(raw); this.modIntern.set(raw, id); }
    this.lastModName = raw; this.lastMod = id;
    return id;
  }

  /** The module column after the TAB at `tab`, `[mod]`, or -1. */
  moduleAfter(text: string, tab: number, end: number): number {
    if (text.charCodeAt(tab + 1) !== LBRACKET) return -1;
    // bounded: an unclosed bracket must not search on through the rest of the file
    let close = tab + 2;
    while (close < end && text.charCodeAt(close) !== RBRACKET) close++;
    return close < end ? this.moduleId(text, tab + 2, close) : -1;
  }

  add(key: number, type: number, nameStart: number, nameEnd: number, mod: number, flags: number): void {
    const n = this.n;
    if (n === this.keys.length) this.grow();
    if (n > 0 && this.sortedPrefix < 0 && key < this.keys[n - 1]!) this.sortedPrefix = n;
    if (mod >= 0 && this.firstWithModule < 0) this.firstWithModule = n;
    if (key !== 0) this.nonzero = true;
    this.keys[n] = key; this.types[n] = type; this.starts[n] = nameStart; this.ends[n] = nameEnd; this.modIds[n] = mod; this.flags[n] = flags;
    this.n = n + 1;
  }
}

/**
 * The common line, `<16 hex digits> <type> <name>[\t[mod]]\n` with no CR, is read here: line,
 * TAB and CR positions come from indexOf (native scans; the TAB and CR ones once per TAB or
 * CR, not per line), the address from hex8At. Any other line (blank, CRLF, junk, other address
 * widths, an address no symbol can have, an empty name) goes to otherLine, which keeps the
 * rules of the line-at-a-time parser this replaced.
 */
function scan(text: string, bytes: Uint8Array, view: DataView, c: Columns): void {
  const len = text.length;
  let pos = 0, tab = -1, cr = -1;
  while (pos < len) {
    c.lineNo++;
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    // the next TAB and CR at or after pos (len when there is none)
    if (tab < pos) { tab = text.indexOf('\t', pos); if (tab < 0) tab = len; }
    if (cr < pos) { cr = text.indexOf('\r', pos); if (cr < 0) cr = len; }
    const ns = pos + 19;
    const hi = ns < eol && cr >= eol ? hex8At(view, pos) : -1;
    const lo = hi >= 0 ? hex8At(view, pos + 8) : -1;
    const key = lo >= 0 ? keyFromParts(hi, lo) : NaN;
    const type = text.charCodeAt(pos + 17), first = text.charCodeAt(ns);
    // (a TAB as the type or the name's first byte would confuse the TAB pointer: rare enough to leave to otherLine)
    if (!(key < KERNEL_BASE || key >= KERNEL_SYMBOL_BASE) || text.charCodeAt(pos + 16) !== SP || text.charCodeAt(pos + 18) !== SP ||
        type === TAB || first === TAB || first === SP) {
      pos = otherLine(text, bytes, pos, eol, c);
      continue;
    }
    let ne = tab < eol ? tab : eol;
    // names never contain blanks; trailing ones are not part of them
    while (text.charCodeAt(ne - 1) === SP) ne--;
    c.add(key, type, ns, ne, tab < eol ? c.moduleAfter(text, tab, eol) : -1, first === UNDERSCORE ? paddingFlag(text, ns, ne) : 0);
    pos = eol + 1;
  }
}

/** Any line scan does not take [pos, eol): parsed by the general rules, or counted as skipped. Returns the next line's start. */
function otherLine(text: string, bytes: Uint8Array, pos: number, eol: number, c: Columns): number {
  let end = eol;
  if (end > pos && text.charCodeAt(end - 1) === CR) end--;
  if (end === pos) return eol + 1;
  let sp = pos;
  while (sp < end && text.charCodeAt(sp) !== SP) sp++;
  if (sp === end) sp = -1;
  let key = NaN;
  if (sp > pos && sp + 3 < end && text.charCodeAt(sp + 2) === SP) key = keyFromHexBytes(bytes, pos, sp);
  if (Number.isNaN(key) || (key >= KERNEL_BASE && key < KERNEL_SYMBOL_BASE)) {
    const why = sp > pos ? whyNotSymbolAddress(key, text.slice(pos, sp)) : null;
    if (why && why !== 'not hex') {
      if (!c.garbage++) c.firstGarbage = `line ${c.lineNo}: address ${text.slice(pos, sp)}: ${why}`;
    } else {
      c.skipped++;
      if (!c.firstBad) c.firstBad = c.lineNo;
    }
    return eol + 1;
  }
  const ns = sp + 3;
  let tab = ns;
  while (tab < end && text.charCodeAt(tab) !== TAB) tab++;
  let ne = tab;
  while (ne > ns && text.charCodeAt(ne - 1) === SP) ne--;
  c.add(key, text.charCodeAt(sp + 1), ns, ne, tab < end ? c.moduleAfter(text, tab, end) : -1, paddingFlag(text, ns, ne));
  return eol + 1;
}

export function parseNmList(data: Buffer, path: string, warn?: WarnFn): NmList {
  // ~44 bytes a line in a real kallsyms: one growth at most for most files
  const c = new Columns((data.length >> 5) + 16);
  // one latin1 string for the whole file (latin1: byte offset = index): indexOf scans it
  // natively, and names are slices of it, made only when asked for
  const text = data.toString('latin1');
  withSyncOsr(() => scan(text, data, new DataView(data.buffer, data.byteOffset, data.length), c));
  const n = c.n;
  if (n === 0) throw new KallmodError(`no symbols found (not a kallsyms/System.map file?)`, { file: path, line: c.firstBad || undefined });
  if (c.skipped && warn) warn({ source: path, message: `${c.skipped} malformed line(s) skipped, first at line ${c.firstBad}` });
  if (c.garbage && warn) warn({ source: path, message: `${c.firstGarbage}; ${c.garbage} line(s) with an address no kernel symbol can have skipped` });
  return {
    path, keys: c.keys.subarray(0, n), types: c.types.subarray(0, n),
    names: NameStore.ofText(text, c.starts.subarray(0, n), c.ends.subarray(0, n)),
    moduleIds: c.modIds.subarray(0, n), moduleNames: c.moduleNames, addressesHidden: !c.nonzero, skipped: c.skipped,
    sortedPrefix: c.sortedPrefix < 0 ? n : c.sortedPrefix, firstWithModule: c.firstWithModule < 0 ? n : c.firstWithModule,
    flags: c.flags.subarray(0, n),
  };
}
