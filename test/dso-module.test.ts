/**
 * kallmod perf --dso-module: `([kernel.kallsyms])` gains the frame's module, as one token that
 * still starts with `[` and contains `kallsyms`; nothing else changes, and the native path
 * (which leaves the flag to the TypeScript scanner) gives the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, k, sourceFlags } from './kernel-fixture.js';
import { nativeSkipReason } from './native-addon.js';
import { perfTextFrom612Dmesg, perfTextFrom612Stacktraces } from './perf-from-stacktraces.js';
import { sharedSnapshot } from './shared-snapshot.js';
import { tempDir } from './temp-dir.js';

const dir = tempDir('dso-module');
const src = sharedSnapshot(sourceFlags('kaslr'));

function kallmod(args: string[], env: Record<string, string> = {}): Buffer {
  const r = spawnSync(CLI, args, { maxBuffer: 1 << 30, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`kallmod ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function text612(): string {
  const f = join(dir(), 'stacks-612.perf');
  writeFileSync(f, perfTextFrom612Stacktraces().text + perfTextFrom612Dmesg().text);
  return f;
}

it('6.12: a built-in module frame names its module in the dso; loadable and core frames keep theirs', () => {
  const f = text612();
  const plain = kallmod(['perf', ...src(), f]).toString('latin1');
  const dso = kallmod(['perf', '--dso-module', ...src(), f]).toString('latin1');
  const refs = kallmod(['perf', '--refs', ...src(), f]).toString('utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { line: number; modules: string[]; ambiguous: boolean });
  const p = plain.split('\n'), d = dso.split('\n');
  expect(d.length).toBe(p.length);
  let changed = 0;
  for (const r of refs) {
    const want = r.ambiguous || r.modules.length === 0 || !p[r.line - 1]!.endsWith('([kernel.kallsyms])')
      ? p[r.line - 1]
      : p[r.line - 1]!.replace(/\(\[kernel\.kallsyms\]\)$/, `([kernel.kallsyms:${r.modules.join(',')}])`);
    expect(d[r.line - 1]).toBe(want);
    if (want !== p[r.line - 1]) changed++;
  }
  expect(changed).toBeGreaterThan(5); // lkdtm's frames (built-in) at least
  expect(dso).toContain('([kernel.kallsyms:lkdtm])');
  expect(dso).toContain('([null_blk])'); // perf named the loadable module already
  // every other line is the same; every dso still one token, `[`, `kallsyms`
  for (let i = 0; i < p.length; i++) if (!refs.some((r) => r.line === i + 1)) expect(d[i]).toBe(p[i]);
  for (const m of dso.matchAll(/\((\[[^)]*kallsyms[^)]*\])\)$/gm)) expect(m[1]).toMatch(/^\[[^\s\]]*kallsyms[^\s\]]*\]$/);
});

it('this machine\'s capture (no modules): --dso-module changes nothing; --fold keeps working', () => {
  const f = join(dir(), 'system-g.perf');
  writeFileSync(f, spawnSync('xz', ['-dc', join(k('..'), 'perf/system-g.script.xz')], { maxBuffer: 1 << 30 }).stdout);
  const ks = ['--kallsyms', join(k('..'), 'perf/kallsyms.xz')];
  expect(kallmod(['perf', '--dso-module', ...ks, f]).equals(kallmod(['perf', ...ks, f]))).toBe(true);
  expect(kallmod(['perf', '--dso-module', '--fold', ...ks, f]).equals(kallmod(['perf', '--fold', ...ks, f]))).toBe(true);
});

const why = nativeSkipReason('dso-module native');
describe.skipIf(why !== null)('--dso-module: the same bytes with KALLMOD_NATIVE=1 and 0', () => {
  it('6.12 text and this machine\'s capture', () => {
    const f = text612();
    const a = kallmod(['perf', '--dso-module', ...src(), f], { KALLMOD_NATIVE: '1' });
    const b = kallmod(['perf', '--dso-module', ...src(), f], { KALLMOD_NATIVE: '0' });
    expect(a.equals(b)).toBe(true);
    expect(a.toString('latin1')).toContain('kallsyms:lkdtm');
    const g = join(dir(), 'system-g.perf');
    writeFileSync(g, spawnSync('xz', ['-dc', join(k('..'), 'perf/system-g.script.xz')], { maxBuffer: 1 << 30 }).stdout);
    const ks = ['--kallsyms', join(k('..'), 'perf/kallsyms.xz')];
    const n1 = kallmod(['perf', '--dso-module', ...ks, g], { KALLMOD_NATIVE: '1' });
    expect(n1.equals(kallmod(['perf', '--dso-module', ...ks, g], { KALLMOD_NATIVE: '0' }))).toBe(true);
  });
});
