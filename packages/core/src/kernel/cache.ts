/**
 * The per-kernel cache, like perf's build-id cache: $XDG_CACHE_HOME/kallmod/KEY/, KEY being the
 * kernel's GNU build-id (else its release and a digest of its System.map or kallsyms).
 *
 * What is link-time and what is per-boot: a vmlinux's symbols, exact sizes and DWARF objnames
 * belong to the build and cost seconds to parse, so `vmlinux.snap` keeps them (a table at
 * link-time addresses) for as long as the build exists. The KASLR slide and the loaded modules
 * belong to one boot and are cheap, so every new boot merges its own kallsyms and modules with
 * that part again, through the one precedence home (table/build.ts). `boot.snap` keeps the
 * merged table of the last boot seen, for start-up: it is used only while this boot's
 * fingerprint (the start of kallsyms, which holds the slid `_text`, and /proc/modules) is the
 * one it was made from. Both are ordinary snapshots (table/snapshot.ts): a damaged file fails
 * their checks, is reported, rebuilt and never used.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Warning } from '../errors.js';
import { readSnapshot, readSnapshotBytesAsync, tableFromSnapshot, encodeTable, TABLE_FORMAT, type SnapshotMeta } from '../table/snapshot.js';
import { F_EXACT_SIZE, F_PADDING, isTextType, type SymbolTable } from '../table/symbol-table.js';
import type { ParsedSources } from '../table/build.js';
import { rootPath, type KernelIdentity } from './identity.js';

export interface KernelCache {
  dir: string;
  key: string;
  keyedBy: 'build-id' | 'release+digest';
  /** Link-time part: the vmlinux's symbols, sizes and DWARF objnames. */
  link: string;
  /** The merged table of the last boot seen. */
  boot: string;
}

/** What a cache file says about itself (in the snapshot header, beside SnapshotMeta). */
export interface CacheInfo {
  kind: 'link' | 'boot';
  key: string;
  /** boot.snap: the boot it was made from. */
  fingerprint?: string;
  /** link.snap: the vmlinux parsed, and its build-id. */
  vmlinux?: { path: string; buildId: string | null; size: number };
  /** boot.snap: what the building run reported, so a cached run says the same. */
  run?: unknown;
  /** boot.snap: the files the defaults read or looked for, and their sizes and times then. */
  inputs?: { paths: string[]; signature: string };
  /** CACHE_FORMAT and the kallmod version that made it: another one merges differently. */
  format?: number;
  kallmod?: string;
}

/** Bump when what a cache file means changes (the merge, what is cached). */
export const CACHE_FORMAT = 1;
export type CacheMeta = SnapshotMeta & { cache?: CacheInfo };

export function cacheBaseDir(opts: { cacheDir?: string }): string {
  if (opts.cacheDir) return opts.cacheDir;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'kallmod');
}

function sha256(b: Buffer): string {
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(b).digest('hex');
}

export function kernelCache(opts: { cacheDir?: string }, kernel: KernelIdentity): KernelCache | null {
  let key: string, keyedBy: KernelCache['keyedBy'];
  if (kernel.buildId) { key = kernel.buildId; keyedBy = 'build-id'; }
  else {
    // no build-id to go by: the release and the symbol list identify the build
    const r = kernel.root, rel = kernel.release;
    const list = [rootPath(r, `/boot/System.map-${rel}`), rootPath(r, `/usr/lib/debug/boot/System.map-${rel}`), rootPath(r, '/proc/kallsyms')]
      .map((p) => { try { return readFileSync(p); } catch { return null; } }).find((b) => b !== null && b.length >= 4096);
    if (!list) return null;
    key = `${rel.replace(/[^\w.+~-]/g, '_')}-${sha256(list).slice(0, 16)}`;
    keyedBy = 'release+digest';
  }
  const dir = join(cacheBaseDir(opts), key);
  return { dir, key, keyedBy, link: join(dir, 'vmlinux.snap'), boot: join(dir, 'boot.snap') };
}

/** FNV-1a, two lanes: a fingerprint, not a defence (the files are the user's own). */
function fnv(parts: Buffer[]): string {
  let a = 0x811c9dc5, b = 0x050c5d1f;
  for (const p of parts) for (let i = 0; i < p.length; i++) {
    a = Math.imul(a ^ p[i]!, 0x01000193);
    b = Math.imul(b ^ p[i]!, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

function head(path: string, max: number): Buffer | null {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return null; }
  try {
    const buf = Buffer.allocUnsafe(max);
    let n = 0;
    for (;;) { const r = readSync(fd, buf, n, max - n, null); if (r <= 0) break; n += r; if (n === max) break; }
    return buf.subarray(0, n);
  } catch { return null; } finally { closeSync(fd); }
}

const HEAD = 64 << 10;

/**
 * This boot, cheaply: the slid `_text` of kallsyms (in its first 64 KiB), /proc/modules (every
 * module's base) and, for saved files, their size and time: the same build at the same slide with
 * the same modules at the same bases has the same table. null when the addresses are hidden
 * (a non-root reader: a table from them must not be reused) or there is no kallsyms.
 */
export function bootFingerprint(kernel: KernelIdentity): string | null {
  const r = kernel.root;
  const ks = [rootPath(r, '/proc/kallmodsyms'), rootPath(r, '/proc/kallsyms')].find((p) => { try { statSync(p); return true; } catch { return false; } });
  if (!ks) return null;
  const h = head(ks, HEAD);
  if (!h) return null;
  // the slid address of _text (found natively: this runs before every cached start-up)
  const at = h.indexOf(' _text\n');
  const line = at < 0 ? '' : h.toString('latin1', Math.max(0, h.lastIndexOf(10, at) + 1), at);
  const m = /^([0-9a-f]+) [Tt]$/.exec(line);
  if (!m || /^0+$/.test(m[1]!)) return null;
  const parts = [Buffer.from(`${r}\0${kernel.release}\0${ks}\0${m[1]}\0`)];
  const mods = rootPath(r, '/proc/modules');
  try { parts.push(readFileSync(mods)); } catch { /* no modules */ }
  for (const p of [ks, mods]) {
    try { const st = statSync(p); if (st.isFile() && st.size > 0) parts.push(Buffer.from(`${st.size}:${st.mtimeMs}`)); } catch { /* absent */ }
  }
  return fnv(parts);
}

export type CacheRead = { table: SymbolTable; meta: CacheMeta } | { miss: string; damaged: boolean };

/** Whether each path exists, its size and time: a source installed, removed or changed since. */
export function inputsSignature(paths: string[]): string {
  return fnv([Buffer.from(paths.map((p) => { try { const st = statSync(p); return `${st.size}:${st.mtimeMs}`; } catch { return '-'; } }).join('\0'))]);
}

function check(meta: CacheMeta, kind: CacheInfo['kind'], c: KernelCache, fingerprint?: string): string | null {
  const ci = meta.cache;
  if (!ci || ci.kind !== kind) return 'not a kallmod cache file of this kind';
  if (ci.format !== CACHE_FORMAT || ci.kallmod !== meta.kallmodVersion) return 'made by another kallmod';
  if (ci.key !== c.key) return `made for kernel ${ci.key}`;
  if (fingerprint !== undefined && ci.fingerprint !== fingerprint) return 'made in another boot or with other modules loaded';
  if (ci.inputs && inputsSignature(ci.inputs.paths) !== ci.inputs.signature) return 'its source files changed since (installed, removed or rewritten)';
  return null;
}

function exists(p: string): boolean { try { return statSync(p).isFile(); } catch { return false; } }

type Got = { table: SymbolTable; meta: SnapshotMeta };

function judge(path: string, load: () => Got, kind: CacheInfo['kind'], c: KernelCache, fingerprint?: string): CacheRead {
  let got: Got;
  try { got = load(); } catch (e) {
    // whatever the reader says (a KallmodError for a damaged file; anything else from garbage)
    return { miss: `damaged (${(e as Error).message.replace(`${path}: `, '')})`, damaged: true };
  }
  const bad = check(got.meta as CacheMeta, kind, c, fingerprint);
  return bad ? { miss: bad, damaged: false } : { table: got.table, meta: got.meta as CacheMeta };
}

/** Read a cache file: any failure of the snapshot's own checks (header, size, checksum) is a miss, reported. */
export function readCacheFile(path: string, kind: CacheInfo['kind'], c: KernelCache, fingerprint?: string): CacheRead {
  if (!exists(path)) return { miss: 'none yet', damaged: false };
  return judge(path, () => readSnapshot(path), kind, c, fingerprint);
}

/** The same, read on the thread pool (the start-up path). */
export async function readCacheFileAsync(path: string, kind: CacheInfo['kind'], c: KernelCache, fingerprint?: string): Promise<CacheRead> {
  if (!exists(path)) return { miss: 'none yet', damaged: false };
  let bytes: Buffer;
  try { bytes = await readSnapshotBytesAsync(path); } catch (e) {
    return { miss: `damaged (${(e as Error).message.replace(`${path}: `, '')})`, damaged: true };
  }
  return judge(path, () => tableFromSnapshot(bytes, path), kind, c, fingerprint);
}

/** Write atomically (a reader never sees half a file); a failure is a warning, not an error. */
export function writeCacheFile(path: string, table: SymbolTable, meta: CacheMeta, c: KernelCache, warn: (w: Warning) => void): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    // private: this boot's table holds its KASLR-slid addresses, which kptr_restrict hides from others
    mkdirSync(c.dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, encodeTable(table, meta), { mode: 0o600 });
    renameSync(tmp, path);
    return true;
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* not written */ }
    warn({ source: c.dir, message: `cache not written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (--cache-dir D, or --no-cache)` });
    return false;
  }
}

export function cacheMeta(version: string, info: CacheInfo, warnings: Warning[] = []): CacheMeta {
  return {
    format: TABLE_FORMAT, kallmodVersion: version, created: new Date().toISOString(), sources: [], warnings,
    cache: { ...info, format: CACHE_FORMAT, kallmod: version },
  };
}

/**
 * The vmlinux part again, from a link-time table: its symtab, and each symbol's object as an
 * address range [start, start + size) (the next symbol's start when it has no size), which is
 * what the merge asks of DWARF for each kallsyms symbol at (address - slide).
 */
export function vmlinuxFromLinkTable(t: SymbolTable, path: string): NonNullable<ParsedSources['vmlinux']> {
  const d = t.d, n = t.length;
  const symbols: NonNullable<ParsedSources['vmlinux']>['symbols'] = new Array(n);
  const objects: NonNullable<ParsedSources['vmlinux']>['objects'] = [];
  for (let i = 0; i < n; i++) {
    const exact = (d.flags[i]! & F_EXACT_SIZE) !== 0;
    const key = d.keys[i]!, size = exact ? d.exactSizes[i]! : 0;
    symbols[i] = { name: t.name(i), value: key, size, type: isTextType(d.types[i]!) ? 'func' : 'object', letter: d.types[i]! };
    const o = d.objIds[i]!;
    if (o < 0 || d.flags[i]! & F_PADDING) continue;
    const len = size > 0 ? size : d.ksizes[i]! > 0 ? d.ksizes[i]! : 1;
    objects.push({ start: key, end: key + len, object: d.objnames[o]! });
  }
  return { path, symbols, objects };
}
