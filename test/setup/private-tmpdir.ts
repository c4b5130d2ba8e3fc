/**
 * One private TMPDIR per `vitest run` (every worker and every CLI a test spawns inherits it):
 * concurrent runs on one machine never meet in /tmp, and whatever a test leaves behind there
 * fails the run by name, instead of piling up (48 /tmp/kallmod-* after one run, once).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** test/shared-snapshot.ts's directory in the run's TMPDIR: it stays for the whole run. */
export const SHARED_SNAPSHOTS = 'kallmod-shared-snapshots';

export default function setup(): () => void {
  const outer = tmpdir();
  const root = mkdtempSync(join(outer, 'kallmod-test-run-'));
  process.env['KALLMOD_TEST_OUTER_TMPDIR'] = outer;
  process.env['TMPDIR'] = root;
  return () => {
    const left = readdirSync(root).filter((e) => e !== SHARED_SNAPSHOTS);
    rmSync(root, { recursive: true, force: true });
    if (!left.length) return;
    // vitest reports a teardown's throw but still exits 0
    console.error(`\nFAIL: tests left ${left.length} entr${left.length > 1 ? 'ies' : 'y'} in their TMPDIR (use test/temp-dir.ts): ${left.join(', ')}`);
    process.exitCode = 1;
  };
}
