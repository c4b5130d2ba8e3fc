/**
 * Portable snapshot: the merged table as raw typed arrays (loads in a few ms: no parsing),
 * plus the source files it was built from (gzip'd), so a newer kallmod whose table layout
 * changed can rebuild it. The same encoding carries the table to worker threads.
 *
 * Layout: "KALLMOD\0" | u32 LE header length | header JSON | pad to 8 | blobs.
 * Each blob is named in header.blobs with its byte offset (relative to the blob area) and length.
 */
import { closeSync, openSync, read, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KallmodError } from '../errors.js';
import { SymbolTable, type TableData } from './symbol-table.js';
import { NameStore } from './name-store.js';

export const SNAPSHOT_MAGIC = 'KALLMOD\0';
/** Bump when TableData's layout or meaning changes. */
export const TABLE_FORMAT = 2;

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
}

interface BlobRef { name: string; offset: number; length: number; kind: 'f64' | 'u32' | 'i32' | 'u8' | 'strings' | 'file' }
interface Header {
  meta: SnapshotMeta; blobs: BlobRef[]; counts: { n: number };
  /** With the 'addressStarts' blob: the table's address index (absent in older snapshots). */
  addressIndex?: { base: number; width: number };
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
  // zlib only when writing files in (capture): loading a snapshot must not pay for it
  const gzip = files.length ? (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).gzipSync : null;
  for (const f of files) add(`file:${f.role}:${f.path}`, 'file', gzip!(f.data, { level: 6 }));
  const header: Header = { meta, blobs: parts.map((p) => p.ref), counts: { n: d.keys.length }, addressIndex: { base: ax.base, width: ax.width } };
  const hjson = Buffer.from(JSON.stringify(header), 'utf8');
  const head = 8 + 4 + hjson.length;
  const start = pad8(head);
  const out = shared ? Buffer.from(new SharedArrayBuffer(start + off)) : Buffer.alloc(start + off);
  out.write(SNAPSHOT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(hjson.length, 8);
  hjson.copy(out, 12);
  for (const p of parts) out.set(p.data, start + p.ref.offset);
  return out;
}

function splitStrings(b: Buffer): string[] {
  return b.length === 0 ? [] : b.toString('utf8').split('\n');
}

/** Decode; typed arrays are views on `buf` when aligned (no copy). */
export function decodeTable(buf: Uint8Array, path = '(snapshot)', opt: { withFiles?: boolean } = {}): { data: TableData; meta: SnapshotMeta; files: { role: string; path: string; data: Buffer }[] } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) throw new KallmodError('not a kallmod snapshot (bad magic)', { file: path });
  const hlen = b.readUInt32LE(8);
  if (12 + hlen > b.length) throw new KallmodError('truncated snapshot', { file: path });
  let header: Header;
  try { header = JSON.parse(b.toString('utf8', 12, 12 + hlen)) as Header; } catch { throw new KallmodError('corrupt snapshot header', { file: path }); }
  if (!header || typeof header !== 'object' || !header.meta || !Array.isArray(header.blobs) || typeof header.counts?.n !== 'number') {
    throw new KallmodError('corrupt snapshot header', { file: path });
  }
  if (header.meta.format !== TABLE_FORMAT) throw new KallmodError(`snapshot table format ${header.meta.format}, this kallmod reads ${TABLE_FORMAT}`, { file: path });
  const start = pad8(12 + hlen);
  const blob = (r: BlobRef): Buffer => {
    if (start + r.offset + r.length > b.length) throw new KallmodError('truncated snapshot', { file: path });
    return b.subarray(start + r.offset, start + r.offset + r.length);
  };
  const byName = new Map(header.blobs.map((r) => [r.name, r]));
  const get = (name: string) => { const r = byName.get(name); if (!r) throw new KallmodError(`snapshot lacks ${name}`, { file: path }); return blob(r); };
  const n = header.counts.n;
  const view = (name: string, kind: BlobRef['kind']) => {
    const x = get(name);
    if (x.length === 0 && n > 0 && name !== 'nameEnds') {
      switch (kind) { case 'f64': return new Float64Array(n); case 'u32': return new Uint32Array(n); case 'i32': return new Int32Array(n); default: return new Uint8Array(n); }
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
  for (const [f] of ARRAYS) if (arrays[f].length !== n) throw new KallmodError(`corrupt snapshot: ${f} has ${arrays[f].length} entries, ${n} expected`, { file: path });
  const data: TableData = {
    ...arrays,
    names: NameStore.fromCompact(get('names'), view('nameEnds', 'u32') as Uint32Array),
    objnames: splitStrings(get('objnames')),
    modSets: splitStrings(get('modSets')).map((s) => (s === '' ? [] : s.split(' '))),
    provenance: splitStrings(get('provenance')),
  };
  if (data.modSets.length === 0) data.modSets.push([]);
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

/** Where the header and table part ends (the embedded source files come after it). */
function tableEnd(fd: number, path: string): number {
  const head = Buffer.alloc(12);
  if (readSync(fd, head, 0, 12, 0) < 12 || head.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) throw new KallmodError('not a kallmod snapshot (bad magic)', { file: path });
  const hlen = head.readUInt32LE(8);
  const hbuf = Buffer.alloc(hlen);
  if (readSync(fd, hbuf, 0, hlen, 12) < hlen) throw new KallmodError('truncated snapshot', { file: path });
  let header: Header;
  try { header = JSON.parse(hbuf.toString('utf8')) as Header; } catch { throw new KallmodError('corrupt snapshot header', { file: path }); }
  if (!header || !Array.isArray(header.blobs)) throw new KallmodError('corrupt snapshot header', { file: path });
  return pad8(12 + hlen) + Math.max(0, ...header.blobs.filter((b) => b.kind !== 'file').map((b) => b.offset + b.length));
}

/**
 * Open a snapshot and size its header and table part: the embedded source files are for
 * provenance and re-capture, not needed to annotate, and are not read.
 */
function openSnapshot(path: string): { fd: number; total: number } {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) { throw new KallmodError(`cannot read snapshot: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path }); }
  try { return { fd, total: tableEnd(fd, path) }; } catch (e) { closeSync(fd); throw e; }
}

/** A snapshot's header and table bytes (tableFromSnapshot decodes them). */
export function readSnapshotBytes(path: string): Buffer {
  const { fd, total } = openSnapshot(path);
  try {
    const buf = Buffer.allocUnsafe(total);
    if (readSync(fd, buf, 0, total, 0) < total) throw new KallmodError('truncated snapshot', { file: path });
    return buf;
  } finally {
    closeSync(fd);
  }
}

const SLICES = 4;

/**
 * The same bytes, read on the thread pool in parallel slices: one read of the 13 MB table of a
 * 6.12 kernel took ~6 ms, four slices ~3.5 ms (2 cores), and the main thread is free meanwhile.
 */
export async function readSnapshotBytesAsync(path: string): Promise<Buffer> {
  const { fd, total } = openSnapshot(path);
  try {
    const buf = Buffer.allocUnsafe(total);
    const step = Math.ceil(total / SLICES);
    const full = await Promise.all(Array.from({ length: SLICES }, (_, k) => new Promise<boolean>((res) => {
      const off = k * step, len = Math.max(0, Math.min(step, total - off));
      if (len === 0) return res(true);
      read(fd, buf, off, len, off, (e, n) => res(!e && n === len));
    })));
    if (!full.every(Boolean)) throw new KallmodError('truncated snapshot', { file: path });
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
