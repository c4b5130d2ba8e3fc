/**
 * The native perf script rewriter must write exactly the bytes of the TS scan
 * (packages/perf-script/src/scan.ts, the reference): on seeded random perf-like text built from
 * a real kernel's table (every frame shape scan.ts knows, plus near misses), cut into chunks at
 * random line boundaries, in every --objname mode; and on every real perf fixture.
 * Skipped, with the reason printed, when the addon is not built or KALLMOD_NATIVE=0.
 * Runs on the built packages (npm test builds first).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTable, readSourceFile, type ObjnameMode, type SymbolTable } from '@kallmod/core';
import { createPerfRewriter, createPerfRewriterWhenWorthIt, NATIVE_AFTER_BYTES } from '@kallmod/core/native';
import { Scanner } from '@kallmod/perf-script/scan';
import { ROOT as root, sourceOptions } from '../../test/kernel-fixture.js';
import { nativeSkipReason } from '../../test/native-addon.js';
import { outerTmpdir } from '../../test/temp-dir.js';
import { perfText } from './perf-text.js';

const why = nativeSkipReason('native perf rewrite');

const MODES: ObjnameMode[] = ['ambiguous', 'always', 'never'];

let kernel: SymbolTable | null = null;
function kernelTable(): SymbolTable {
  kernel ??= loadTable(sourceOptions('nokaslr'), () => {}).table;
  return kernel;
}

/** Both paths on one input: the TS scan on the whole of it, native on chunks cut at `cuts`. */
function compareOn(table: SymbolTable, input: Buffer, mode: ObjnameMode, cuts: number[] = []): Buffer {
  const opts = { objname: mode, refs: false };
  const want = new Scanner(table, opts).chunk(input, 1);
  const ts = new Scanner(table, opts);
  const nat = createPerfRewriter(table, opts, (b, l) => ts.chunk(b, l))!;
  const parts: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, input.length]) {
    // cut at the line boundary at or after c, as the driver does
    let end = c >= input.length ? input.length : input.indexOf(10, c);
    end = end < 0 ? input.length : Math.min(input.length, end + 1);
    if (end <= at) continue;
    parts.push(nat.chunk(input.subarray(at, end), 1));
    at = end;
  }
  if (at < input.length) parts.push(nat.chunk(input.subarray(at), 1));
  const got = Buffer.concat(parts);
  if (!got.equals(want)) {
    const g = got.toString('latin1').split('\n'), w = want.toString('latin1').split('\n');
    const k = g.findIndex((l, j) => l !== w[j]);
    expect({ line: k + 1, native: g[k] }).toEqual({ line: k + 1, native: w[k] });
  }
  return want;
}

describe.skipIf(why !== null)('native perf rewrite = TS scan (kernel-6.12 table)', () => {
  it('seeded random perf-like text, random chunk cuts, every --objname mode', () => {
    const table = kernelTable();
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom(...MODES), (seed, cuts, mode) => {
      const input = perfText(table, seed, 300);
      compareOn(table, input, mode, cuts.map((c) => c % (input.length + 1)).sort((a, b) => a - b));
    }), { numRuns: 150 });
  }, 120000);

  it('a large seeded text in one chunk (symbols met across calls, output growth)', () => {
    const table = kernelTable();
    const input = perfText(table, 7, 60000);
    for (const mode of MODES) {
      const out = compareOn(table, input, mode);
      // the comparison means something only if the scan annotated: modules always, objnames unless never
      expect(out.length - input.length).toBeGreaterThan(mode === 'never' ? 10000 : 100000);
    }
  }, 120000);
});

describe.skipIf(why !== null)('the addon is taken only once it pays (KALLMOD_NATIVE unset)', () => {
  it(`TS for the first ${NATIVE_AFTER_BYTES >> 20} MiB, then native; the same bytes either way`, () => {
    const table = kernelTable();
    const opts = { objname: 'ambiguous' as const, refs: false };
    const text = perfText(table, 11, 20000);
    const chunks = Array.from({ length: Math.ceil((NATIVE_AFTER_BYTES * 1.5) / text.length) }, () => text);
    const ts = new Scanner(table, opts);
    // what the TS scan was handed: whole chunks while deferred, only the addon's leftovers after
    const handed: number[] = [];
    const saved = process.env['KALLMOD_NATIVE'];
    delete process.env['KALLMOD_NATIVE'];
    let rw;
    try { rw = createPerfRewriterWhenWorthIt(table, opts, (b, l) => { handed.push(b.length); return ts.chunk(b, l); })!; } finally {
      if (saved !== undefined) process.env['KALLMOD_NATIVE'] = saved;
    }
    const want = new Scanner(table, opts).chunk(text, 1);
    let seen = 0;
    for (const c of chunks) {
      const before = handed.length;
      const got = rw.chunk(c, 1);
      expect(got.equals(want)).toBe(true);
      seen += c.length;
      const tsBytes = handed.slice(before).reduce((a, b) => a + b, 0);
      if (seen < NATIVE_AFTER_BYTES) expect(tsBytes).toBe(c.length);
      else expect(tsBytes).toBeLessThan(c.length * 0.8);
    }
    expect(seen).toBeGreaterThan(NATIVE_AFTER_BYTES);
  }, 120000);

  it('a file known to be large (opts.inputSize) takes the addon from the first chunk', () => {
    const table = kernelTable();
    const text = perfText(table, 12, 5000);
    const ts = new Scanner(table, { objname: 'ambiguous', refs: false });
    let handed = 0;
    const saved = process.env['KALLMOD_NATIVE'];
    delete process.env['KALLMOD_NATIVE'];
    let rw;
    try {
      rw = createPerfRewriterWhenWorthIt(table, { objname: 'ambiguous', inputSize: NATIVE_AFTER_BYTES },
        (b, l) => { handed += b.length; return ts.chunk(b, l); })!;
    } finally {
      if (saved !== undefined) process.env['KALLMOD_NATIVE'] = saved;
    }
    expect(rw.chunk(text, 1).equals(new Scanner(table, { objname: 'ambiguous', refs: false }).chunk(text, 1))).toBe(true);
    expect(handed).toBeLessThan(text.length * 0.8);
  }, 120000);
});

/** Real `perf script` captures (fixtures/perf: `*.script.xz`, with the kallsyms of their boot). */
const FIX = join(root, 'fixtures/perf');
const fixtures = readdirSync(FIX).filter((f) => /\.script(\.xz)?$/.test(f)).sort();

describe.skipIf(why !== null)('native perf rewrite = TS scan (real fixtures)', () => {
  let own: SymbolTable | null = null;
  for (const f of fixtures) {
    it(`${f}: against its own kallsyms and the kernel-6.12 table`, () => {
      own ??= loadTable({ kallsyms: join(FIX, 'kallsyms.xz') }, () => {}).table;
      const input = readSourceFile(join(FIX, f));
      const cuts = [input.length >> 2, input.length >> 1, (3 * input.length) >> 2];
      for (const mode of MODES) {
        compareOn(own, input, mode, cuts);
        compareOn(kernelTable(), input, mode, cuts);
      }
    }, 60000);
  }
});

const live = join(outerTmpdir(), 'kallmod-checks/perf/p.txt'); // ../shared/checks/perf-live's profile
const liveWhy = why ?? (existsSync(live) && existsSync('/proc/kallsyms') ? null : `no live profile at ${live} (run ../shared/checks/perf-live)`);
if (!why && liveWhy) console.warn(`native perf rewrite on this machine's profile skipped: ${liveWhy}`);

describe.skipIf(liveWhy !== null)("native perf rewrite = TS scan (this machine's profile)", () => {
  it(`${live} against /proc/kallsyms`, () => {
    const { table } = loadTable({ kallsyms: '/proc/kallsyms' }, () => {});
    const input = readFileSync(live);
    for (const mode of MODES) compareOn(table, input, mode, [input.length >> 1]);
  }, 120000);
});
