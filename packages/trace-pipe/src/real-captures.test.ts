/**
 * Every real ftrace capture of the 6.12 kernel (fixtures/kernel-6.12, both boots), through the
 * built CLI with that kernel's sources: byte passthrough, recognition >= the shared count_refs.py
 * floor, and every checkable reference right (the shared check_refs.py against the truth tables).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BOOTS, K, captures, cliSkipReason, python, pythonSkipReason, readFixture, runCli, sourceFlags } from './kernel.test-util.js';
import { sharedSkipReason } from '../../../test/kernel-fixture.js';
import { withTempDir } from '../../../test/temp-dir.js';

const skip = cliSkipReason();
if (skip) console.log(`[trace real captures] skipped: ${skip}`);
const pySkip = skip ?? pythonSkipReason('trace real captures: truth checks');
const sharedSkip = sharedSkipReason('trace real captures: fixtures = shared copy', 'kernel/boot-kaslr', 'kernel/boot-nokaslr');

/** passthrough.py in TS: same lines, each original line a subsequence of its annotated line. */
function passthroughViolations(orig: Buffer, ann: Buffer): string[] {
  const split = (b: Buffer) => {
    const out: Buffer[] = [];
    let p = 0;
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, p)) { out.push(b.subarray(p, i)); p = i + 1; }
    out.push(b.subarray(p));
    return out;
  };
  const a = split(orig), b = split(ann);
  if (a.length !== b.length) return [`line count ${b.length} != ${a.length}`];
  const bad: string[] = [];
  a.forEach((o, i) => {
    const n = b[i]!;
    let j = 0;
    for (let k = 0; k < n.length && j < o.length; k++) if (n[k] === o[j]) j++;
    if (j < o.length) bad.push(`line ${i + 1}`);
  });
  return bad;
}

for (const boot of BOOTS) {
  describe.skipIf(!!skip)(`real captures, boot-${boot}`, () => {
    const files = skip ? [] : readdirSync(resolve(captures, `boot-${boot}`)).filter((f) => f.startsWith('trace')).sort();
    const all = skip ? Buffer.alloc(0) : Buffer.concat(files.map((f) => readFixture(`boot-${boot}/${f}`)));

    it.skipIf(!!sharedSkip)('the fixtures are the shared captures, verbatim', () => {
      for (const f of files) expect(readFixture(`boot-${boot}/${f}`).equals(readFileSync(join(K, `boot-${boot}`, f)))).toBe(true);
    });

    it('passes every byte through, line for line', () => {
      const r = runCli(['trace', ...sourceFlags(boot)], all);
      expect(r.status, r.stderr).toBe(0);
      expect(passthroughViolations(all, r.stdout)).toEqual([]);
      expect(r.stdout.length).toBeGreaterThan(all.length); // something was annotated
    });

    it.skipIf(!!pySkip)('recognises at least the count_refs floor, and every checkable ref is right', () => withTempDir('trace', (dir) => {
      const input = join(dir, 'in.txt'), refs = join(dir, 'refs.jsonl');
      writeFileSync(input, all);
      const floor = Number(python('count_refs.py', ['trace', input]).out.trim());
      expect(floor).toBeGreaterThan(300);
      const r = runCli(['trace', '--refs', ...sourceFlags(boot)], all);
      expect(r.status, r.stderr).toBe(0);
      writeFileSync(refs, r.stdout);
      const c = python('check_refs.py', [boot, K, refs, '--expect', String(floor)]);
      console.log(`[trace real captures] ${boot}: ${c.out.trim().split('\n').pop()}`);
      expect(c.status, c.out).toBe(0);
    }));

    it('the worker pool (-j 2, big file cut at record boundaries) writes what inline (-j 1) writes', () => withTempDir('trace', (dir) => {
      const big = join(dir, 'big.txt');
      writeFileSync(big, Buffer.concat(Array.from({ length: 150 }, () => all)));
      const a = runCli(['trace', '-j', '2', ...sourceFlags(boot), big], '');
      const b = runCli(['trace', '-j', '1', ...sourceFlags(boot), big], '');
      expect(a.status, a.stderr).toBe(0);
      expect(a.stdout.equals(b.stdout)).toBe(true);
    }));

    it.skipIf(!!pySkip)('each capture on its own (FILE argument): at least its floor, all resolved', () => withTempDir('trace', (dir) => {
      for (const f of files) {
        const input = join(dir, f);
        writeFileSync(input, readFixture(`boot-${boot}/${f}`));
        const floor = Number(python('count_refs.py', ['trace', input]).out.trim());
        const r = runCli(['trace', '--refs', ...sourceFlags(boot), input], '');
        expect(r.status, r.stderr).toBe(0);
        const refs = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { symbolAddress: string | null });
        expect(refs.length, f).toBeGreaterThanOrEqual(floor);
        expect(refs.filter((x) => x.symbolAddress === null), f).toEqual([]);
      }
    }), 180_000); // a CLI run per capture, each building the table from raw sources: 15-36 s alone, over 60 s at load 12
  });
}
