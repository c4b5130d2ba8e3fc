import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
// subpath imports: the lookup path must not load every transformer helper (start-up budget)
import { KallmodError, type Warning } from '@kallmod/core/errors';
import { loadTableAsync, type LoadedTable } from '@kallmod/core/load';
import { sourceOptionsFromFlags, SOURCE_FLAGS, SOURCE_FLAGS_HELP } from '@kallmod/core/sources/options';
import type { FlagSpec, FlagValues, ObjnameMode } from '@kallmod/core';

export const COMMON_FLAGS = {
  ...SOURCE_FLAGS,
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const;

export function parse(argv: string[], extra: FlagSpec = {}): { values: FlagValues; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...COMMON_FLAGS, ...extra }, allowPositionals: true, strict: true });
    return { values: r.values as FlagValues, positionals: r.positionals };
  } catch (e) {
    // one line: parseArgs explains some errors over several ('-j -3')
    throw new KallmodError(`${(e as Error).message.replace(/\.?\s*To specify.*$/s, '').replace(/\s*\n\s*/g, ' ')} (see --help)`, { exitCode: 2 });
  }
}

/** Warnings go to stderr as they are found, one line each. */
export function stderrWarn(w: Warning): void {
  process.stderr.write(`kallmod: warning: ${w.source}: ${w.message}\n`);
}

export function loadFromFlags(values: FlagValues, warn: (w: Warning) => void = stderrWarn): Promise<LoadedTable> {
  refuseDirectories(values);
  const options = sourceOptionsFromFlags(values as never);
  return loadTableAsync(options, warn).then((l) => ({ ...l, options }));
}

/** The source flags that name a file (the others: directories, numbers, a release, a switch). */
const FILE_FLAGS = new Set(Object.keys(SOURCE_FLAGS).filter((f) => !['modules-dir', 'kaslr-offset', 'root', 'release', 'cache-dir', 'no-cache'].includes(f)));

/**
 * A directory given to a file flag: some readers would only fail at their first read, without
 * the path (a snapshot is read by fd). A missing file is left to the reader, which says so.
 */
function refuseDirectories(values: FlagValues): void {
  for (const flag of Object.keys(SOURCE_FLAGS)) {
    const v = values[flag];
    if (flag === 'root' && typeof v === 'string') {
      let dir = false;
      try { dir = statSync(v).isDirectory(); } catch { /* below */ }
      if (!dir) throw new KallmodError('--root takes a directory (a tree with proc/, sys/, lib/modules/...)', { file: v, exitCode: 2 });
    }
    if (!FILE_FLAGS.has(flag)) continue;
    for (const p of Array.isArray(v) ? v : [v]) {
      if (typeof p !== 'string') continue;
      let dir = false;
      try { dir = statSync(p).isDirectory(); } catch { /* the reader says why */ }
      if (dir) throw new KallmodError(`cannot read: is a directory (--${flag} takes a file)`, { file: p });
    }
  }
}

export function objnameMode(values: FlagValues): ObjnameMode {
  const v = values['objname'];
  if (v === undefined) return 'ambiguous';
  if (v === 'always' || v === 'ambiguous' || v === 'never') return v;
  throw new KallmodError(`--objname must be always, ambiguous or never (got ${String(v)})`, { exitCode: 2 });
}

export function jobsFlag(values: FlagValues): number | undefined {
  const v = values['jobs'];
  if (v === undefined) return undefined;
  // digits only: Number() would take '1e3', '0x10' and ' 2'
  if (typeof v !== 'string' || !/^[1-9][0-9]*$/.test(v)) throw new KallmodError(`--jobs must be a positive integer (got ${String(v)})`, { exitCode: 2 });
  return Number(v);
}

/** --lines in every command's help (its code, lines.ts, loads only when the flag is given). */
export const LINES_HELP = `  --lines  source file:line and inline frames, from the DWARF of the vmlinux
           and .ko files of the sources (--vmlinux, --modules-dir, or the running
           kernel's debug package).`;

export { SOURCE_FLAGS_HELP };
