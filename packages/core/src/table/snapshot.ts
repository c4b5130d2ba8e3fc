/**
 * Portable snapshot: the merged table as raw typed arrays (loads in a few ms: no parsing),
 * plus the source files it was built from (gzip'd), so a newer kallmod whose table layout
 * changed can rebuild it. The same encoding carries the table to worker threads.
 *
 * Layout: "KALLMOD\0" | u32 LE header length | header JSON | u32 LE CRC-32 of everything
 * before it | pad to 8 | blobs. Each blob is named in header.blobs with its byte offset
 * (relative to the blob area) and length.
 *
 * A damaged file must not load: one flipped byte in a key array moves a symbol, and it
 * answered wrongly in silence. So the header records the file's length and a CRC-32 per block
 * of the table part (the blobs before the embedded source files; those have one CRC each,
 * checked when they are read): the readers check every block they read, the parallel reader
 * each slice as it arrives. CRC-32 is zlib's (native, ~3.5 GB/s: ~4 ms for the 13 MB of a
 * 6.12 kernel, partly while the other slices are still being read).
 */
import { closeSync, fstatSync, openSync, read, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KallmodError } from '../errors.js';
import { SymbolTable, type TableData } from './symbol-table.js';
import { NameStore } from './name-store.js';

export const SNAPSHOT_MAGIC = 'KALLMOD\0';
/** Bump when TableData's layout or meaning changes. 3: checksums (header CRC, per-block CRCs, file length). */
export const TABLE_FORMAT = 3;

export interface SnapshotMeta {
  format: number;
  kallmodVersion: string;
  created: string;
  host?: string;
  release?: string;
  version?: string;
  sources: { role: string; path: string }[];
  warnings: { source: string; message: string }[];
  /** Informational notes (a source the kernel does not have), shown by `sources`, not on every load. */
  notes?: { source: string; message: string }[];
  /** A running kernel's capture: its GNU build-id and its loaded modules' (DWARF beside --snapshot is checked against them). */
  buildIds?: { kernel: string | null; modules: Record<string, string> };
}

interface BlobRef {
  name: string; offset: number; length: number; kind: 'f64' | 'u32' | 'i32' | 'u8' | 'strings' | 'file';
  /** kind 'file': CRC-32 of its bytes. */
  crc?: number;
}
interface Header {
  meta: SnapshotMeta; blobs: BlobRef[]; counts: { n: number };
  /** With the 'addressStarts' blob: the table's address index (absent in older snapshots). */
  addressIndex?: { base: number; width: number };
  /** TableData.addressesAsLinked (absent: false, as in older snapshots). */
  addressesAsLinked?: boolean;
  /** Length of the whole file; CRC-32 of each `block` bytes of the table part (from the blob area's start). */
  check: { length: number; block: number; crcs: number[] };
}

type Crc32 = (data: Uint8Array, value?: number) => number;
/** zlib's crc32 (node >= 20.15), loaded on first use: annotating from raw sources never needs it. */
let zlibCrc: Crc32 | undefined;
function crc32(data: Uint8Array): number {
  zlibCrc ??= (createRequire(import.meta.url)('node:zlib') as { crc32?: Crc32 }).crc32 ?? crc32Js;
  return zlibCrc(data);
}

let crcTable: Int32Array | undefined;
/** The same CRC-32 for node < 20.15 (no zlib.crc32): slower (~0.5 GB/s), same answers. */
export function crc32Js(data: Uint8Array): number {
  const t = (crcTable ??= Int32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  }));
  let c = -1;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Block size of the table part's CRCs: about 16 blocks (the parallel reader's slices are groups of them), page-aligned. */
function checkBlock(tableLength: number): number {
  return Math.max(65536, Math.ceil(tableLength / 16 / 4096) * 4096);
}

function damaged(path: string, what: string): KallmodError {
  return new KallmodError(`damaged snapshot: ${what}; copy it again, or take a new one with \`kallmod capture\``, { file: path });
}

/** Check the CRCs of table blocks [from, to) in buf, whose blob area starts at `start` and table part ends at `end`. */
function checkBlocks(buf: Uint8Array, start: number, end: number, c: Header['check'], from: number, to: number, path: string): void {
  for (let k = from; k < to; k++) {
    const a = start + k * c.block, e = Math.min(end, a + c.block);
    if (crc32(buf.subarray(a, e)) !== c.crcs[k]) throw damaged(path, `checksum mismatch in bytes ${a}-${e}`);
  }
}

type ArrayField = 'keys' | 'ksizes' | 'exactSizes' | 'types' | 'modSetIds' | 'objIds' | 'flags' | 'modSrc' | 'objSrc';
const ARRAYS: [ArrayField, BlobRef['kind']][] = [
  ['keys', 'f64'], ['ksizes', 'f64'], ['exactSizes', 'f64'], ['types', 'u8'],
  ['modSetIds', 'u32'], ['objIds', 'i32'], ['flags', 'u8'], ['modSrc', 'u8'], ['objSrc', 'u8'],
];

function pad8(n: number): number { return (n + 7) & ~7; }

/**
 * Encode a table, with its by-name and address indexes (loading then builds nothing), and
 * optionally source files, into one Buffer; `shared`: over a SharedArrayBuffer (worker threads).
 */
export function encodeTable(table: SymbolTable, meta: SnapshotMeta, files: { role: string; path: string; data: Buffer }[] = [], shared = false): Buffer {
  const d = table.d;
  const parts: { ref: BlobRef; data: Uint8Array }[] = [];
  let off = 0;
  const add = (name: string, kind: BlobRef['kind'], data: Uint8Array) => {
    parts.push({ ref: { name, offset: off, length: data.byteLength, kind }, data });
    off = pad8(off + data.byteLength);
  };
  for (const [f, kind] of ARRAYS) {
    const a = d[f];
    // an all-zero array (no exact sizes, no objnames...) is stored empty and allocated on load
    const zero = a.every((x: number) => x === 0);
    add(f, kind, zero ? new Uint8Array(0) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  const ix = table.index();
  add('nameHeads', 'i32', new Uint8Array(ix.heads.buffer, ix.heads.byteOffset, ix.heads.byteLength));
  add('nameNext', 'i32', new Uint8Array(ix.next.buffer, ix.next.byteOffset, ix.next.byteLength));
  const ax = table.addressIndex();
  add('addressStarts', 'i32', new Uint8Array(ax.starts.buffer, ax.starts.byteOffset, ax.starts.byteLength));
  const nm = d.names.compact();
  add('nameEnds', 'u32', new Uint8Array(nm.ends.buffer, nm.ends.byteOffset, nm.ends.byteLength));
  add('names', 'strings', nm.bytes);
  add('objnames', 'strings', Buffer.from(d.objnames.join('\n'), 'utf8'));
  add('modSets', 'strings', Buffer.from(d.modSets.map((s) => s.join(' ')).join('\n'), 'utf8'));
  add('provenance', 'strings', Buffer.from(d.provenance.join('\n'), 'utf8'));
  // the table part ends with its last blob (tableEndOf), not with the padding after it
  const tableLength = Math.max(0, ...parts.map((p) => p.ref.offset + p.ref.length));
  // zlib's gzip only when writing files in (capture)
  const gzip = files.length ? (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).gzipSync : null;
  for (const f of files) {
    const z = gzip!(f.data, { level: 6 });
    add(`file:${f.role}:${f.path}`, 'file', z);
    parts[parts.length - 1]!.ref.crc = crc32(z);
  }
  // the blob area first: its CRCs go into the header, which comes before it
  const area = Buffer.alloc(off);
  for (const p of parts) area.set(p.data, p.ref.offset);
  const block = checkBlock(tableLength);
  const crcs: number[] = [];
  for (let a = 0; a < tableLength; a += block) crcs.push(crc32(area.subarray(a, Math.min(tableLength, a + block))));
  const header: Header = {
    meta, blobs: parts.map((p) => p.ref), counts: { n: d.keys.length }, addressIndex: { base: ax.base, width: ax.width },
    ...(d.addressesAsLinked ? { addressesAsLinked: true } : {}),
    check: { length: 0, block, crcs },
  };
  // the header holds the file's length, which depends on the header's: it settles in two rounds
  let hjson = Buffer.alloc(0);
  for (let round = 0; round < 4; round++) {
    hjson = Buffer.from(JSON.stringify(header), 'utf8');
    const total = pad8(12 + hjson.length + 4) + off;
    if (header.check.length === total) break;
    header.check.length = total;
  }
  const start = pad8(12 + hjson.length + 4);
  const out = shared ? Buffer.from(new SharedArrayBuffer(start + off)) : Buffer.alloc(start + off);
  out.write(SNAPSHOT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(hjson.length, 8);
  hjson.copy(out, 12);
  out.writeUInt32LE(crc32(out.subarray(0, 12 + hjson.length)), 12 + hjson.length);
  area.copy(out, start);
  return out;
}

/**
 * Parse and check the header from a file's first bytes (`b` holds at least its 12 + header
 * length + 4): magic, format (older and newer snapshots are refused as such), header CRC.
 */
function parseHeader(b: Buffer, path: string): { header: Header; start: number } {
  if (b.length < 12 || b.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) throw new KallmodError('not a kallmod snapshot (bad magic)', { file: path });
  const hlen = b.readUInt32LE(8);
  if (12 + hlen + 4 > b.length) throw new KallmodError(`truncated snapshot (${b.length} bytes, less than its header)`, { file: path });
  let header: Header | null = null;
  try { header = JSON.parse(b.toString('utf8', 12, 12 + hlen)) as Header; } catch { /* damaged, or never JSON: the CRC tells */ }
  const format = header && typeof header === 'object' && header.meta ? header.meta.format : undefined;
  if (typeof format === 'number' && format !== TABLE_FORMAT) {
    const by = format < TABLE_FORMAT ? 'an older kallmod' : 'a newer kallmod';
    throw new KallmodError(`snapshot table format ${format} (made by ${by}), this kallmod reads ${TABLE_FORMAT}: take it again with \`kallmod capture\``,
      { file: path });
  }
  if (crc32(b.subarray(0, 12 + hlen)) !== b.readUInt32LE(12 + hlen)) throw damaged(path, 'header checksum mismatch');
  if (!header || typeof header !== 'object' || !header.meta || !Array.isArray(header.blobs) || typeof header.counts?.n !== 'number' ||
      !header.check || !Array.isArray(header.check.crcs) || !(header.check.block > 0)) {
    throw new KallmodError('corrupt snapshot header', { file: path });
  }
  return { header, start: pad8(12 + hlen + 4) };
}

/** Where the table part ends (from the file's start): the embedded source files come after it. */
function tableEndOf(header: Header, start: number): number {
  return start + Math.max(0, ...header.blobs.filter((r) => r.kind !== 'file').map((r) => r.offset + r.length));
}

/** Buffers the readers below have checked (decodeTable need not check them again). */
const checkedBuffers = new WeakSet<Uint8Array>();

function splitStrings(b: Buffer): string[] {
  return b.length === 0 ? [] : b.toString('utf8').split('\n');
}

/**
 * Decode; typed arrays are views on `buf` when aligned (no copy). Every checksum is checked
 * (damage is a KallmodError naming `path`) unless a reader below already did, or `trusted` says the
 * bytes never left this process (the worker pool's copy of the table: ~4 ms of CRC per worker saved).
 */
export function decodeTable(
  buf: Uint8Array, path = '(snapshot)', opt: { withFiles?: boolean; trusted?: boolean } = {},
): { data: TableData; meta: SnapshotMeta; files: { role: string; path: string; data: Buffer }[] } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { header, start } = parseHeader(b, path);
  const end = tableEndOf(header, start);
  const truncated = () => new KallmodError(`truncated snapshot (${b.length} of ${header.check.length} bytes)`, { file: path });
  if (end > b.length) throw truncated();
  if (!opt.trusted && !checkedBuffers.has(buf)) checkBlocks(b, start, end, header.check, 0, header.check.crcs.length, path);
  const blob = (r: BlobRef): Buffer => {
    if (start + r.offset + r.length > b.length) throw truncated();
    const x = b.subarray(start + r.offset, start + r.offset + r.length);
    if (r.kind === 'file' && crc32(x) !== r.crc) throw damaged(path, `checksum mismatch in its copy of ${r.name.slice(5)}`);
    return x;
  };
  const byName = new Map(header.blobs.map((r) => [r.name, r]));
  const get = (name: string) => { const r = byName.get(name); if (!r) throw new KallmodError(`snapshot lacks ${name}`, { file: path }); return blob(r); };
  const n = header.counts.n;
  const view = (name: string, kind: BlobRef['kind']) => {
    const x = get(name);
    if (x.length === 0 && n > 0 && name !== 'nameEnds') {
      switch (kind) {
        case 'f64': return new Float64Array(n);
        case 'u32': return new Uint32Array(n);
        case 'i32': return new Int32Array(n);
        default: return new Uint8Array(n);
      }
    }
    const aligned = (x.byteOffset & 7) === 0;
    const src = aligned ? x : Buffer.from(x);
    switch (kind) {
      case 'f64': return new Float64Array(src.buffer, src.byteOffset, src.byteLength / 8);
      case 'u32': return new Uint32Array(src.buffer, src.byteOffset, src.byteLength / 4);
      case 'i32': return new Int32Array(src.buffer, src.byteOffset, src.byteLength / 4);
      default: return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    }
  };
  const arrays = Object.fromEntries(ARRAYS.map(([f, k]) => [f, view(f, k)])) as unknown as Pick<TableData, ArrayField>;
  for (const [f] of ARRAYS) {
    if (arrays[f].length !== n) throw new KallmodError(`corrupt snapshot: ${f} has ${arrays[f].length} entries, ${n} expected`, { file: path });
  }
  const data: TableData = {
    ...arrays,
    names: NameStore.fromCompact(get('names'), view('nameEnds', 'u32') as Uint32Array),
    objnames: splitStrings(get('objnames')),
    modSets: splitStrings(get('modSets')).map((s) => (s === '' ? [] : s.split(' '))),
    provenance: splitStrings(get('provenance')),
  };
  if (data.modSets.length === 0) data.modSets.push([]);
  if (header.addressesAsLinked === true) data.addressesAsLinked = true;
  if (byName.has('nameHeads') && byName.has('nameNext')) {
    data.nameIndex = { heads: view('nameHeads', 'i32') as Int32Array, next: view('nameNext', 'i32') as Int32Array };
  }
  const ax = header.addressIndex;
  if (ax && typeof ax.base === 'number' && typeof ax.width === 'number' && byName.has('addressStarts')) {
    const starts = view('addressStarts', 'i32') as Int32Array;
    if (starts.length < 1 || !(ax.width > 0)) throw new KallmodError('corrupt snapshot: address index', { file: path });
    data.addressIndex = { base: ax.base, width: ax.width, starts };
  }
  const files = opt.withFiles === false ? [] : header.blobs.filter((r) => r.kind === 'file').map((r) => {
    const [, role, ...p] = r.name.split(':');
    return { role: role!, path: p.join(':'), data: blob(r) };
  });
  return { data, meta: header.meta, files };
}

export function writeSnapshot(path: string, table: SymbolTable, meta: SnapshotMeta, files: { role: string; path: string; data: Buffer }[]): void {
  writeFileSync(path, encodeTable(table, meta, files));
}

interface Opened { fd: number; total: number; start: number; check: Header['check'] }

/**
 * Open a snapshot, check its header and length, and size its header and table part: the
 * embedded source files are for provenance and re-capture, not needed to annotate, and are
 * not read.
 */
function openSnapshot(path: string): Opened {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new KallmodError(`cannot read snapshot: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new KallmodError('cannot read snapshot: EISDIR (a directory)', { file: path });
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) < 12 || head.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) {
      throw new KallmodError('not a kallmod snapshot (bad magic)', { file: path });
    }
    const hbuf = Buffer.alloc(12 + head.readUInt32LE(8) + 4);
    if (readSync(fd, hbuf, 0, hbuf.length, 0) < hbuf.length) {
      throw new KallmodError(`truncated snapshot (${st.size} bytes, less than its header)`, { file: path });
    }
    const { header, start } = parseHeader(hbuf, path);
    if (st.size !== header.check.length) {
      throw new KallmodError(`${st.size < header.check.length ? 'truncated' : 'damaged'} snapshot (${st.size} of ${header.check.length} bytes)`,
        { file: path });
    }
    return { fd, total: tableEndOf(header, start), start, check: header.check };
  } catch (e) { closeSync(fd); throw e; }
}

/** A snapshot's header and table bytes, checked (tableFromSnapshot decodes them). */
export function readSnapshotBytes(path: string): Buffer {
  const { fd, total, start, check } = openSnapshot(path);
  try {
    const buf = Buffer.allocUnsafe(total);
    if (readSync(fd, buf, 0, total, 0) < total) throw new KallmodError('truncated snapshot', { file: path });
    checkBlocks(buf, start, total, check, 0, check.crcs.length, path);
    checkedBuffers.add(buf);
    return buf;
  } finally {
    closeSync(fd);
  }
}

const SLICES = 4;
const EMPTY = new Uint8Array(0);

/**
 * The same bytes, read on the thread pool in parallel slices: one read of the 13 MB table of a
 * 6.12 kernel took ~6 ms, four slices ~3.5 ms (2 cores), and the main thread checks each
 * slice's CRCs as it arrives. A slice is whole CRC blocks (the first one also the header).
 */
export async function readSnapshotBytesAsync(path: string): Promise<Buffer> {
  const { fd, total, start, check } = openSnapshot(path);
  try {
    const buf = Buffer.allocUnsafe(total);
    const nb = check.crcs.length, per = Math.max(1, Math.ceil(nb / SLICES));
    let bad: unknown = null;
    const full = await Promise.all(Array.from({ length: SLICES }, (_, k) => new Promise<boolean>((res) => {
      const b0 = k * per, b1 = Math.min(nb, b0 + per);
      const off = k === 0 ? 0 : start + b0 * check.block, end = k === SLICES - 1 ? total : Math.min(total, start + b1 * check.block);
      const len = end - off;
      if (len <= 0) return res(true);
      read(fd, buf, off, len, off, (e, n) => {
        if (e || n !== len) return res(false);
        try { checkBlocks(buf, start, total, check, b0, b1, path); } catch (x) { bad ??= x; }
        res(true);
      });
      // zlib loads (~2 ms) while the thread pool reads
      if (k === SLICES - 1) crc32(EMPTY);
    })));
    if (!full.every(Boolean)) throw new KallmodError('truncated snapshot', { file: path });
    if (bad) throw bad;
    checkedBuffers.add(buf);
    return buf;
  } finally {
    closeSync(fd);
  }
}

export function tableFromSnapshot(buf: Buffer, path: string): { table: SymbolTable; meta: SnapshotMeta } {
  const { data, meta } = decodeTable(buf, path, { withFiles: false });
  return { table: new SymbolTable(data), meta };
}

export function readSnapshot(path: string): { table: SymbolTable; meta: SnapshotMeta } {
  return tableFromSnapshot(readSnapshotBytes(path), path);
}
