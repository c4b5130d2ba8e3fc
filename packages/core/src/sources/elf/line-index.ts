/**
 * The precompiled line index of one linked DWARF file (a vmlinux), as perf keeps a build-id
 * cache and blazesym a Gsym file: everything `SourceLines.frames` answers from, per compile
 * unit, in typed arrays — the unit ranges, each unit's function ranges (flattened), inline nodes
 * with their names, call sites and ranges, line sequences and rows (rows that cannot be the
 * answer dropped: an earlier row at the same address, a row saying what the one before said),
 * the file table, the unit's strings. Made once from the DWARF by the same code that answers
 * lazily (source-lines.ts `build`, `unitLines`), so both give the same frames; loaded with no DWARF
 * parsing: a header and directory read at open, one positional read per unit when first asked.
 *
 * File: header (128 bytes) | unit blocks | directory. The header names the build-id and the
 * sizes of the file it was made from, the file's own length and the directory's place and CRC-32;
 * each block has its CRC-32 in the directory, checked when it is read.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { crc32Js } from '../../table/snapshot.js';
import { RangeIndex } from './range-index.js';
import type { SourceFrame } from './source-lines.js';

export const LINE_INDEX_MAGIC = 'KMLINES\0';
/** Bump when the layout or what the index answers changes (an older file is then rebuilt). */
export const LINE_INDEX_FORMAT = 2; // 2: discriminators
const HEADER = 128;

type Crc32 = (data: Uint8Array, value?: number) => number;
let zlibCrc: Crc32 | undefined;
function crc32(data: Uint8Array): number {
  zlibCrc ??= (createRequire(import.meta.url)('node:zlib') as { crc32?: Crc32 }).crc32 ?? crc32Js;
  return zlibCrc(data);
}

/** What an index was made from: a file with another identity gets a new index. */
export interface IndexIdentity { buildId: string; fileSize: number; infoSize: number }

/** Why an index file cannot be used: `stale` (another build or format: rebuilt quietly), `damaged` (said, then rebuilt). */
export class LineIndexUnusable extends Error {
  constructor(readonly kind: 'stale' | 'damaged', message: string) { super(message); }
}

/** One unit's answers, as the builder hands them over (and the reader rebuilds them). */
export interface UnitLines {
  /** function ranges flattened: segment → function */
  fnIndex: RangeIndex;
  fnName: Int32Array;
  /** inline nodes of function f: [inlLo[f], inlHi[f]) */
  inlLo: Int32Array;
  inlHi: Int32Array;
  inlName: Int32Array;
  /** call_file as a string (-1: none), call_line, call_column */
  inlFile: Int32Array;
  inlLine: Uint32Array;
  inlColumn: Uint32Array;
  /** parent node relative to the function's first (-1: the function itself) */
  inlParent: Int32Array;
  inlRngLo: Int32Array;
  inlRngHi: Int32Array;
  rngStart: Float64Array;
  rngEnd: Float64Array;
  /** sequences flattened: segment → sequence */
  seqIndex: RangeIndex;
  seqStart: Float64Array;
  seqLo: Uint32Array;
  seqHi: Uint32Array;
  /** row address - its sequence's start */
  rowDelta: Uint32Array;
  rowFile: Uint32Array;
  rowLine: Uint32Array;
  rowColumn: Uint32Array;
  /** file register → string (-1: no name) */
  files: Int32Array;
  /** rows (indices into rowDelta, ascending) with a non-zero discriminator, and its value */
  discRow: Uint32Array;
  discVal: Uint32Array;
  strings: string[];
}

// ---- encoding: typed arrays one after another, each 8-aligned, after a count header ----

type Arr = Int32Array | Uint32Array | Float64Array;

class Packer {
  private parts: Arr[] = [];
  add(a: Arr): void { this.parts.push(a); }
  bytes(strings: Uint8Array): Uint8Array {
    let n = 8 + this.parts.length * 4;
    n = (n + 7) & ~7;
    const offs: number[] = [];
    for (const p of this.parts) { offs.push(n); n += p.byteLength; n = (n + 7) & ~7; }
    const out = new Uint8Array(n + strings.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.parts.length, true);
    dv.setUint32(4, strings.length, true);
    this.parts.forEach((p, i) => {
      dv.setUint32(8 + i * 4, p.length, true);
      out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offs[i]!);
    });
    out.set(strings, n);
    return out;
  }
}

class Unpacker {
  private i = 0;
  private pos: number;
  private readonly n: number;
  private readonly lens: number[] = [];
  readonly strings: Uint8Array;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {
    if (buf.length < 8 || buf.byteOffset % 8) throw new LineIndexUnusable('damaged', `${what}: too short`);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.n = dv.getUint32(0, true);
    const strLen = dv.getUint32(4, true);
    this.pos = (8 + this.n * 4 + 7) & ~7;
    if (this.pos + strLen > buf.length) throw new LineIndexUnusable('damaged', `${what}: bad lengths`);
    for (let k = 0; k < this.n; k++) this.lens.push(dv.getUint32(8 + k * 4, true));
    this.strings = buf.subarray(buf.length - strLen);
  }
  private take<T extends Arr>(C: { new(b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
    if (this.i >= this.n) throw new LineIndexUnusable('damaged', `${this.what}: fewer arrays than expected`);
    const len = this.lens[this.i++]!;
    const bytes = len * C.BYTES_PER_ELEMENT;
    if (this.pos + bytes > this.buf.length - this.strings.length) throw new LineIndexUnusable('damaged', `${this.what}: array past its end`);
    const a = new C(this.buf.buffer, this.buf.byteOffset + this.pos, len);
    this.pos = (this.pos + bytes + 7) & ~7;
    return a;
  }
  i32(): Int32Array { return this.take(Int32Array); }
  u32(): Uint32Array { return this.take(Uint32Array); }
  f64(): Float64Array { return this.take(Float64Array); }
}

function encodeStrings(strings: string[]): Uint8Array {
  const body = Buffer.from(strings.join('\0'), 'utf8');
  const head = new Uint32Array([strings.length]);
  const out = new Uint8Array(4 + body.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(body, 4);
  return out;
}

function decodeStrings(b: Uint8Array, what: string): string[] {
  if (b.length < 4) throw new LineIndexUnusable('damaged', `${what}: no string table`);
  const n = b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  if (n === 0) return [];
  const s = Buffer.from(b.buffer, b.byteOffset + 4, b.length - 4).toString('utf8').split('\0');
  if (s.length !== n) throw new LineIndexUnusable('damaged', `${what}: string table`);
  return s;
}

function encodeRanges(p: Packer, r: RangeIndex): void {
  p.add(r.sec); p.add(r.start); p.add(r.end); p.add(r.value);
}

function decodeRanges(u: Unpacker): RangeIndex {
  const sec = u.i32(), start = u.f64(), end = u.f64(), value = u.i32();
  if (sec.length !== start.length || end.length !== start.length || value.length !== start.length) throw new LineIndexUnusable('damaged', 'range arrays');
  return RangeIndex.fromSegments(sec, start, end, value);
}

export function encodeUnit(x: UnitLines): Uint8Array {
  const p = new Packer();
  encodeRanges(p, x.fnIndex);
  for (const a of [x.fnName, x.inlLo, x.inlHi, x.inlName, x.inlFile, x.inlLine, x.inlColumn, x.inlParent, x.inlRngLo, x.inlRngHi,
    x.rngStart, x.rngEnd]) p.add(a);
  encodeRanges(p, x.seqIndex);
  for (const a of [x.seqStart, x.seqLo, x.seqHi, x.rowDelta, x.rowFile, x.rowLine, x.rowColumn, x.files, x.discRow, x.discVal]) p.add(a);
  return p.bytes(encodeStrings(x.strings));
}

export function decodeUnit(buf: Uint8Array, what: string): UnitLines {
  const u = new Unpacker(buf, what);
  const fnIndex = decodeRanges(u);
  const x: UnitLines = {
    fnIndex, fnName: u.i32(), inlLo: u.i32(), inlHi: u.i32(), inlName: u.i32(), inlFile: u.i32(), inlLine: u.u32(), inlColumn: u.u32(),
    inlParent: u.i32(), inlRngLo: u.i32(), inlRngHi: u.i32(), rngStart: u.f64(), rngEnd: u.f64(),
    seqIndex: decodeRanges(u), seqStart: u.f64(), seqLo: u.u32(), seqHi: u.u32(),
    rowDelta: u.u32(), rowFile: u.u32(), rowLine: u.u32(), rowColumn: u.u32(), files: u.i32(),
    discRow: u.u32(), discVal: u.u32(), strings: decodeStrings(u.strings, what),
  };
  if (x.discVal.length !== x.discRow.length) throw new LineIndexUnusable('damaged', `${what}: discriminator arrays`);
  return x;
}

/** Frames of `addr` in one unit's answers: what SourceLines.framesOf computes from the DWARF. */
export function unitFrames(x: UnitLines, addr: number): SourceFrame[] {
  const str = (i: number): string | null => (i >= 0 ? x.strings[i]! : null);
  let file: string | null = null, line = 0, column = 0, discriminator = 0;
  const s = x.seqIndex.at(-1, addr);
  if (s >= 0) {
    const d = addr - x.seqStart[s]!;
    let a = x.seqLo[s]!, b = x.seqHi[s]! - 1, r = a;
    while (a <= b) { const m = (a + b) >> 1; if (x.rowDelta[m]! <= d) { r = m; a = m + 1; } else b = m - 1; }
    const fi = x.rowFile[r]!;
    file = fi < x.files.length ? str(x.files[fi]!) : null; line = x.rowLine[r]!; column = x.rowColumn[r]!;
    let da = 0, db = x.discRow.length - 1; // sparse: most rows have none
    while (da <= db) {
      const m = (da + db) >> 1, v = x.discRow[m]!;
      if (v === r) { discriminator = x.discVal[m]!; break; }
      if (v < r) da = m + 1; else db = m - 1;
    }
  }
  const f = x.fnIndex.at(-1, addr);
  if (f < 0) return [{ name: null, file, line, column, discriminator }];
  const lo = x.inlLo[f]!, hi = x.inlHi[f]!;
  const chain: number[] = [];
  let parent = -1;
  for (let i = lo; i < hi; i++) {
    if (x.inlParent[i] !== parent) continue;
    for (let k = x.inlRngLo[i]!; k < x.inlRngHi[i]!; k++) {
      if (addr >= x.rngStart[k]! && addr < x.rngEnd[k]!) { chain.push(i); parent = i - lo; break; }
    }
  }
  const out: SourceFrame[] = [];
  for (let k = chain.length - 1; k >= 0; k--) {
    const n = chain[k]!;
    out.push({ name: str(x.inlName[n]!), file, line, column, discriminator });
    file = str(x.inlFile[n]!); line = x.inlLine[n]!; column = x.inlColumn[n]!; discriminator = 0;
  }
  out.push({ name: str(x.fnName[f]!), file, line, column, discriminator });
  return out;
}

// ---- the file ----

/** Writes an index: blocks as they are made, the directory and header at the end, renamed into place. */
export class LineIndexWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private pos = HEADER;
  private readonly offs: number[] = [];
  private readonly lens: number[] = [];
  private readonly crcs: number[] = [];

  constructor(readonly path: string, private readonly id: IndexIdentity) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.tmp = `${path}.${process.pid}.tmp`;
    this.fd = openSync(this.tmp, 'w', 0o600);
  }

  private write(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, this.pos + done);
    this.pos += b.length;
  }

  /** The next unit's block (units in index order). */
  unit(block: Uint8Array): void {
    const pad = (8 - (this.pos % 8)) % 8;
    if (pad) this.write(new Uint8Array(pad));
    this.offs.push(this.pos); this.lens.push(block.length); this.crcs.push(crc32(block));
    this.write(block);
  }

  finish(units: RangeIndex): void {
    const p = new Packer();
    encodeRanges(p, units);
    p.add(Float64Array.from(this.offs)); p.add(Uint32Array.from(this.lens)); p.add(Uint32Array.from(this.crcs));
    const dir = p.bytes(new Uint8Array(0));
    const pad = (8 - (this.pos % 8)) % 8;
    if (pad) this.write(new Uint8Array(pad));
    const dirAt = this.pos;
    this.write(dir);
    const h = Buffer.alloc(HEADER);
    h.write(LINE_INDEX_MAGIC, 0, 'latin1');
    h.writeUInt32LE(LINE_INDEX_FORMAT, 8);
    h.writeUInt32LE(crc32(dir), 12);
    h.writeDoubleLE(this.pos, 16);
    h.writeDoubleLE(this.id.fileSize, 24);
    h.writeDoubleLE(this.id.infoSize, 32);
    h.writeDoubleLE(dirAt, 40);
    h.writeUInt32LE(dir.length, 48);
    h.writeUInt32LE(this.offs.length, 52);
    h.writeUInt8(this.id.buildId.length, 56);
    h.write(this.id.buildId, 57, 'latin1');
    h.writeUInt32LE(crc32(h.subarray(0, 124)), 124);
    this.pos = 0;
    this.write(h);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    try { closeSync(this.fd); } catch { /* closed */ }
    try { unlinkSync(this.tmp); } catch { /* gone */ }
  }
}

/** An index file opened for lookups: its directory read, unit blocks read and checked on first use. */
export class LineIndex {
  private readonly units: RangeIndex;
  private readonly offs: Float64Array;
  private readonly lens: Uint32Array;
  private readonly crcs: Uint32Array;
  private readonly blocks: (UnitLines | undefined)[];
  private fd: number | null;

  private constructor(readonly path: string, fd: number, dir: Unpacker) {
    this.fd = fd;
    this.units = decodeRanges(dir);
    this.offs = dir.f64(); this.lens = dir.u32(); this.crcs = dir.u32();
    if (this.lens.length !== this.offs.length || this.crcs.length !== this.offs.length) throw new LineIndexUnusable('damaged', 'directory');
    for (let k = 0; k < this.units.length; k++) {
      if (this.units.value[k]! >= this.offs.length) throw new LineIndexUnusable('damaged', 'directory names a unit it has not');
    }
    this.blocks = new Array<UnitLines | undefined>(this.offs.length);
  }

  /**
   * Open `path`, made from a file with identity `id`. Throws LineIndexUnusable (stale: another
   * build or format; damaged: truncated, a bad checksum) and ENOENT as it comes.
   */
  static open(path: string, id: IndexIdentity): LineIndex {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const h = Buffer.alloc(HEADER);
      if (readAll(fd, h, 0) < HEADER) throw new LineIndexUnusable('damaged', `truncated (${size} bytes)`);
      if (h.toString('latin1', 0, 8) !== LINE_INDEX_MAGIC) throw new LineIndexUnusable('damaged', 'not a kallmod line index');
      if (h.readUInt32LE(124) !== crc32(h.subarray(0, 124))) throw new LineIndexUnusable('damaged', 'header checksum');
      if (h.readUInt32LE(8) !== LINE_INDEX_FORMAT) throw new LineIndexUnusable('stale', `format ${h.readUInt32LE(8)}`);
      const buildId = h.toString('latin1', 57, 57 + h.readUInt8(56));
      if (buildId !== id.buildId || h.readDoubleLE(24) !== id.fileSize || h.readDoubleLE(32) !== id.infoSize) {
        throw new LineIndexUnusable('stale', `made from another file (build-id ${buildId})`);
      }
      const length = h.readDoubleLE(16);
      if (size !== length) throw new LineIndexUnusable('damaged', `truncated (${size} of ${length} bytes)`);
      const dirAt = h.readDoubleLE(40), dirLen = h.readUInt32LE(48);
      if (dirAt + dirLen > size) throw new LineIndexUnusable('damaged', 'directory past the end');
      const dir = new Uint8Array(new ArrayBuffer(dirLen));
      readAll(fd, dir, dirAt);
      if (crc32(dir) !== h.readUInt32LE(12)) throw new LineIndexUnusable('damaged', 'directory checksum');
      const x = new LineIndex(path, fd, new Unpacker(dir, 'directory'));
      for (let u = 0; u < x.offs.length; u++) if (x.offs[u]! + x.lens[u]! > dirAt) throw new LineIndexUnusable('damaged', 'a unit past its end');
      return x;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Frames of `addr` (a key), innermost first; [] when no unit covers it. Throws LineIndexUnusable on a damaged block. */
  frames(addr: number): SourceFrame[] {
    const u = this.units.at(-1, addr);
    if (u < 0) return [];
    return unitFrames(this.blocks[u] ?? this.block(u), addr);
  }

  private block(u: number): UnitLines {
    if (this.fd === null) throw new Error('line index closed');
    const b = new Uint8Array(new ArrayBuffer(this.lens[u]!));
    readAll(this.fd, b, this.offs[u]!);
    if (crc32(b) !== this.crcs[u]) throw new LineIndexUnusable('damaged', `unit ${u}: checksum`);
    return (this.blocks[u] = decodeUnit(b, `unit ${u}`));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.blocks.fill(undefined);
  }
}

function readAll(fd: number, b: Uint8Array, at: number): number {
  let done = 0;
  while (done < b.length) {
    const n = readSync(fd, b, done, b.length - done, at + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
