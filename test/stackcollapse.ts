/**
 * FlameGraph's own stackcollapse-perf.pl (fixtures/flamegraph, verbatim), the reference that
 * `kallmod perf --fold` must fold like: run with perl, default options.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './kernel-fixture.js';

export const STACKCOLLAPSE = join(ROOT, 'fixtures/flamegraph/stackcollapse-perf.pl');

/** Null when perl runs the script; else why not, printed once under `label`. */
export function stackcollapseSkipReason(label: string): string | null {
  const r = spawnSync('perl', ['-c', STACKCOLLAPSE], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = `perl cannot run ${STACKCOLLAPSE}: ${(r.error?.message ?? r.stderr).trim().split('\n')[0]}`;
  console.log(`[${label}] skipped: ${why}`);
  return why;
}

/** Folded lines (`stack count`) summed per stack: kallmod writes one line per sample, the script one per stack. */
export function sumFolded(folded: Buffer | string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of (typeof folded === 'string' ? folded : folded.toString('latin1')).split('\n')) {
    if (!l) continue;
    const sp = l.lastIndexOf(' ');
    m.set(l.slice(0, sp), (m.get(l.slice(0, sp)) ?? 0) + Number(l.slice(sp + 1)));
  }
  return m;
}

/** What stackcollapse-perf.pl makes of perf script text (its "Unrecognized line" warnings dropped). */
export function stackcollapse(text: Buffer | string): Map<string, number> {
  const r = spawnSync('perl', [STACKCOLLAPSE], { input: text, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`stackcollapse-perf.pl: exit ${r.status}: ${r.stderr.toString().split('\n')[0]}`);
  return sumFolded(r.stdout);
}
