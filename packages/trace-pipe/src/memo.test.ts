/**
 * The memos (core stream/line-memo.ts with its chained guesses, graph-memo.ts for function_graph
 * lines, the stack tracer's rows masked) change nothing: every real capture of both 6.12 boots,
 * repeated (so that lines are seen again) and its lines shuffled (so that graph lines meet other
 * parents, CPUs and depths), annotates to the same bytes, with the same consistency counts, as
 * with the memos off; and against the other boot's sources (printed sizes and addresses that
 * disagree: the warning's counts), too.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTS, captures, kernelTable, readFixture } from './kernel.test-util.js';
import { createAnnotator } from './annotator.js';
import { shuffledLines, withAndWithoutMemo } from '../../../test/memo-equivalence.js';

const all = (boot: string) => Buffer.concat(readdirSync(join(captures, `boot-${boot}`)).filter((f) => /^trace.*\.txt$/.test(f)).sort()
  .map((f) => readFixture(`boot-${boot}/${f}`)));

describe('trace line memos', () => {
  for (const boot of BOOTS) {
    const text = all(boot);
    const input = Buffer.concat([text, text, shuffledLines(text, 1), shuffledLines(text, 2), text]);
    it(`boot-${boot}: the same bytes and checks with the memos as without`, () => {
      const { memo, plain } = withAndWithoutMemo(createAnnotator, kernelTable(boot), input);
      expect(plain.out.length).toBeGreaterThan(input.length); // annotated at all
      expect(memo.out.equals(plain.out)).toBe(true);
      expect([memo.checked, memo.disagreed]).toEqual([plain.checked, plain.disagreed]);
    });
    it(`boot-${boot} text against the other boot's table: the same bytes and disagreements`, () => {
      const other = kernelTable(boot === 'kaslr' ? 'nokaslr' : 'kaslr');
      const { memo, plain } = withAndWithoutMemo(createAnnotator, other, input, { objname: 'always' });
      expect(plain.disagreed).toBeGreaterThan(0);
      expect(memo.out.equals(plain.out)).toBe(true);
      expect([memo.checked, memo.disagreed]).toEqual([plain.checked, plain.disagreed]);
    });
  }

  // HAND-WRITTEN (recognise.test.ts's graph lines): __e1000_shutdown is in [e1000] and [e1000e];
  // the enclosing call picks per CPU and depth, so one frame part meets other parents
  const graph = Buffer.from([
    ' 1)               |  e1000e_pm_suspend() {',
    ' 0)               |  pci_pm_suspend() {',
    ' 1)               |    __e1000_shutdown() {',
    ' 0)   0.300 us    |    __e1000_shutdown();',
    ' 1)   1.000 us    |    } /* __e1000_shutdown */',
    ' 1)   2.000 us    |  }',
    ' 1)   0.300 us    |  __e1000_shutdown();',
    ' 1)               |  e1000e_pm_suspend() {',
    ' 1)   ==========> |',
    ' 1)   0.300 us    |    __e1000_shutdown();',
    ' 1)   <========== |',
    ' 1)   0.300 us    |    __e1000_shutdown();',
    ' 1)    dd-1    =>    sh-2   ',
    ' 1)   0.300 us    |    __e1000_shutdown();',
    '',
  ].join('\n'));
  it('HAND-WRITTEN: a duplicated name under other parents: the same bytes with the graph memo as without', () => {
    const input = Buffer.concat([graph, graph, shuffledLines(graph, 4), graph, shuffledLines(graph, 5), shuffledLines(graph, 6)]);
    const { memo, plain } = withAndWithoutMemo(createAnnotator, kernelTable('kaslr'), input);
    expect(plain.out.toString()).toContain('__e1000_shutdown [e1000e]();');
    expect(plain.out.toString()).toContain('__e1000_shutdown {?');
    expect(memo.out.toString()).toBe(plain.out.toString());
  });
});
