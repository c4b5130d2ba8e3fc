/**
 * `kallmod report` / `kallmod flame` with the addon's line memo (native/src/line_memo.rs) count
 * exactly what the TS walker counts without it: the same rows, self and total, call paths and
 * consistency checks (what stderr's warning is made of), on real perf captures and on seeded
 * random perf-like text over the 6.12 kernel's table (near misses, disagreeing names, CRLF),
 * the memo's input cut into chunks at random line boundaries. Skipped, with the reason printed,
 * when the addon is not built or KALLMOD_NATIVE=0.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTable, readSourceFile, type SymbolTable } from '@kallmod/core';
import { NATIVE_AFTER_BYTES, nativeAddon } from '@kallmod/core/native';
import { SampleWalker } from '@kallmod/perf-script/samples';
import { Profile, SampleCollector, type PathNode, type ProfileOptions } from '@kallmod/report/profile';
import { json, rows } from '@kallmod/report/format';
import { CLI, ROOT as root, k, sourceOptions } from '../../test/kernel-fixture.js';
import { tempDir } from '../../test/temp-dir.js';
import { perfTextFrom612Dmesg, perfTextFrom612Stacktraces } from '../../test/perf-from-stacktraces.js';
import { nativeSkipReason } from '../../test/native-addon.js';
import { perfText } from './perf-text.js';

const why = nativeSkipReason('report line memo');
const FIX = join(root, 'fixtures/perf');

const VARIANTS: ProfileOptions[] = [{}, { paths: true, period: true }, { kernelOnly: true, objname: 'always' }];

/** What a report and a flame graph are made of, and the checks counted on the table meanwhile. */
function counted(table: SymbolTable, input: Buffer, o: ProfileOptions, cuts: number[] | null, memo = nativeAddon()!.createLineMemo()): string {
  // each run from no checks, watched as the CLI watches them (its warning: when, with what figures)
  Object.assign(table.consistency, { checked: 0, disagreed: 0, example: '' });
  let warned: string | null = null;
  table.watchConsistency((c) => { warned = JSON.stringify(c); });
  const p = new Profile(table, o);
  const needs = { comm: Boolean(o.paths), period: Boolean(o.period) };
  const w = new SampleWalker(table, { objname: o.objname ?? 'ambiguous', refs: false }, new SampleCollector(p), needs);
  if (cuts === null) w.chunk(input);
  else {
    let at = 0;
    for (const c of [...cuts, input.length]) {
      // whole lines, as the stream driver cuts them
      let end = c >= input.length ? input.length : input.indexOf(10, c);
      end = end < 0 ? input.length : Math.min(input.length, end + 1);
      if (end <= at) continue;
      w.chunk(input.subarray(at, end), memo);
      at = end;
    }
  }
  w.end();
  const c = table.consistency;
  const paths = (n: PathNode): unknown => [p.frames[n.frame]?.label ?? '', n.self, n.total, [...n.children.values()].map(paths)];
  return JSON.stringify({
    report: JSON.parse(json(rows(p, 'self'), 0)), paths: o.paths ? paths(p.root) : null, samplesRead: p.samplesRead, periodsSeen: p.periodsSeen,
    consistency: c, warned,
  });
}

function same(table: SymbolTable, input: Buffer, o: ProfileOptions, cuts: number[]): void {
  const want = counted(table, input, o, null), got = counted(table, input, o, cuts);
  if (got !== want) {
    // the first difference, not two screens of JSON
    let k = 0;
    while (got[k] === want[k]) k++;
    expect({ at: k, memo: got.slice(Math.max(0, k - 150), k + 100) }).toEqual({ at: k, memo: want.slice(Math.max(0, k - 150), k + 100) });
  }
}

/** Random text as samples: a blank line now and then, and the whole twice (so that lines repeat). */
function samplesText(table: SymbolTable, seed: number, lines: number): Buffer {
  const t = perfText(table, seed, lines).toString('latin1').split('\n');
  const out: string[] = [];
  t.forEach((l, i) => { out.push(l); if ((i * 7919 + seed) % 13 === 0) out.push(i % 2 ? '' : '\r'); });
  const one = out.join('\n');
  return Buffer.from(`${one}\n${one}`, 'latin1');
}

let kernel: SymbolTable | null = null;
const kernelTable = () => (kernel ??= loadTable(sourceOptions('kaslr'), () => {}).table);

/** A real capture's first `max` bytes, cut after a line (the walker's cost is in the bytes). */
function head(file: string, max: number): Buffer {
  const b = readSourceFile(file);
  return b.length <= max ? b : b.subarray(0, b.lastIndexOf(10, max) + 1);
}

describe.skipIf(why !== null)('report line memo = TS walker', () => {
  it('seeded random perf-like text (6.12 table), random chunk cuts, report and flame options', () => {
    const table = kernelTable();
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom(...VARIANTS), (seed, cuts, o) => {
      const input = samplesText(table, seed, 400);
      same(table, input, o, cuts.map((c) => c % (input.length + 1)).sort((a, b) => a - b));
    }), { numRuns: 30 });
  }, 120000);

  it('the 6.12 kernel\'s own stacks (built-in and loadable modules), against its table', () => {
    const table = kernelTable();
    const input = Buffer.from(perfTextFrom612Stacktraces().text + perfTextFrom612Dmesg().text, 'latin1');
    for (const o of VARIANTS) same(table, input, o, [input.length >> 2, input.length >> 1]);
  }, 120000);

  it('every real capture in fixtures/perf, against its kallsyms and against the 6.12 table (names disagree: checks counted)', () => {
    const own = loadTable({ kallsyms: join(FIX, 'kallsyms.xz') }, () => {}).table;
    for (const f of readdirSync(FIX).filter((n) => /\.script\.xz$/.test(n)).sort()) {
      const input = head(join(FIX, f), 1 << 21);
      const cuts = [input.length >> 2, input.length >> 1, (3 * input.length) >> 2];
      for (const o of VARIANTS) same(own, input, o, cuts);
    }
    // the comparison means something: checks disagreed (another kernel's table), the CLI's
    // warning fired, and the memo answered most lines
    const sample = readSourceFile(join(FIX, 'system-g.script.xz'));
    same(kernelTable(), sample, {}, [sample.length >> 1]);
    const memo = nativeAddon()!.createLineMemo();
    const r = JSON.parse(counted(kernelTable(), sample, {}, [], memo)) as { consistency: { disagreed: number }; warned: string | null };
    expect(r.consistency.disagreed).toBeGreaterThan(0);
    expect(r.warned).not.toBeNull();
    const events = new Int32Array(sample.length), io = new Float64Array(1);
    const k = memo.scan(sample, events, io);
    expect(io[0]).toBe(sample.length);
    expect(events.subarray(0, k).filter((v) => v >= 0).length).toBeGreaterThan(0.8 * k);
  }, 120000);
});

describe.skipIf(why !== null)('kallmod report takes the memo once it pays (KALLMOD_NATIVE unset)', () => {
  const dir = tempDir('report-memo');
  it('a 10 MB capture: the same stdout and stderr as the TS path (KALLMOD_NATIVE=0), with its own kallsyms and another kernel\'s', () => {
    const file = join(dir(), 'sched-switch-g.script');
    writeFileSync(file, readSourceFile(join(FIX, 'sched-switch-g.script.xz')));
    expect(statSync(file).size).toBeGreaterThan(NATIVE_AFTER_BYTES);
    const env = { ...process.env, NO_COLOR: '1' };
    delete env['KALLMOD_NATIVE'];
    const cli = (e: NodeJS.ProcessEnv, ...a: string[]) => spawnSync(CLI, ['report', '--json', ...a, file], { env: e, encoding: 'utf8', maxBuffer: 1 << 28 });
    for (const src of [['--kallsyms', join(FIX, 'kallsyms.xz')], ['--kallsyms', k('boot-kaslr/kallsyms.xz')]]) {
      const a = cli(env, ...src), b = cli({ ...env, KALLMOD_NATIVE: '0' }, ...src);
      expect(a.status).toBe(0);
      expect({ out: a.stdout, err: a.stderr }).toEqual({ out: b.stdout, err: b.stderr });
    }
  }, 60000);
});
