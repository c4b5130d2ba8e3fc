import type { Warning } from './errors.js';
import type { Discovery, LoadedSource, SourceOptions } from './sources/index.js';
import type { BuildReport, ParsedSources } from './table/build.js';
import { readSnapshot, readSnapshotBytesAsync, tableFromSnapshot, type SnapshotMeta } from './table/snapshot.js';
import { lazyModule } from './lazy.js';
import { identifyKernel, rootPath, type KernelIdentity } from './kernel/identity.js';
import { join } from 'node:path';
import { bootFingerprint, cacheMeta, inputsSignature, kernelCache, readCacheFile, readCacheFileAsync, vmlinuxFromLinkTable, writeCacheFile,
  type CacheMeta, type CacheRead, type KernelCache } from './kernel/cache.js';
import { hasExplicitSources } from './sources/options.js';
import { statSync } from 'node:fs';

// a snapshot needs neither the source readers nor the merge: load them only for raw sources
const sources = () => lazyModule('@kallmod/core/sources/index') as typeof import('./sources/index.js');
const builder = () => lazyModule('@kallmod/core/table/build') as typeof import('./table/build.js');
const progress = () => lazyModule('@kallmod/core/kernel/parse-progress') as typeof import('./kernel/parse-progress.js');
import type { SymbolTable } from './table/symbol-table.js';

const VERSION = '0.1.0';

/** How the per-kernel cache served (or did not serve) this run: for `kallmod sources`. */
export interface CacheStatus {
  dir: string;
  keyedBy: KernelCache['keyedBy'];
  /** 'boot': the merged table of this boot; 'link': the vmlinux part, merged with this boot; 'none': parsed now (or nothing to cache). */
  served: 'boot' | 'link' | 'none';
  /** Why an entry was not used (none yet, another boot, damaged...). */
  misses: string[];
  written: string[];
}

export interface LoadedTable {
  table: SymbolTable;
  report: BuildReport;
  loaded: LoadedSource[];
  parsed?: ParsedSources;
  snapshot?: SnapshotMeta;
  /** The running-kernel path: which kernel, what its files are, what the defaults skipped. */
  kernel?: KernelIdentity;
  discovery?: Discovery;
  cache?: CacheStatus | null;
  /** The options it was loaded with (the CLI sets it: --lines keeps its index in the same cache directory). */
  options?: SourceOptions;
}

/**
 * The symbol table for a command: a snapshot, the explicit sources, or the running kernel.
 * Warnings (sources that disagree, hidden addresses, unresolved anchors) go to `warn` as they
 * are found; the CLI prints them on stderr.
 */
export function loadTable(opts: SourceOptions, warn: (w: Warning) => void): LoadedTable {
  if (opts.snapshot) return fromSnapshot(readSnapshot(opts.snapshot), opts.snapshot, warn);
  if (!hasExplicitSources(opts)) return runningKernelSync(opts, warn);
  const { readSources } = sources();
  const { parsed, loaded } = readSources(opts, 'explicit', warn);
  const { table, report } = builder().buildTable(parsed);
  for (const w of report.warnings) warn(w);
  return { table, report, loaded, parsed };
}

/** As loadTable, with a snapshot (or a cached table) read on the thread pool (start-up: snapshot.ts). */
export async function loadTableAsync(opts: SourceOptions, warn: (w: Warning) => void): Promise<LoadedTable> {
  if (opts.snapshot) return fromSnapshot(tableFromSnapshot(await readSnapshotBytesAsync(opts.snapshot), opts.snapshot), opts.snapshot, warn);
  // decided without loading the source readers (the cached start-up path needs none)
  if (hasExplicitSources(opts)) return loadTable(opts, warn);
  return runningKernelAsync(opts, warn);
}

interface BootRun { loaded: LoadedSource[]; report: BuildReport; discovery: Discovery }

/** Which kernel, its cache, and this boot's cached table when it is there (read by the caller, sync or not). */
interface Start { kernel: KernelIdentity; cache: KernelCache | null; fingerprint: string | null }

function start(opts: SourceOptions): Start {
  const kernel = identifyKernel(opts);
  const cache = opts.noCache ? null : kernelCache(opts, kernel);
  return { kernel, cache, fingerprint: cache ? bootFingerprint(kernel) : null };
}

function runningKernelSync(opts: SourceOptions, warn: (w: Warning) => void): LoadedTable {
  const s = start(opts);
  const boot = s.cache && s.fingerprint ? readCacheFile(s.cache.boot, 'boot', s.cache, s.fingerprint) : null;
  return runningKernel(opts, s, boot, warn);
}

async function runningKernelAsync(opts: SourceOptions, warn: (w: Warning) => void): Promise<LoadedTable> {
  const s = start(opts);
  const boot = s.cache && s.fingerprint ? await readCacheFileAsync(s.cache.boot, 'boot', s.cache, s.fingerprint) : null;
  return runningKernel(opts, s, boot, warn);
}

/**
 * The running kernel (or --root DIR): this boot's cached table when there is one, else this
 * boot's files merged with the cached vmlinux part (or with a vmlinux parsed now, then cached).
 */
function runningKernel(opts: SourceOptions, { kernel, cache, fingerprint }: Start, boot: CacheRead | null, warn: (w: Warning) => void): LoadedTable {
  const status: CacheStatus | null = cache ? { dir: cache.dir, keyedBy: cache.keyedBy, served: 'none', misses: [], written: [] } : null;
  const miss = (what: string, why: string, damaged: boolean) => {
    status!.misses.push(`${what}: ${why}`);
    if (damaged) warn({ source: what, message: `cache entry ${why}: not used, rebuilt` });
  };
  if (boot && 'table' in boot) {
    const run = boot.meta.cache!.run as BootRun;
    for (const w of boot.meta.warnings) warn(w);
    status!.served = 'boot';
    return {
      table: boot.table, kernel, discovery: run.discovery, cache: status,
      report: { ...run.report, warnings: [...run.report.warnings] },
      loaded: [{ role: 'cache', path: cache!.boot, origin: 'running-kernel', detail: `this boot's table, made ${boot.meta.created}` }, ...run.loaded],
    };
  }
  if (boot) miss(cache!.boot, boot.miss, boot.damaged);
  let link: NonNullable<ParsedSources['vmlinux']> | undefined;
  let linkMeta: CacheMeta | undefined;
  if (cache) {
    const r = readCacheFile(cache.link, 'link', cache);
    if ('table' in r) { linkMeta = r.meta; link = vmlinuxFromLinkTable(r.table, r.meta.cache!.vmlinux!.path); status!.served = 'link'; }
    else miss(cache.link, r.miss, r.damaged);
  }
  const { runningKernelOptions, readSources } = sources();
  const notes: Warning[] = [];
  const said: Warning[] = [];
  const sayAndKeep = (w: Warning) => { said.push(w); warn(w); };
  const { options, discovery } = runningKernelOptions(notes, kernel, sayAndKeep, { skipVmlinux: link !== undefined });
  if (link) discovery.vmlinux = { path: link.path, buildId: linkMeta!.cache!.vmlinux!.buildId };
  const o: SourceOptions = { ...options, ...(opts.kaslrOffset !== undefined ? { kaslrOffset: opts.kaslrOffset } : {}) };
  const willWrite = cache !== null && o.vmlinux !== undefined;
  const { parsed, loaded } = readSources(o, 'running-kernel', sayAndKeep, {
    root: kernel.root, ...(link ? { vmlinux: link } : {}),
    progress: (p) => progress().dwarfProgress(p, cache ? `once: the result is cached in ${cache.dir}` : 'not cached (--no-cache)', willWrite),
  });
  if (link) {
    loaded.push({ role: 'vmlinux', path: link.path, origin: 'running-kernel', detail: `DWARF from the cache ${cache!.link} (made ${linkMeta!.created})` });
  }
  const { table, report } = builder().buildTable(parsed);
  for (const w of report.warnings) sayAndKeep(w);
  report.warnings.unshift(...notes);
  if (cache && parsed.vmlinux) {
    if (!link) {
      // the link-time part alone: the vmlinux with no runtime list is a table at link-time addresses
      const lt = builder().buildTable({ vmlinux: parsed.vmlinux });
      let size = 0;
      try { size = statSync(parsed.vmlinux.path).size; } catch { /* gone */ }
      const info = { kind: 'link' as const, key: cache.key, vmlinux: { path: parsed.vmlinux.path, buildId: discovery.vmlinux?.buildId ?? null, size } };
      if (writeCacheFile(cache.link, lt.table, cacheMeta(VERSION, info), cache, warn)) status!.written.push(cache.link);
    }
    if (fingerprint) {
      const run: BootRun = { loaded, report, discovery };
      // what the defaults read or looked for: a file installed or changed later makes this table stale
      // (not /proc, /sys: the boot fingerprint covers those)
      const volatile = [rootPath(kernel.root, '/proc/'), rootPath(kernel.root, '/sys/')];
      const paths = [...new Set([...loaded.flatMap((l) => l.path.split(',')), ...discovery.vmlinuxTried, join(discovery.libModules, 'modules.builtin.ranges'),
        rootPath(kernel.root, `/usr/lib/debug/lib/modules/${kernel.release}`), rootPath(kernel.root, `/boot/System.map-${kernel.release}`)])]
        .filter((p) => !volatile.some((v) => p.startsWith(v)));
      const info = { kind: 'boot' as const, key: cache.key, fingerprint, run, inputs: { paths, signature: inputsSignature(paths) } };
      if (writeCacheFile(cache.boot, table, cacheMeta(VERSION, info, said), cache, warn)) status!.written.push(cache.boot);
    }
  }
  return { table, report, loaded, parsed, kernel, discovery, cache: status };
}

function fromSnapshot({ table, meta }: { table: SymbolTable; meta: SnapshotMeta }, path: string, warn: (w: Warning) => void): LoadedTable {
  for (const w of meta.warnings) warn(w);
  return {
    table, snapshot: meta,
    report: { warnings: [...(meta.notes ?? []), ...meta.warnings], slide: null, base: 'snapshot', stats: { symbols: table.length } },
    loaded: [{ role: 'snapshot', path, origin: 'explicit', detail: `${meta.host ?? '?'} ${meta.release ?? ''} ${meta.created}` }],
  };
}
