/**
 * `kallmod perf --fold` at the end of the input: `perf script | head -N` ends on a sample's last
 * frame with no blank line after it, and that sample must be folded too. Real capture
 * (fixtures/perf/system-g.script), cut with head; the built CLI as file (inline and a 2-worker
 * pool) and as a pipe (live).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSourceFile } from '@kallmod/core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(root, 'packages/cli/bin/kallmod');
const KALLSYMS = join(root, 'fixtures/perf/kallsyms.xz');
const tmp = mkdtempSync(join(tmpdir(), 'kallmod-fold-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fold = (args: string[], input?: Buffer) =>
  execFileSync(CLI, ['perf', '--fold', '--kallsyms', KALLSYMS, ...args], { input, maxBuffer: 1 << 28 }).toString('latin1').split('\n').filter(Boolean);

describe('--fold on input cut after a sample without its blank line', () => {
  const full = readSourceFile(join(root, 'fixtures/perf/system-g.script.xz'));
  const whole = join(tmp, 'whole.script');
  writeFileSync(whole, full);
  const reference = fold([whole]);
  // cut after ~2.5 MB (three 1 MiB chunks, so a pool gets several), at the end of a sample: the
  // line before a blank one, as `head -N` leaves it
  const blank = full.indexOf('\n\n', 2_500_000);
  const cut = full.subarray(0, blank + 1);
  const samples = cut.toString('latin1').split('\n\n').length;
  const file = join(tmp, 'head.script');
  writeFileSync(file, cut);

  it('the real capture ends its samples with blank lines: the cut file holds whole samples only', () => {
    expect(cut.subarray(-2).toString()).not.toBe('\n\n');
    expect(samples).toBeGreaterThan(1000);
    expect(reference.length).toBeGreaterThan(samples);
  });
  for (const [how, args, input] of [['a file, inline', ['-j', '1', file]], ['a file, 2 workers', ['-j', '2', file]], ['a pipe', [], cut]] as const) {
    it(`every sample is folded, the last one too: ${how}`, () => {
      const got = fold([...args], input as Buffer | undefined);
      expect(got.length).toBe(samples);
      expect(got).toEqual(reference.slice(0, samples));
    });
  }
});
