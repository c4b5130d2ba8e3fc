/**
 * The real 6.12 kernel in fixtures/kernel-6.12 (a build and two boots; see its PROVENANCE.md):
 * paths and the source flags of one boot, as the acceptance checks pass them. Every real-data
 * test reads the kernel from here, so that a clean clone runs them; ../shared (beside the
 * repository, absent on a clean clone) only for what is not committed, through sharedSkipReason.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSourceFile } from '../packages/core/src/sources/read-file.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const KDIR = join(ROOT, 'fixtures/kernel-6.12');
export const CLI = join(ROOT, 'packages/cli/bin/kallmod');
export type Boot = 'nokaslr' | 'kaslr';

export function k(rel: string): string { return join(KDIR, rel); }

/** The team's shared artefacts beside the repository: the acceptance checks and their helpers. */
export const SHARED = resolve(ROOT, '../shared');

/** Null when every path (relative to ../shared) exists; else why not, printed once under `label`. */
export function sharedSkipReason(label: string, ...rels: string[]): string | null {
  const missing = rels.filter((r) => !existsSync(join(SHARED, r)));
  if (!missing.length) return null;
  const why = `not committed, and ${missing.map((r) => join(SHARED, r)).join(', ')} ${missing.length > 1 ? 'are' : 'is'} absent`;
  console.log(`[${label}] skipped: ${why}`);
  return why;
}

/**
 * Command-line source flags for one boot (the `ksources` of the acceptance checks); boot null:
 * the build's files only (System.map, ranges, linker maps, modules), for logs of a boot that
 * left no kallsyms. The .xz files are read as they are.
 */
export function sourceFlags(boot: Boot | null, opts: { modules?: boolean } = {}): string[] {
  const f = [
    '--system-map', k('System.map.xz'),
    '--ranges', k('modules.builtin.ranges.xz'), '--builtin', k('modules.builtin'), '--modinfo', k('modules.builtin.modinfo'),
    '--linker-map', k('vmlinux.map.xz'), '--linker-map', k('vmlinux.o.map.xz'),
  ];
  if (boot) f.unshift('--kallsyms', k(`boot-${boot}/kallsyms.xz`));
  if (boot) f.push('--proc-modules', k(`boot-${boot}/proc-modules`), '--module-sections', k(`boot-${boot}/module-sections.txt`));
  if (opts.modules !== false) f.push('--modules-dir', k('modules'));
  return f;
}

/** Source options object for one boot (in-process tests). */
export function sourceOptions(boot: Boot) {
  return {
    kallsyms: k(`boot-${boot}/kallsyms.xz`), systemMap: k('System.map.xz'), ranges: k('modules.builtin.ranges.xz'),
    builtin: k('modules.builtin'), modinfo: k('modules.builtin.modinfo'),
    linkerMap: [k('vmlinux.map.xz'), k('vmlinux.o.map.xz')],
    procModules: k(`boot-${boot}/proc-modules`), moduleSections: k(`boot-${boot}/module-sections.txt`),
    modulesDir: [k('modules')],
  };
}

export interface TruthRow { address: number; size: number; type: string; name: string; object: string | null; modules: string[] }

/** objname-truth.tsv: one row per System.map t/T symbol (link-time addresses as keys). */
export function vmlinuxTruth(keyFromHex: (s: string) => number): TruthRow[] {
  const rows: TruthRow[] = [];
  for (const l of readSourceFile(k('objname-truth.tsv.xz')).toString('latin1').split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const f = l.split('\t');
    rows.push({
      address: keyFromHex(f[0]!), size: Number(f[1]), type: f[2]!, name: f[3]!, object: f[6] === '-' ? null : f[6]!,
      modules: f[7] === '-' ? [] : f[7]!.split(',').sort(),
    });
  }
  return rows;
}
