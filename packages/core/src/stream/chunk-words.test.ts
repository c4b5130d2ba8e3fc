/**
 * ChunkWords answers what a per-line `includes` answers, also for words found by their tail
 * (anchor > 0): on the real dmesg of the 6.12 boot (fixtures/kernel-6.12) and HAND-WRITTEN lines
 * where the tail occurs without the word's head, twice in a line, or across a line end.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkWords } from './chunk-words.js';

const ROOT = join(import.meta.dirname, '../../../..');
const words = ['+0x', 'Workqueue:', '[inline]', ' from '];

function check(text: Buffer, anchors: number[]): number {
  const cw = new ChunkWords(words, anchors);
  let found = 0;
  for (let p = 0; p < text.length;) {
    let nl = text.indexOf(10, p);
    if (nl < 0) nl = text.length;
    cw.line(text, p);
    const line = text.subarray(p, nl).toString('latin1');
    words.forEach((w, k) => {
      expect(cw.within(k, p, nl)).toBe(line.includes(w));
      if (line.includes(w)) found++;
    });
    p = nl + 1;
  }
  return found;
}

describe('ChunkWords', () => {
  it('real dmesg: the same answers with and without anchors', () => {
    const text = readFileSync(join(ROOT, 'fixtures/kernel-6.12/boot-kaslr/dmesg.txt'));
    expect(check(text, [])).toBeGreaterThan(40);
    expect(check(text, [0, 4, 1, 2])).toBe(check(text, []));
  });
  it('HAND-WRITTEN: tails without their heads, repeated, at line ends', () => {
    const text = Buffer.from([
      'xqueue: yqueue: Workqueue: events', 'inline] [inline', '[x][inline]', 'from  from x', 'rom from', ' from',
      'Work', 'queue: [', 'inline]', ' fro', 'm ', '+0', 'x', 'Workqueue:', '',
    ].join('\n'));
    expect(check(text, [0, 4, 1, 2])).toBe(check(text, []));
    expect(check(text, [0, 4, 1, 2])).toBe(4);
  });
});
