/**
 * `kallmod perf --fold`. At the end of the input: `perf script | head -N` ends on a sample's last
 * frame with no blank line after it, and that sample must be folded too. Real capture
 * (fixtures/perf/system-g.script), cut with head; the built CLI as file (inline and a 2-worker
 * pool) and as a pipe (live). And against FlameGraph's stackcollapse-perf.pl (fixtures/flamegraph)
 * on HAND-WRITTEN samples for two rules the real fixtures show only in bulk: a stack weighs its
 * sample's period, and lines before any sample header fold to nothing (perf-script.test.ts
 * compares the two on every real perf fixture).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSourceFile } from '@kallmod/core';
import fc from 'fast-check';
import { Folder, samplePeriod } from './fold.js';
import { CLI, ROOT as root } from '../../../test/kernel-fixture.js';
import { stackcollapse, stackcollapseSkipReason, sumFolded } from '../../../test/stackcollapse.js';
import { tempDir } from '../../../test/temp-dir.js';

const KALLSYMS = join(root, 'fixtures/perf/kallsyms.xz');
const tmp = tempDir('fold');

const fold = (args: string[], input?: Buffer) => execFileSync(CLI, ['perf', '--fold', '--kallsyms', KALLSYMS, ...args], { input, maxBuffer: 1 << 28 })
  .toString('latin1').split('\n').filter(Boolean);

describe('--fold on input cut after a sample without its blank line', () => {
  const full = readSourceFile(join(root, 'fixtures/perf/system-g.script.xz'));
  const whole = join(tmp(), 'whole.script');
  writeFileSync(whole, full);
  const reference = fold([whole]);
  // cut after ~2.5 MB (three 1 MiB chunks, so a pool gets several), at the end of a sample: the
  // line before a blank one, as `head -N` leaves it
  const blank = full.indexOf('\n\n', 2_500_000);
  const cut = full.subarray(0, blank + 1);
  const samples = cut.toString('latin1').split('\n\n').length;
  const file = join(tmp(), 'head.script');
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

const noPerl = stackcollapseSkipReason('fold rules = stackcollapse-perf.pl');
const folder = (text: string) => { const f = new Folder(); return sumFolded(f.fold(text) + f.end()); };

describe.skipIf(!!noPerl)('Folder follows stackcollapse-perf.pl', () => {
  it('each stack weighs its period when the header prints one, else 1', () => {
    const text = [
      'dd  1234 [000]   1.5:  250000 cpu-clock:ppp: ', '\tffffffff81000010 vfs_read+0x10 ([kernel.kallsyms])', '',
      'dd  1234 [000]   1.6:  1000 cpu-clock:ppp: ', '\tffffffff81000010 vfs_read+0x14 ([kernel.kallsyms])', '',
      'dd  1234 [000]   1.7: ', '\tffffffff81000010 vfs_read+0x18 ([kernel.kallsyms])', '',
    ].join('\n') + '\n';
    expect(folder(text)).toEqual(stackcollapse(text));
    expect(folder(text)).toEqual(new Map([['dd;vfs_read', 251001]]));
  });

  it('frames with no sample header before them (perf script -F ip,sym,dso) fold to nothing', () => {
    const text = ['\tffffffff81000010 vfs_read+0x10 ([kernel.kallsyms])', '', 'cat 1 [000] 1.0: 1 cpu-clock: ',
      '\tffffffff81000010 ksys_read+0x1 ([kernel.kallsyms])', ''].join('\n') + '\n';
    expect(folder(text)).toEqual(stackcollapse(text));
    expect(folder(text)).toEqual(new Map([['cat;ksys_read', 1]]));
  });
});

describe('samplePeriod reads what the script\'s period pattern reads', () => {
  it('on random short lines over the characters it cares about (the regex is the spec)', () => {
    const PERIOD = /:\s*(\d+)*\s+(\S+):\s*$/;
    const perl = (l: string) => Number(PERIOD.exec(l)?.[1] ?? 0) || 1;
    const chars = [' ', ' ', '\t', '\r', '\xa0', ':', ':', ':', '0', '1', '25', 'a', 'cycles', '/', '-'];
    const line = fc.array(fc.constantFrom(...chars), { maxLength: 24 }).map((a) => a.join(''));
    fc.assert(fc.property(line, (l) => { expect(samplePeriod(l)).toBe(perl(l)); }), { numRuns: 20_000 });
    expect(samplePeriod('cat  1234 [000]   1.5:  250000 cpu-clock:ppp: ')).toBe(250000);
  });
  it('in linear time: a 10 MB header of colons and spaces', () => {
    const l = `cat 1 [000] 1.0:${' :'.repeat(5 << 20)}`;
    const t0 = performance.now();
    samplePeriod(l);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

