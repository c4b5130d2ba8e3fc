import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NameIndex, NameStore } from './name-store.js';

/** The same names over a string (parsed files) and over bytes (a snapshot): the same answers. */
describe('NameStore: text and bytes backings agree', () => {
  const name = fc.stringMatching(/^[_a-z0-9.$]{0,12}$/);
  it('get, equals, same, hasPrefix, hash, compact, the by-name index', () => {
    fc.assert(fc.property(fc.array(fc.oneof(name, fc.constantFrom('__pfx_x', '__cfi_y', 'init_once', '')), { maxLength: 60 }), (names) => {
      const text = NameStore.fromArray(names);
      const c = text.compact();
      const bytes = NameStore.fromCompact(c.bytes, c.ends);
      expect([...bytes]).toEqual(names);
      expect(bytes.compact().bytes.equals(c.bytes)).toBe(true);
      const ti = new NameIndex(text), bi = new NameIndex(bytes);
      for (let i = 0; i < names.length; i++) {
        expect(bytes.hash(i)).toBe(text.hash(i));
        expect(bytes.hash(i)).toBe(NameStore.hashString(names[i]!));
        for (const p of ['__pfx_', '__cfi_', 'init', names[i]!, `${names[i]}x`]) expect(bytes.hasPrefix(i, p)).toBe(names[i]!.startsWith(p));
        expect(bi.sameName(i)).toEqual(names.flatMap((n, j) => (n === names[i] ? [j] : [])));
        expect(bi.sameName(i)).toEqual(ti.sameName(i));
        expect(bi.find(names[i]!)).toEqual(ti.find(names[i]!));
        for (let j = 0; j < names.length; j += 3) {
          expect(bytes.same(i, j)).toBe(names[i] === names[j]);
          expect(bytes.equals(i, names[j]!)).toBe(names[i] === names[j]);
          expect(text.same(i, j)).toBe(names[i] === names[j]);
        }
      }
    }), { numRuns: 200 });
  });
});
