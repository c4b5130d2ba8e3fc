/**
 * The line memo (core stream/line-memo.ts, with its chained guesses) changes nothing: the real
 * LKDTM oopses of both 6.12 boots, repeated and shuffled, annotate to the same bytes with the
 * same consistency counts as with the memo off, also against the other boot's sources.
 */
import { describe, expect, it } from 'vitest';
import { kernelTable, readFixture } from '../../trace-pipe/src/kernel.test-util.js';
import { createAnnotator } from './annotator.js';
import { shuffledLines, withAndWithoutMemo } from '../../../test/memo-equivalence.js';

describe('dmesg line memo', () => {
  for (const boot of ['nokaslr', 'kaslr'] as const) {
    const text = readFixture(`boot-${boot}/dmesg.txt`);
    const input = Buffer.concat([text, text, shuffledLines(text, 3), text]);
    for (const [label, tableBoot] of [['its own', boot], ["the other boot's", boot === 'kaslr' ? 'nokaslr' : 'kaslr']] as const) {
      it(`boot-${boot} against ${label} sources: the same bytes and checks with the memo as without`, () => {
        const { memo, plain } = withAndWithoutMemo(createAnnotator, kernelTable(tableBoot), input, { extra: { place: 'after' } });
        expect(plain.out.length).toBeGreaterThan(input.length);
        expect(memo.out.equals(plain.out)).toBe(true);
        expect([memo.checked, memo.disagreed]).toEqual([plain.checked, plain.disagreed]);
      });
    }
  }
});
