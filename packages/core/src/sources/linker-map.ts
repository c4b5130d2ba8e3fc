/**
 * GNU ld linker maps (`vmlinux.map`, `vmlinux.o.map`): object path per address range.
 *
 * shared/reference/formats.md §5 describes the record shapes; §3.4 how the kernel's
 * scripts/generate_builtin_ranges.awk combines the two maps. When the final link took the
 * pre-linked `vmlinux.o` as input, every input-section record of vmlinux.map names
 * `vmlinux.o`, and the per-object detail comes from the map of the `ld -r` that built it:
 * object O's piece of vmlinux.o section S sits at
 *   VMA("S ... vmlinux.o" record in vmlinux.map) + (offset of O's record in vmlinux.o.map's
 *   output section S − that output section's own start).
 * The lookup is by vmlinux.o's *output* section name (what the final link saw as input
 * section), which is exact; the awk script keys by input-section name, which is the same thing
 * for the kernel's `ld -r` script (one input pattern per output section).
 *
 * Parsing works on the Buffer (indexOf(10) per line, byte tokenizer): the 8 MB vmlinux.o.map
 * is mostly symbol lines, which are rejected by their first two bytes.
 */
import { keyFromHexBytes } from '../address.js';
import { KallmodError, type WarnFn } from '../errors.js';
import { isBlank, tokenize } from './tokens.js';

export interface ObjectRange {
  /** Half-open [start, end), link-time address keys. */
  start: number;
  end: number;
  /** Normalised object path relative to the object tree, e.g. "fs/ext4/inode.o". */
  object: string;
  /** Input section the object contributed, e.g. ".text.unlikely". */
  section: string;
}

export interface OutputSection {
  name: string;
  start: number;
  size: number;
}

export interface LinkerMap {
  /** Sorted by start, non-overlapping; every allocated output section (code and data). */
  ranges: ObjectRange[];
  /** Output sections of the final link that have an address (allocated ones). */
  sections: OutputSection[];
}

/** One input-section record with a non-zero size. */
interface InputRecord {
  out: string;
  sec: string;
  start: number;
  size: number;
  object: string;
  line: number;
}

interface ParsedMap {
  path: string;
  /** Basename of the OUTPUT(...) file, when the map names it. */
  output: string | null;
  sections: (OutputSection & { alloc: boolean })[];
  inputs: InputRecord[];
  /** Output section name → its start, for the vmlinux.o map. */
  sectionStart: Map<string, number>;
  /** Output section name → its input records, in map order. */
  byOutput: Map<string, InputRecord[]>;
  namesVmlinuxO: boolean;
  allAtZero: boolean;
}

const MARKER = Buffer.from('Linker script and memory map');
const CREF = Buffer.from('Cross Reference Table');
const LLD_HEADER = /^\s*VMA\s+LMA\s+Size\s+Align\s+Out\s+In\s+Symbol\s*$/;
const MAX_TOKENS = 8;
const MERGEABLE = /\.(str|cst)\d/;
const MAX_WARNINGS = 20;



/** "0x..." token → key; NaN when it is not one. */
function hexToken(buf: Buffer, s: number, e: number): number {
  if (e - s < 3 || buf[s] !== 48 || (buf[s + 1]! | 32) !== 120) return NaN;
  return keyFromHexBytes(buf, s + 2, e);
}

function isHexToken(buf: Buffer, s: number, e: number): boolean {
  return !Number.isNaN(hexToken(buf, s, e));
}

/** Trim trailing blanks of buf[s, e). */
function trimEnd(buf: Buffer, s: number, e: number): number {
  while (e > s && isBlank(buf[e - 1]!)) e--;
  return e;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return (p.startsWith('/') ? '/' : '') + out.join('/');
}

/**
 * Object path as the kernel's object tree names it:
 *   lib/lib.a(sort.o)                        → lib/sort.o
 *   vmlinux.a(arch/x86/kernel/head_64.o)     → arch/x86/kernel/head_64.o   (thin archive)
 *   arch/x86/lib/lib.a(memcpy_64.o)          → arch/x86/lib/memcpy_64.o
 *   ./init/main.o                            → init/main.o
 */
export function normaliseObjectPath(raw: string): string {
  let p = raw;
  if (p.endsWith(')')) {
    const open = p.indexOf('(');
    if (open > 0) {
      const archive = p.slice(0, open);
      const member = p.slice(open + 1, -1);
      const slash = archive.lastIndexOf('/');
      const dir = slash < 0 ? '' : archive.slice(0, slash + 1);
      // Thin archives may store the member by its full tree path: don't prefix it twice.
      p = dir === '' || member.startsWith(dir) || member.startsWith('/') ? member : dir + member;
    }
  }
  return cleanPath(p);
}

function lineNumberAt(buf: Buffer, pos: number): number {
  let n = 1;
  let i = buf.indexOf(10, 0);
  while (i >= 0 && i < pos) {
    n++;
    i = buf.indexOf(10, i + 1);
  }
  return n;
}

function parseOne(path: string, buf: Buffer, warn: WarnFn): ParsedMap {
  const markerAt = buf.indexOf(MARKER);
  if (markerAt < 0) {
    const firstEnd = buf.indexOf(10);
    const first = buf.toString('latin1', 0, Math.min(firstEnd < 0 ? buf.length : firstEnd, 200));
    if (LLD_HEADER.test(first)) {
      throw new KallmodError('LLVM lld linker maps are not supported (GNU ld maps only)', { file: path, line: 1 });
    }
    throw new KallmodError('not a GNU ld linker map (no "Linker script and memory map" line)', { file: path });
  }
  const crefAt = buf.indexOf(CREF, markerAt);
  const end = crefAt < 0 ? buf.length : crefAt;

  const map: ParsedMap = {
    path, output: null, sections: [], inputs: [], sectionStart: new Map(), byOutput: new Map(),
    namesVmlinuxO: false, allAtZero: true,
  };
  const tok = new Int32Array(2 * MAX_TOKENS);
  const tok2 = new Int32Array(2 * MAX_TOKENS);
  const objCache = new Map<string, string>();
  let warnings = 0;
  const bad = (line: number, message: string): void => {
    warnings++;
    if (warnings <= MAX_WARNINGS) warn({ source: path, message: `line ${line}: ${message}` });
  };

  let lineNo = lineNumberAt(buf, markerAt);
  let pos = buf.indexOf(10, markerAt);
  pos = pos < 0 ? end : pos + 1;
  lineNo++;

  let lastSec: string | null = null, lastSecAt = 0;
  let cur: string | null = null; // current output section; null = none or /DISCARD/
  let curRecords: InputRecord[] | null = null;

  while (pos < end) {
    let le = buf.indexOf(10, pos);
    if (le < 0 || le > end) le = end;
    const ls = pos;
    const thisLine = lineNo;
    pos = le + 1;
    lineNo++;
    if (ls === le) continue;
    const c0 = buf[ls]!;

    if (!isBlank(c0)) {
      // Column 0: an output section header or a linker command echo.
      const n = tokenize(buf, ls, le, tok);
      if (n === 0) continue;
      const t0 = buf.toString('latin1', tok[0], tok[1]);
      if (t0 === 'LOAD' || t0 === 'START' || t0 === 'END' || t0 === 'INSERT' || t0.startsWith('TARGET(')) continue;
      if (t0.startsWith('OUTPUT(')) {
        map.output = basename(t0.slice(7).replace(/\)$/, ''));
        continue;
      }
      if (t0 === '/DISCARD/') { cur = null; curRecords = null; continue; }
      let start = NaN, size = NaN, alloc = false;
      if (n >= 3) {
        start = hexToken(buf, tok[2], tok[3]);
        size = hexToken(buf, tok[4], tok[5]);
        alloc = n >= 6; // "load address 0x..."
      } else if (n === 1 && pos < end) {
        // Long name: address and size are on the next line (when the section has any).
        let ne = buf.indexOf(10, pos);
        if (ne < 0 || ne > end) ne = end;
        if (pos < ne && isBlank(buf[pos]!)) {
          const m = tokenize(buf, pos, ne, tok2);
          if (m >= 2 && isHexToken(buf, tok2[0], tok2[1])) {
            start = hexToken(buf, tok2[0], tok2[1]);
            size = hexToken(buf, tok2[2], tok2[3]);
            alloc = m >= 5;
            pos = ne + 1;
            lineNo++;
          }
        }
      }
      cur = t0;
      curRecords = map.byOutput.get(t0) ?? null;
      if (curRecords === null) { curRecords = []; map.byOutput.set(t0, curRecords); }
      if (!Number.isNaN(start) && !Number.isNaN(size)) {
        map.sections.push({ name: t0, start, size, alloc });
        if (!map.sectionStart.has(t0)) map.sectionStart.set(t0, start);
        if (start !== 0) map.allAtZero = false;
      } else if (n >= 3) {
        bad(thisLine, `output section "${t0}": cannot read address/size`);
      }
      continue;
    }

    // Indented. Input-section records start with exactly one space and a section name;
    // symbol, assignment, fill-pattern and relaxation lines are indented further.
    if (c0 !== 32) continue;
    const c1 = buf[ls + 1];
    if (c1 === undefined || isBlank(c1) || c1 === 42 /* '*': *fill*, *(pattern) */) continue;

    let n = tokenize(buf, ls, le, tok);
    let re = le; // end of the line holding address/size/object
    let t = tok;
    let recLine = thisLine;
    if (n === 1) {
      // Wrapped long input-section name: the rest of the record is on the next line.
      if (pos >= end) continue;
      let ne = buf.indexOf(10, pos);
      if (ne < 0 || ne > end) ne = end;
      if (!(pos < ne && isBlank(buf[pos]!) && isBlank(buf[pos + 1] ?? 10))) continue;
      const m = tokenize(buf, pos, ne, tok2);
      if (m < 2 || !isHexToken(buf, tok2[0], tok2[1])) continue;
      // Shift so that tokens 1.. of the joined record are in tok2[0..].
      re = ne; t = tok2; n = m + 1;
      recLine = lineNo;
      pos = ne + 1;
      lineNo++;
    }
    const off = t === tok ? 2 : 0; // index (in t) of the address token's start
    if (n < 3) continue; // a bare name with nothing after it (e.g. an empty KEEP pattern echo)
    const start = hexToken(buf, t[off]!, t[off + 1]!);
    const size = hexToken(buf, t[off + 2]!, t[off + 3]!);
    if (Number.isNaN(start) || Number.isNaN(size)) {
      bad(recLine, 'input section record: cannot read address/size');
      continue;
    }
    if (n < 4) continue; // no object (linker-generated): owner unknown
    if (cur === null || curRecords === null) continue; // /DISCARD/ or before any section
    const objStart = t[off + 4]!;
    const objEnd = trimEnd(buf, objStart, re);
    const rawObj = buf.toString('utf8', objStart, objEnd);
    let object = objCache.get(rawObj);
    if (object === undefined) {
      object = normaliseObjectPath(rawObj);
      objCache.set(rawObj, object);
      if (basename(object) === 'vmlinux.o') map.namesVmlinuxO = true;
    }
    if (size === 0) continue;
    // Consecutive records mostly share their section name: reuse the last string.
    const ss = tok[0]!, se = tok[1]!;
    if (lastSec === null || se - ss !== lastSec.length || buf.compare(buf, lastSecAt, lastSecAt + lastSec.length, ss, se) !== 0) {
      lastSec = buf.toString('latin1', ss, se);
    }
    lastSecAt = ss;
    const rec: InputRecord = { out: cur, sec: lastSec, start, size, object, line: recLine };
    map.inputs.push(rec);
    curRecords.push(rec);
  }
  if (warnings > MAX_WARNINGS) {
    warn({ source: path, message: `${warnings - MAX_WARNINGS} more malformed records skipped` });
  }
  return map;
}

/** Is this the map of the `ld -r` that produced vmlinux.o? */
function isVmlinuxOMap(m: ParsedMap): boolean {
  if (m.output !== null) return m.output === 'vmlinux.o';
  return m.allAtZero && !m.namesVmlinuxO && m.sections.length > 0;
}

/**
 * Parse one or more GNU ld maps. When the final map (vmlinux.map) names "vmlinux.o" as input,
 * the per-object detail comes from the vmlinux.o.map given in the same call (any order: the
 * files are told apart by their OUTPUT(...) line, or else by their addresses).
 */
export function parseLinkerMaps(
  files: { path: string; data: Buffer }[],
  warn: WarnFn = () => {},
): LinkerMap {
  if (files.length === 0) throw new KallmodError('no linker map given');
  const parsed = files.map((f) => parseOne(f.path, f.data, warn));
  const oMaps = parsed.filter(isVmlinuxOMap);
  const finals = parsed.filter((m) => !isVmlinuxOMap(m));
  if (finals.length === 0) {
    throw new KallmodError(
      'this is the map of the relocatable vmlinux.o link (ld -r); give the final vmlinux.map with it',
      { file: oMaps[0]!.path },
    );
  }
  if (finals.length > 1) {
    throw new KallmodError(`several final-link maps given (${finals.map((m) => m.path).join(', ')}); give one vmlinux.map`, {
      file: finals[1]!.path,
    });
  }
  if (oMaps.length > 1) {
    throw new KallmodError(`several vmlinux.o maps given (${oMaps.map((m) => m.path).join(', ')})`, { file: oMaps[1]!.path });
  }
  const fin = finals[0]!;
  const omap = oMaps[0];
  if (omap && !fin.namesVmlinuxO) {
    warn({ source: omap.path, message: `not needed: ${fin.path} does not take vmlinux.o as input; ignored` });
  }

  const allocSections = new Set<string>();
  const sections: OutputSection[] = [];
  for (const s of fin.sections) {
    // Non-allocated sections (.debug_*, .comment) sit at 0 without a load address; empty
    // ones at 0 (.got, .plt) are of no use. The per-CPU section stays: its addresses are
    // offsets, which is also how System.map and kallsyms show per-CPU symbols.
    if (s.start === 0 && (!s.alloc || s.size === 0)) continue;
    allocSections.add(s.name);
    sections.push({ name: s.name, start: s.start, size: s.size });
  }

  const raw: ObjectRange[] = [];
  let unresolved = 0, fromO = 0, foundInO = 0;
  const mismatched: string[] = [];
  for (const r of fin.inputs) {
    if (!allocSections.has(r.out)) continue;
    if (basename(r.object) !== 'vmlinux.o') {
      raw.push({ start: r.start, end: r.start + r.size, object: r.object, section: r.sec });
      continue;
    }
    if (!omap) { unresolved++; continue; }
    fromO++;
    const inner = omap.byOutput.get(r.sec);
    const base = omap.sectionStart.get(r.sec);
    // Sections objtool adds to vmlinux.o after the ld -r (.orc_unwind, .static_call_sites,
    // .retpoline_sites, ...) are not in vmlinux.o.map: they belong to no object.
    if (inner === undefined || base === undefined) continue;
    foundInO++;
    const osize = omap.sections.find((s) => s.name === r.sec)?.size;
    // Mergeable string/constant sections (.rodata.str1.1, .rodata.cst16) shrink in the final
    // link; any other size change means the two maps are not of the same build.
    if (osize !== undefined && osize !== r.size && !(r.size < osize && MERGEABLE.test(r.sec)) && mismatched.length < 5) {
      mismatched.push(`${r.sec} (${fin.path}:${r.line})`);
    }
    const limit = r.start + r.size;
    for (const o of inner) {
      const s = r.start + (o.start - base);
      let e = s + o.size;
      if (s >= limit) break;
      if (e > limit) e = limit;
      raw.push({ start: s, end: e, object: o.object, section: o.sec });
    }
  }
  if (omap && fromO > 0 && foundInO === 0) {
    warn({ source: omap.path, message: `none of the vmlinux.o sections named in ${fin.path} is in this map: maps of different builds?` });
  } else if (mismatched.length > 0) {
    warn({
      source: omap!.path,
      message: `section sizes differ from ${fin.path} for ${mismatched.join(', ')}: maps of different builds? object names may be wrong`,
    });
  }
  if (unresolved > 0) {
    warn({
      source: fin.path,
      message: `${unresolved} input sections come from vmlinux.o but no vmlinux.o.map was given: no object names for them`,
    });
  }

  // Sort (stable: map order breaks ties) and clip: linker maps sometimes over-state sizes
  // (merged .rodata.str1.*), so a range ends at the next one's start at the latest.
  let sorted = true;
  for (let i = 1; i < raw.length && sorted; i++) if (raw[i]!.start < raw[i - 1]!.start) sorted = false;
  if (!sorted) raw.sort((a, b) => a.start - b.start);
  const ranges: ObjectRange[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    const next = raw[i + 1];
    if (next !== undefined && r.end > next.start) r.end = next.start;
    if (r.end > r.start) ranges.push(r);
  }
  return { ranges, sections };
}

/** Index of the range containing key, or -1 (binary search over sorted, disjoint ranges). */
export function findRange(ranges: readonly ObjectRange[], key: number): number {
  let lo = 0, hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = ranges[mid]!;
    if (key < r.start) hi = mid - 1;
    else if (key >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}
