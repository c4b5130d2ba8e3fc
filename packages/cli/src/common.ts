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
    throw new KallmodError(`${(e as Error).message.replace(/\. To specify.*$/s, '')} (see --help)`, { exitCode: 2 });
  }
}

/** Warnings go to stderr as they are found, one line each. */
export function stderrWarn(w: Warning): void {
  process.stderr.write(`kallmod: warning: ${w.source}: ${w.message}\n`);
}

export function loadFromFlags(values: FlagValues, warn: (w: Warning) => void = stderrWarn): Promise<LoadedTable> {
  return loadTableAsync(sourceOptionsFromFlags(values as never), warn);
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
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new KallmodError(`--jobs must be a positive integer (got ${String(v)})`, { exitCode: 2 });
  return n;
}

export { SOURCE_FLAGS_HELP };
