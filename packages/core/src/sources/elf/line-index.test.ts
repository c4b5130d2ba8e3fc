/**
 * The exact range lookup (range-index.ts) and the precompiled line index (line-index.ts) of a
 * real gcc-linked program with nested inline functions (DWARF 5 and 4): built by SourceLines
 * after its first units, the index answers every byte of .text as the DWARF does, and a stale,
 * truncated or damaged index file, or one that cannot be written, never changes an answer.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openElf } from './index.js';
import { RangeIndex } from './range-index.js';
import { LINE_INDEX_FORMAT } from './line-index.js';
import { crc32Js } from '../../table/snapshot.js';
import { SourceLines, type LineIndexOptions } from './source-lines.js';

describe('RangeIndex (hand-made ranges: no DWARF file here nests this deep; the distro vmlinux nests none past the old look-back)', () => {
  it('finds the innermost of 40 nested ranges at every depth', () => {
    const starts = Array.from({ length: 40 }, (_, i) => 1000 + i), ends = starts.map((_, i) => 2000 - i), secs = starts.map(() => -1);
    const x = RangeIndex.of(secs, starts, ends);
    for (let d = 0; d < 40; d++) {
      expect(x.at(-1, 1000 + d)).toBe(d);
      expect(x.at(-1, 1999 - d)).toBe(d);
    }
    expect(x.at(-1, 1500)).toBe(39);
    expect(x.at(-1, 999)).toBe(-1);
    expect(x.at(-1, 2000)).toBe(-1);
    expect(x.at(0, 1500)).toBe(-1);
  });

  it('an outer range after 30 inner ones it holds (a fixed look-back of 16 missed it)', () => {
    const starts = [0, ...Array.from({ length: 30 }, (_, i) => 10 + i * 10)], ends = [1000, ...starts.slice(1).map((s) => s + 5)];
    const x = RangeIndex.of(starts.map(() => 7), starts, ends);
    expect(x.at(7, 900)).toBe(0);
    expect(x.at(7, 12)).toBe(1);
    expect(x.at(7, 17)).toBe(0);
    expect(x.at(7, 305)).toBe(0);
    expect(x.at(7, 300)).toBe(30);
  });

  it('overlapping (not nested) ranges: the last-starting one wins; sections apart; empty ranges hold nothing', () => {
    const x = RangeIndex.of([1, 1, 1, 2, 2], [0, 5, 8, 0, 3], [10, 15, 8, 4, 9]);
    expect([0, 4, 5, 9, 10, 14, 15].map((a) => x.at(1, a))).toEqual([0, 0, 1, 1, 1, 1, -1]);
    expect(x.at(1, 8)).toBe(1);
    expect([0, 2, 3, 8, 9].map((a) => x.at(2, a))).toEqual([3, 3, 4, 4, -1]);
  });
});

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE = which('gcc');
if (!HAVE) console.log('skipping line-index tests of gcc output: gcc not found in PATH');

// nested always_inline functions in three units: inline chains, a cold split, another section
const C = (n: number) => `
volatile int sink${n};
static inline __attribute__((always_inline)) int leaf${n}(int x) { sink${n} = x; return x * 7 + sink${n}; }
static inline __attribute__((always_inline)) int middle${n}(int x) {
  int r = leaf${n}(x + 1);
  if (r > 100) r -= leaf${n}(r);
  return r;
}
static inline __attribute__((always_inline)) int outer${n}(int x) { return middle${n}(x) + middle${n}(x * 2); }
__attribute__((noinline)) int work${n}(int k) {
  int s = 0;
  for (int i = 0; i < k; i++) s += outer${n}(i);
  if (__builtin_expect(k > 1000000, 0)) { sink${n} = s; __builtin_trap(); }
  return s;
}
__attribute__((noinline, section(".text.other"))) int other${n}(int x) { return middle${n}(x) ^ 5; }
`;
const MAIN = 'int work1(int), work2(int), work3(int), other1(int);\n'
  + 'int main(int argc, char **argv) { (void)argv; return work1(argc) + work2(argc) + work3(argc) + other1(argc); }\n';

describe.skipIf(!HAVE)('line index of a gcc-linked program', () => {
  let dir = '';
  const progs: Record<string, string> = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kallmod-line-index-'));
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `u${n}.c`), C(n));
    writeFileSync(join(dir, 'main.c'), MAIN);
    for (const dw of [4, 5]) {
      const out = join(dir, `prog${dw}`);
      execFileSync('gcc', ['-O2', `-gdwarf-${dw}`, '-Wl,--build-id', '-o', out, 'u1.c', 'u2.c', 'u3.c', 'main.c'], { cwd: dir, stdio: 'pipe' });
      progs[dw] = out;
    }
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  /** Every byte of the program's text sections. */
  function textAddrs(path: string): number[] {
    const o = openElf(path);
    const out: number[] = [];
    for (const s of o.symbols()) if (s.type === 'func' && s.size > 0) for (let a = 0; a < s.size; a++) out.push(s.value + a);
    o.close();
    return out;
  }
  const answers = (sl: SourceLines, addrs: number[]) => addrs.map((a) => JSON.stringify(sl.frames(a)));
  const lazy = (path: string, addrs: number[]) => { const sl = SourceLines.open(path); try { return answers(sl, addrs); } finally { sl.close(); } };
  const opts = (d: string, warnings: string[]): LineIndexOptions => ({
    dir: d, minInfoBytes: 0, buildAfterUnits: 2, warn: (f, m) => warnings.push(`${f}: ${m}`),
  });
  const indexFile = (d: string, path: string) => {
    const sl = SourceLines.open(path);
    try { return join(d, sl.buildId()!, 'lines.index'); } finally { sl.close(); }
  };

  for (const dw of [5, 4]) {
    it(`DWARF ${dw}: built after 2 units, then every byte of .text answered from it as from the DWARF`, () => {
      const p = progs[dw]!, addrs = textAddrs(p), want = lazy(p, addrs), d = join(dir, `cache${dw}`), w: string[] = [];
      expect(want.filter((x) => x.includes('},{')).length, 'some addresses are in inlined code').toBeGreaterThan(20);
      // the cold splits' rows (work1.cold, ...) have discriminators: the index keeps them
      expect(want.filter((x) => /"discriminator":[1-9]/.test(x)).length, 'some rows have a discriminator').toBeGreaterThan(5);
      const first = SourceLines.open(p, opts(d, w));
      expect(answers(first, addrs)).toEqual(want);
      expect(first.indexed).toBe(true);
      first.close();
      expect(existsSync(indexFile(d, p))).toBe(true);
      const again = SourceLines.open(p, opts(d, w));
      again.frames(addrs[0]!);
      expect(again.indexed, 'the second run starts from the index').toBe(true);
      expect(answers(again, addrs)).toEqual(want);
      again.close();
      expect(w).toEqual([]);
    });
  }

  it('not built before the threshold, nor without a directory, nor for small files by default', () => {
    const p = progs[5]!, d = join(dir, 'none'), addrs = textAddrs(p);
    const a = SourceLines.open(p, { dir: d, minInfoBytes: 0, buildAfterUnits: 1000 });
    answers(a, addrs);
    expect(a.indexed).toBe(false);
    a.close();
    const b = SourceLines.open(p, { dir: d });
    answers(b, addrs);
    expect(b.indexed).toBe(false);
    b.close();
    expect(existsSync(d)).toBe(false);
  });

  it('stale (the same build-id, another file size): rebuilt quietly; truncated or damaged: said once, rebuilt; answers unchanged', () => {
    const p = join(dir, 'copy'), d = join(dir, 'cache-bad');
    copyFileSync(progs[5]!, p);
    const addrs = textAddrs(p), want = lazy(p, addrs), w: string[] = [];
    const build = () => { const sl = SourceLines.open(p, opts(d, w)); const r = answers(sl, addrs); const ix = sl.indexed; sl.close(); return { r, ix }; };
    expect(build()).toEqual({ r: want, ix: true });
    const f = indexFile(d, p);
    const good = readFileSync(f);

    appendFileSync(p, Buffer.alloc(16)); // the ELF still reads the same; its size says another file
    const want2 = lazy(p, addrs);
    expect(want2).toEqual(want);
    expect(build()).toEqual({ r: want, ix: true });
    expect(w).toEqual([]);
    const good2 = readFileSync(f);
    expect(good2.equals(good)).toBe(false); // it names the new size

    truncateSync(f, good2.length - 100);
    expect(build()).toEqual({ r: want, ix: true });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/lines\.index: line index damaged \(truncated \(\d+ of \d+ bytes\)\): rebuilt$/);
    expect(readFileSync(f).equals(good2)).toBe(true);

    const bad = Buffer.from(good2);
    bad[200] ^= 0xff; // in the first unit's block: found when that block is first read
    writeFileSync(f, bad);
    w.length = 0;
    expect(build()).toEqual({ r: want, ix: true });
    expect(w).toEqual([`${f}: line index damaged (unit 0: checksum): rebuilt`]);
    expect(readFileSync(f).equals(good2)).toBe(true);

    writeFileSync(f, 'not an index at all');
    w.length = 0;
    expect(build()).toEqual({ r: want, ix: true });
    expect(w).toEqual([`${f}: line index damaged (truncated (19 bytes)): rebuilt`]);
  });

  it(`an index of the previous format (${LINE_INDEX_FORMAT - 1}: no discriminators) is stale: rebuilt quietly, answers with discriminators`, () => {
    const p = progs[5]!, d = join(dir, 'cache-old'), addrs = textAddrs(p), want = lazy(p, addrs), w: string[] = [];
    const sl = SourceLines.open(p, opts(d, w));
    answers(sl, addrs);
    sl.close();
    const f = indexFile(d, p);
    const good = readFileSync(f);
    expect(good.readUInt32LE(8)).toBe(LINE_INDEX_FORMAT);
    // the header as the previous format wrote it: its number, its checksum (the layout behind it is never read)
    const old = Buffer.from(good);
    old.writeUInt32LE(LINE_INDEX_FORMAT - 1, 8);
    old.writeUInt32LE(crc32Js(old.subarray(0, 124)), 124);
    writeFileSync(f, old);
    const again = SourceLines.open(p, opts(d, w));
    expect(answers(again, addrs)).toEqual(want);
    expect(again.indexed).toBe(true);
    again.close();
    expect(w).toEqual([]);
    expect(readFileSync(f).equals(good), 'rebuilt in the current format').toBe(true);
    expect(want.some((x) => /"discriminator":[1-9]/.test(x))).toBe(true);
  });

  it('a cache directory that cannot be written: said once, answers from the DWARF', () => {
    const p = progs[5]!, addrs = textAddrs(p), want = lazy(p, addrs), w: string[] = [];
    const d = join(dir, 'a-file');
    writeFileSync(d, 'x');
    const sl = SourceLines.open(p, opts(d, w));
    expect(answers(sl, addrs)).toEqual(want);
    expect(sl.indexed).toBe(false);
    sl.close();
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/lines\.index: line index not written \((ENOTDIR|EEXIST)\): source lines from the DWARF$/);
  });
});
