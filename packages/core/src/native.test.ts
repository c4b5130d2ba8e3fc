/**
 * The native addon must give the TS path's answers: lookupBatch vs SymbolTable.lookupKey on
 * random tables and queries (fast-check) and on a real kallsyms. The perf rewriter's byte-for-byte
 * comparison lives with the perf transformer's tests (native/test/perf-rewrite.test.ts).
 * Skipped, with the reason printed, when the addon is not built or KALLMOD_NATIVE=0.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countLines, nativeTable } from './native.js';
import { KERNEL_BASE, keyFromHex } from './address.js';
import { SymbolTable, F_EXACT_SIZE, type TableData } from './table/symbol-table.js';
import { loadTable } from './load.js';
import { k } from '../../../test/kernel-fixture.js';
import { nativeSkipReason } from '../../../test/native-addon.js';

const why = nativeSkipReason('native lookups');
const kallsyms = k('boot-nokaslr/kallsyms.xz');

const TYPES = [...'tTtTtTwWdDbBrRaA'].map((c) => c.charCodeAt(0));

/** A TableData from sorted keys: only the fields lookups read vary. */
function tableData(keys: number[], ksizes: number[], flags: number[], exact: number[], types: number[]): TableData {
  const n = keys.length;
  return {
    keys: Float64Array.from(keys), ksizes: Float64Array.from(ksizes), exactSizes: Float64Array.from(exact),
    nameIds: new Uint32Array(n), names: ['s'], types: Uint8Array.from(types), modSetIds: new Uint32Array(n),
    modSets: [[]], objIds: new Int32Array(n).fill(-1), objnames: [], flags: Uint8Array.from(flags),
    modSrc: new Uint8Array(n), objSrc: new Uint8Array(n), provenance: ['test'],
  };
}

/** Random symbols: kernel-half runs with aliases, unknown sizes, exact sizes, a few user-half absolutes. */
const arbTable = fc.record({
  user: fc.array(fc.integer({ min: 0, max: 1 << 20 }), { maxLength: 4 }),
  gaps: fc.array(fc.record({
    gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 1 << 16 })),
    ksize: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8192 })),
    exact: fc.option(fc.integer({ min: 0, max: 4096 }), { nil: null }),
    type: fc.constantFrom(...TYPES),
  }), { minLength: 0, maxLength: 300 }),
}).map(({ user, gaps }) => {
  const keys: number[] = [], ks: number[] = [], fl: number[] = [], ex: number[] = [], ty: number[] = [];
  for (const u of [...user].sort((a, b) => a - b)) { keys.push(u); ks.push(0); fl.push(0); ex.push(0); ty.push(97); }
  let k = keyFromHex('ffffffff81000000');
  for (const g of gaps) {
    k += g.gap;
    keys.push(k); ks.push(g.ksize); fl.push(g.exact === null ? 0 : F_EXACT_SIZE); ex.push(g.exact ?? 0); ty.push(g.type);
  }
  return tableData(keys, ks, fl, ex, ty);
});

function queriesFor(d: TableData, extra: number[]): Float64Array {
  const q: number[] = [NaN, -1, 0, 2 ** 53, KERNEL_BASE - 1, KERNEL_BASE, ...extra];
  for (let i = 0; i < d.keys.length; i++) {
    const k = d.keys[i]!, s = d.ksizes[i]!;
    q.push(k, k - 1, k + 1, k + s - 1, k + s, k + 4095, k + 4096, k + d.exactSizes[i]!, k + d.exactSizes[i]! - 1);
  }
  return Float64Array.from(q);
}

function compare(table: SymbolTable, keys: Float64Array): void {
  const nt = nativeTable(table)!;
  const out = new Int32Array(keys.length).fill(-7);
  nt.lookupBatch(keys, out);
  for (let i = 0; i < keys.length; i++) {
    const want = table.lookupKey(keys[i]!);
    if (out[i] !== want) expect({ key: keys[i], native: out[i] }).toEqual({ key: keys[i], native: want });
  }
}

describe.skipIf(why !== null)('native lookupBatch = SymbolTable.lookupKey', () => {
  it('random tables and queries', () => {
    fc.assert(fc.property(arbTable, fc.array(fc.double({ noNaN: false }), { maxLength: 50 }), (d, extra) => {
      const t = new SymbolTable(d);
      compare(t, queriesFor(d, extra));
    }), { numRuns: 300 });
  });

  it('the empty table', () => {
    const t = new SymbolTable(tableData([], [], [], [], []));
    compare(t, Float64Array.from([NaN, 0, KERNEL_BASE, 2 ** 52]));
  });

  it('a real kallsyms (boot-nokaslr of fixtures/kernel-6.12)', () => {
    const { table } = loadTable({ kallsyms }, () => {});
    expect(table.length).toBeGreaterThan(10000);
    const d = table.d;
    const q = Array.from(queriesFor(d, []));
    // plus uniform random addresses over the kernel text span
    const lo = d.keys[0]!, hi = d.keys[d.keys.length - 1]! + 8192;
    let seed = 12345;
    for (let i = 0; i < 200000; i++) { seed = (seed * 1103515245 + 12345) >>> 0; q.push(lo + Math.floor((seed / 2 ** 32) * (hi - lo))); }
    compare(table, Float64Array.from(q));
  }, 60000);

  it('countLines = the number of newlines', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 7 }), (b, skip) => {
      const v = b.subarray(Math.min(skip, b.length));
      expect(countLines(v)).toBe(v.filter((x) => x === 10).length);
    }), { numRuns: 1000 });
  });
});
