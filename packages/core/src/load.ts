import type { Warning } from './errors.js';
import type { LoadedSource, SourceOptions } from './sources/index.js';
import type { BuildReport, ParsedSources } from './table/build.js';
import { readSnapshot, readSnapshotBytesAsync, tableFromSnapshot, type SnapshotMeta } from './table/snapshot.js';
import { lazyModule } from './lazy.js';

// a snapshot needs neither the source readers nor the merge: load them only for raw sources
const sources = () => lazyModule('@kallmod/core/sources/index') as typeof import('./sources/index.js');
const builder = () => lazyModule('@kallmod/core/table/build') as typeof import('./table/build.js');
import type { SymbolTable } from './table/symbol-table.js';

export interface LoadedTable {
  table: SymbolTable;
  report: BuildReport;
  loaded: LoadedSource[];
  parsed?: ParsedSources;
  snapshot?: SnapshotMeta;
}

/**
 * The symbol table for a command: a snapshot, the explicit sources, or the running kernel.
 * Warnings (sources that disagree, hidden addresses, unresolved anchors) go to `warn` as they
 * are found; the CLI prints them on stderr.
 */
export function loadTable(opts: SourceOptions, warn: (w: Warning) => void): LoadedTable {
  if (opts.snapshot) return fromSnapshot(readSnapshot(opts.snapshot), opts.snapshot, warn);
  const { hasExplicitSources, readSources, runningKernelOptions } = sources();
  const explicit = hasExplicitSources(opts);
  const notes: Warning[] = [];
  const o = explicit ? opts : { ...runningKernelOptions(notes), ...(opts.kaslrOffset !== undefined ? { kaslrOffset: opts.kaslrOffset } : {}) };
  const { parsed, loaded } = readSources(o, explicit ? 'explicit' : 'running-kernel', warn);
  const { table, report } = builder().buildTable(parsed);
  for (const w of report.warnings) warn(w);
  report.warnings.unshift(...notes);
  return { table, report, loaded, parsed };
}

/** As loadTable, with a snapshot read on the thread pool (start-up: snapshot.ts). */
export async function loadTableAsync(opts: SourceOptions, warn: (w: Warning) => void): Promise<LoadedTable> {
  if (!opts.snapshot) return loadTable(opts, warn);
  return fromSnapshot(tableFromSnapshot(await readSnapshotBytesAsync(opts.snapshot), opts.snapshot), opts.snapshot, warn);
}

function fromSnapshot({ table, meta }: { table: SymbolTable; meta: SnapshotMeta }, path: string, warn: (w: Warning) => void): LoadedTable {
  for (const w of meta.warnings) warn(w);
  return {
    table, snapshot: meta,
    report: { warnings: [...(meta.notes ?? []), ...meta.warnings], slide: null, base: 'snapshot', stats: { symbols: table.length } },
    loaded: [{ role: 'snapshot', path, origin: 'explicit', detail: `${meta.host ?? '?'} ${meta.release ?? ''} ${meta.created}` }],
  };
}
