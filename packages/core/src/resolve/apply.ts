/**
 * tracefs: where it is, the live available_filter_functions, and the writes `--apply` makes.
 * Every write appends (as `>>` does): an index added to set_ftrace_filter, a line added to
 * kprobe_events. `--dry-run` prints the same plan without touching anything (tracefs need not be mounted).
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KallmodError } from '../errors.js';
import { parseFilterFunctions, type FilterFunctions } from './filter-functions.js';

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** The mounted tracefs directory, or null. */
export function findTracefs(candidates = TRACEFS_CANDIDATES): string | null {
  for (const d of candidates) if (existsSync(join(d, 'available_tracers')) || existsSync(join(d, 'trace'))) return d;
  return null;
}

/**
 * Where --apply writes: the mounted tracefs. A dry run touches nothing, so it needs none: without
 * one it shows the writes at the conventional mount point (`mounted: false`, for a note).
 */
export function tracefsForWrites(dryRun: boolean, candidates = TRACEFS_CANDIDATES): { root: string; mounted: boolean } {
  const root = findTracefs(candidates);
  if (root) return { root, mounted: true };
  if (!dryRun) throw new KallmodError(`tracefs is not mounted (mount -t tracefs nodev ${candidates[0]})`, { exitCode: 1 });
  return { root: candidates[0]!, mounted: false };
}

function errText(e: unknown): string {
  const c = (e as NodeJS.ErrnoException).code;
  if (c === 'EPERM' || c === 'EACCES') return `${c}: permission denied (root needed; under lockdown tracefs stays closed even to root)`;
  if (c === 'ENOENT') return 'ENOENT: no such file';
  return (e as Error).message;
}

/** The running kernel's list: `_addrs` (6.5+) when readable, else the plain one. */
export function readLiveFilterFunctions(root = findTracefs()): FilterFunctions {
  if (!root) {
    throw new KallmodError('tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing), and no --filter-functions file was given', { exitCode: 1 });
  }
  const why: string[] = [];
  for (const f of ['available_filter_functions_addrs', 'available_filter_functions']) {
    const p = join(root, f);
    try { return parseFilterFunctions(readFileSync(p), p); } catch (e) {
      if (e instanceof KallmodError) throw e;
      why.push(`${p}: ${errText(e)}`);
    }
  }
  throw new KallmodError(`cannot read the running kernel's filter functions: ${why.join('; ')}`, { exitCode: 1 });
}

export interface PlannedWrite { path: string; text: string; why: string }

export function instanceDir(root: string, instance: string | null): string {
  if (instance === null) return root;
  if (!instance || instance.includes('/') || instance === '.' || instance === '..') throw new KallmodError(`bad instance name '${instance}'`, { exitCode: 2 });
  return join(root, 'instances', instance);
}

export function describeWrite(w: PlannedWrite): string {
  return `echo '${w.text}' >> ${w.path}    # ${w.why}`;
}

/** Perform the writes in order (root only). The first failure stops and says which write. */
export function applyWrites(writes: PlannedWrite[]): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new KallmodError('--apply writes to tracefs and needs root (use --dry-run to see what it would write)', { exitCode: 1 });
  }
  for (const w of writes) {
    if (!existsSync(w.path)) {
      const why = w.path.endsWith('/kprobe_events') ? 'kernel built without CONFIG_KPROBE_EVENTS?'
        : w.path.endsWith('/enable') ? 'the event was not created?' : 'not in this tracefs';
      throw new KallmodError(`no such file (${why})`, { file: w.path, exitCode: 1 });
    }
    let fd: number;
    try { fd = openSync(w.path, 'a'); } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      const hint = c === 'ENOENT' && w.path.endsWith('/kprobe_events') ? ' (kernel built without CONFIG_KPROBE_EVENTS?)'
        : c === 'ENOENT' && w.path.endsWith('/enable') ? ' (the event was not created?)' : '';
      throw new KallmodError(`cannot open for writing: ${errText(e)}${hint}`, { file: w.path, exitCode: 1 });
    }
    try { writeSync(fd, w.text + '\n'); } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      const hint = c === 'EINVAL' || c === 'EADDRNOTAVAIL' || c === 'ENOENT' ? ' (the kernel refused it; see error_log in tracefs)' : '';
      throw new KallmodError(`writing '${w.text}' failed: ${errText(e)}${hint}`, { file: w.path, exitCode: 1 });
    } finally { closeSync(fd); }
  }
}
