import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shortestSuffixes } from './symbol-table.js';
import { SymbolCache } from './symbol-cache.js';

/** The definition, spelled out: every path suffix of every objname, counted over all of them. */
function reference(objnames: string[]): string[] {
  const count = new Map<string, number>();
  const suffixes = objnames.map((o) => {
    const parts = o.split('/');
    const out: string[] = [];
    for (let i = parts.length - 1; i >= 0; i--) out.push(parts.slice(i).join('/'));
    return out;
  });
  for (const list of suffixes) for (const s of list) count.set(s, (count.get(s) ?? 0) + 1);
  return suffixes.map((list, i) => list.find((s) => count.get(s) === 1) ?? objnames[i]!);
}

describe('shortestSuffixes (the {obj.o} kallmodsyms prints)', () => {
  it('kernel-like paths: the basename when unique, else as deep as needed', () => {
    expect(shortestSuffixes(['fs/ext4/inode.o', 'fs/xfs/inode.o', 'mm/slub.o', 'drivers/a/x/y.o', 'drivers/b/x/y.o']))
      .toEqual(['ext4/inode.o', 'xfs/inode.o', 'slub.o', 'a/x/y.o', 'b/x/y.o']);
  });

  it('equals the definition on random paths (shared segments, leading and double slashes, repeats)', () => {
    const seg = fc.constantFrom('', 'a', 'b', 'fs', 'x.o', 'y.o', 'init.o');
    const path = fc.array(seg, { minLength: 1, maxLength: 5 }).map((p) => p.join('/'));
    fc.assert(fc.property(fc.array(path, { maxLength: 40 }), (objnames) => {
      expect(shortestSuffixes(objnames)).toEqual(reference(objnames));
    }), { numRuns: 500 });
  });
});

describe('SymbolCache (per-symbol memo in pages)', () => {
  it('keeps every value apart, across pages and up to the last symbol', () => {
    const n = 1500; // not a multiple of the page size
    const c = new SymbolCache<string>(n);
    expect(c.get(0)).toBeUndefined();
    expect(c.get(n - 1)).toBeUndefined();
    for (let i = 0; i < n; i += 7) expect(c.set(i, `s${i}`)).toBe(`s${i}`);
    c.set(n - 1, 'last');
    for (let i = 0; i < n - 1; i++) expect(c.get(i)).toBe(i % 7 === 0 ? `s${i}` : undefined);
    expect(c.get(n - 1)).toBe('last');
    // a fresh cache shares nothing with the first one (the empty page is never written)
    expect(new SymbolCache<string>(n).get(7)).toBeUndefined();
  });
});
