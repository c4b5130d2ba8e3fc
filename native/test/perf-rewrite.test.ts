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
import { loadTable, keyToPaddedHex, readSourceFile, type ObjnameMode, type SymbolTable } from '@kallmod/core';
import { createPerfRewriter, createPerfRewriterWhenWorthIt, NATIVE_AFTER_BYTES } from '@kallmod/core/native';
import { Scanner } from '@kallmod/perf-script/scan';
import { ROOT as root, sourceOptions } from '../../test/kernel-fixture.js';
import { nativeSkipReason } from '../../test/native-addon.js';
import { outerTmpdir } from '../../test/temp-dir.js';

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

/** Random perf script text over `table`: every shape scan.ts handles, and near misses. */
function perfText(table: SymbolTable, seed: number, lines: number): Buffer {
  let s = seed >>> 0;
  const rnd = (n: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.floor((s / 2 ** 32) * n); };
  const pick = <T>(a: readonly T[]) => a[rnd(a.length)]!;
  const d = table.d;
  const n = table.length;
  const text: number[] = [];
  for (let i = 0; i < n; i++) if (table.isText(i)) text.push(i);
  const hot = Array.from({ length: 64 }, () => pick(text));
  const sym = () => (rnd(4) ? pick(hot) : pick(text));
  const hex = (k: number) => keyToPaddedHex(k);
  const size = (i: number) => Math.max(1, d.ksizes[i]! || 1);
  const addrIn = (i: number) => d.keys[i]! + rnd(size(i));
  const off = (a: number, i: number) => `+0x${(a - d.keys[i]!).toString(16)}`;
  const dso = () => pick(['([kernel.kallsyms])', '([guest.kernel.kallsyms])', '(/usr/lib/debug/boot/vmlinux-6.12)', '([ext4])',
    '(/lib/modules/6.12/kernel/fs/ext4/ext4.ko)', '([unknown])', '(inlined)', '([vsyscall])']);
  const ind = () => pick(['\t', '\t', '\t', '        ', '\t  ', ' ']);
  const out: string[] = [];
  while (out.length < lines) {
    const i = sym();
    const a = addrIn(i);
    const name = table.name(i);
    const other = table.name(pick(text));
    const shape = rnd(36);
    let l: string;
    switch (shape) {
      case 0: l = `${pick(['dd', 'swapper', 'kworker/1:1-vir', 'perf-exec'])} ${rnd(30000)} [00${rnd(2)}]  ` +
        `${rnd(2000)}.${100000 + rnd(899999)}:     250000 cpu-clock:ppp: `; break;
      case 1: l = ''; break;
      case 2: l = `${ind()}${(0x7f0000000000 + rnd(2 ** 30)).toString(16).padStart(16, ' ')} ` +
        `${other}+0x${rnd(999).toString(16)} (/usr/lib/x86_64-linux-gnu/libc.so.6)`; break;
      case 3: l = `${ind()}${hex(a)} [unknown] ([unknown])`; break;
      case 4: l = `${ind()}${pick(['386c616e6f697461', 'ffffffffffffffff', 'ffff000000000000', '0000000000000000', hex(a)])} [unknown] ([unknown])`; break;
      case 5: l = `${ind()}${hex(a)}`; break;
      case 6: l = `${ind()}${hex(a)} ${name}`; break;
      case 7: l = `${ind()}${hex(a)} ${other}${off(a, i)} ([kernel.kallsyms])`; break; // printed name disagrees
      case 8: l = `${ind()}${hex(d.keys[i]! + size(i))} ${name}${off(d.keys[i]! + size(i), i)} ([kernel.kallsyms])`; break; // return address past the end
      case 9: l = `${ind()}${hex(a)} ${name}${off(a, i)} ${dso()}`; break;
      case 10: l = `${pick(['perf', 'a'])} ${rnd(99)} [000] 1.5: 1 cycles:  ${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 11: l = `0x${hex(a)}/0x${hex(addrIn(sym()))}/P/-/-/0  0x7f12a0b1c2d3/0x${hex(a)}/M/-/-/3`; break;
      case 12: l = `${name}${off(a, i)}/${other}+0x5/P/-/-/0 ${name}+0x1 ([kernel.kallsyms])/x+0x2 ([kernel.kallsyms])/P/-/-/0`; break;
      case 13: l = `${ind()}${hex(a).toUpperCase()} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 14: l = `${ind()}${hex(a).slice(1)} ${name}${off(a, i)} ([kernel.kallsyms])`; break; // 15 digits
      case 15: l = `${ind()}${hex(a)} ${name}+0xzz ([kernel.kallsyms])`; break;
      case 16: l = `${ind()}${hex(a)} ${name}+0x ([kernel.kallsyms])`; break;
      case 17: l = `${ind()}${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms]) trailing`; break;
      case 18: l = `${ind()}${hex(a)}  ${name}${off(a, i)} ([kernel.kallsyms])`; break; // two spaces
      case 19: l = `${ind()}${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms]`; break; // unclosed
      case 20: l = `${ind()}${hex(a)}g ${name} ([kernel.kallsyms])`; break;
      case 21: l = `${ind()}${hex(a)} ${name}+0x1+0x2 ([kernel.kallsyms])`; break;
      case 22: l = `comm 1 [000] 2.0: ffff in a header ${'/'.repeat(rnd(6))}`; break;
      case 23: l = `${ind()}${hex(a)} ${name}${off(a, i)} (inlined)`; break;
      case 24: l = `${pick(['   ', '\t', ' '])}perf-exec  9317/9317  [001]   749.01: 250000 cpu-clock:ppp:  ` +
        `${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 25: l = `${pick(['   ', '\t'])}readelf 7466/7466 [000] 749.0: 250000 cpu-clock:ppp:      55d4f0af7fc7 [unknown] (/usr/bin/readelf)`; break;
      case 26: l = `${ind()}${pick(['ffff', 'fff', 'abc', 'Ffff'])}${hex(a).slice(4, 12)} x`; break;
      // right-aligned headers whose comm reads as hex, " 0x" brstack lines, user frames with "ffff"
      case 27: l = `${pick(['             cat', '      dd', '  bash', ' 0'])}  1234 [000]   1.5:  250000 cycles:  ` +
        `${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 28: l = ` 0x${hex(a)}/0x${hex(addrIn(sym()))}/P/-/-/0  ${name}${off(a, i)}/${other}+0x5/P/-/-/0`; break;
      case 29: l = `${ind()}    7fffffffe${rnd(4096).toString(16).padStart(3, '0')} user_fn+0x5 (/lib/x.so)`; break;
      case 31: l = `${ind()}${hex(a)} ${dso()}`; break; // -F ip,dso
      case 30: l = `${ind()}${pick(['ABC', 'dd', 'Dd', '7f00', 'cafe'])} ${pick(['123', '1/2', '12/', 'x', ''])} ${pick(['[000] 1.0: 1 cycles: ', ''])}` +
        `${hex(a)} ${pick([name + off(a, i), '[unknown]'])} ([kernel.kallsyms]) ${pick(['', '0x' + hex(a) + '/0x' + hex(a) + '/P/-/-/0'])}`; break;
      default: l = `${ind()}${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`;
    }
    if (rnd(40) === 0) l += '\r';
    if (rnd(200) === 0) l += '\u00e9\u00ff'; // non-ASCII bytes pass through
    out.push(l);
  }
  let t = out.join('\n') + (rnd(3) ? '\n' : '');
  if (rnd(10) === 0) t = t.replace(/\n/g, '\r\n');
  return Buffer.from(t, 'utf8');
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
