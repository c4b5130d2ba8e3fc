import { describe, expect, it } from 'vitest';
import { CallchainScanner } from './json-scan.js';

// hand-written: chunk boundaries a stream can produce, around a string escape
describe('CallchainScanner across chunk boundaries', () => {
  const run = (chunks: string[]) => {
    const seen: string[] = [];
    const sc = new CallchainScanner((e, _l, out) => { seen.push(e.toString('latin1')); out.bytes(e, 0, e.length); });
    const out = chunks.map((c) => sc.push(Buffer.from(c, 'latin1')).toString('latin1')).join('');
    return { out, seen };
  };
  it('keeps an escape pending over an empty buffer', () => {
    const doc = ['{"a":"x\\', '', '"", "callchain":[{"ip":1}]}'];
    const { out, seen } = run(doc);
    expect(seen).toEqual(['{"ip":1}']);
    expect(out).toBe(doc.join(''));
  });
  it('finds the same entries whatever the cut', () => {
    const doc = '{"s":"q\\"callchain\\"","callchain":[{"ip":"a\\\\"},{"ip":2}],"x":[1,{"callchain":[{"ip":3}]}]}';
    const whole = run([doc]);
    for (let cut = 0; cut <= doc.length; cut++) {
      const r = run([doc.slice(0, cut), '', doc.slice(cut)]);
      expect(r.seen, `cut ${cut}`).toEqual(whole.seen);
      expect(r.out).toBe(doc);
    }
    expect(whole.seen).toEqual(['{"ip":"a\\\\"}', '{"ip":2}', '{"ip":3}']);
  });
});
