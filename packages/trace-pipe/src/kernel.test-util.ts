/** Test support: the real 6.12 kernel (fixtures/kernel-6.12), the shared check helpers (../shared/checks), the built CLI. Not shipped. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync, spawnSync } from 'node:child_process';
import { loadTable, type SymbolTable } from '@kallmod/core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../../..');
export const fixtures = resolve(root, 'fixtures/trace');
/** The real captures: the 6.12 kernel's boots in fixtures/kernel-6.12 (one copy in the repo). */
export const captures = resolve(root, 'fixtures/kernel-6.12');
/** The shared copy of the kernel data: what check_refs.py reads (uncompressed truth tables). */
export const K = resolve(SHARED, 'kernel');
export const CHECKS = resolve(SHARED, 'checks');
export const CLI = resolve(root, 'packages/cli/bin/kallmod');
export const BOOTS = ['nokaslr', 'kaslr'] as const;
export type Boot = (typeof BOOTS)[number];

/** Why the shared check helpers (check_refs.py, count_refs.py) cannot run here, printed under `label`; or null. */
export function pythonSkipReason(label: string): string | null {
  const why = sharedSkipReason(label, 'checks/check_refs.py', 'checks/count_refs.py', 'kernel/ko-objname-truth.tsv');
  if (why) return why;
  if (spawnSync('python3', ['-c', 'import lzma'], { stdio: 'ignore' }).status === 0) return null;
  const no = 'python3 (with lzma) not available for the shared check helpers';
  console.log(`[${label}] skipped: ${no}`);
  return no;
}

export function cliSkipReason(): string | null {
  return existsSync(resolve(root, 'packages/trace-pipe/dist/annotator.js')) ? null : 'trace-pipe not built (run npx tsc -b)';
}

/** The same sources as `ksources` in ../shared/checks/common.sh: one home, test/kernel-fixture.ts. */
export { sourceFlags, sourceOptions } from '../../../test/kernel-fixture.js';
import { SHARED, sharedSkipReason, sourceOptions } from '../../../test/kernel-fixture.js';

const tables = new Map<Boot, SymbolTable>();
export function kernelTable(boot: Boot): SymbolTable {
  let t = tables.get(boot);
  if (!t) { t = loadTable(sourceOptions(boot), () => {}).table; tables.set(boot, t); }
  return t;
}

export function runCli(args: string[], input: Buffer | string): { stdout: Buffer; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, maxBuffer: 256 << 20 });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

export function python(script: string, args: string[]): { out: string; status: number } {
  try {
    return { out: execFileSync('python3', [resolve(CHECKS, script), ...args], { encoding: 'utf8' }), status: 0 };
  } catch (e) {
    const x = e as { stdout?: string; status?: number };
    return { out: x.stdout ?? '', status: x.status ?? 1 };
  }
}

export function readFixture(rel: string): Buffer { return readFileSync(resolve(captures, rel)); }
