#!/usr/bin/env node
/**
 * `kallmod report` (and `kallmod flame`) throughput on ~200 MB of real perf script text,
 * against `kallmod perf` itself (goal: report >= 0.5x of it), `cat FILE | wc -l` and
 * `sed 's/x/y/'`, measured in one run, interleaved, medians. Not a test: prints figures.
 *
 *   node bench/report.mjs [--text FILE] [--kallsyms FILE] [--runs N] [--kallmod BIN]...
 *
 * --kallmod BIN (repeatable): another build's bin/kallmod (e.g. /work/main/packages/cli/bin/kallmod),
 * whose perf, report and flame are timed in the same rounds, interleaved with this tree's.
 *
 * Default text: fixtures/perf/system-g.script.xz (a real `perf record -a -g`, this machine)
 * repeated to 200 MB under $TMPDIR, with its own kallsyms (fixtures/perf/kallsyms.xz).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeCommand, upperMedian } from './first-line.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KM = join(root, 'packages/cli/bin/kallmod');
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const runs = Number(opt('--runs', '5'));
const others = argv.flatMap((a, i) => (a === '--kallmod' ? [argv[i + 1]] : []));
const kallsyms = opt('--kallsyms', join(root, 'fixtures/perf/kallsyms.xz'));
let text = opt('--text', null);
if (!text) {
  text = join(process.env.TMPDIR || tmpdir(), 'kallmod-bench-report-200M.perf');
  if (!existsSync(text) || statSync(text).size < 200e6) {
    const one = spawnSync('xz', ['-dc', join(root, 'fixtures/perf/system-g.script.xz')], { maxBuffer: 1 << 30 }).stdout;
    writeFileSync(text, '');
    for (let n = 0; n < 200e6; n += one.length) appendFileSync(text, one);
  }
}

const time = timeCommand, median = upperMedian;

const size = statSync(text).size;
const k = `--kallsyms '${kallsyms}'`;
const rows = {
  'cat | wc -l': { cmd: `cat '${text}' | wc -l` },
  "sed 's/x/y/'": { cmd: `sed 's/x/y/' '${text}' > /dev/null` },
  'kallmod perf (default path)': { cmd: `'${KM}' perf ${k} '${text}' > /dev/null` },
  'kallmod perf, TS': { cmd: `'${KM}' perf ${k} '${text}' > /dev/null`, env: { KALLMOD_NATIVE: '0' } },
  'kallmod report': { cmd: `'${KM}' report ${k} '${text}' > /dev/null` },
  'kallmod report, TS': { cmd: `'${KM}' report ${k} '${text}' > /dev/null`, env: { KALLMOD_NATIVE: '0' } },
  'kallmod report --period --json': { cmd: `'${KM}' report --period --json ${k} '${text}' > /dev/null` },
  'kallmod report < pipe': { cmd: `cat '${text}' | '${KM}' report ${k} > /dev/null` },
  'kallmod flame': { cmd: `'${KM}' flame ${k} '${text}' > /dev/null` },
};
for (const [n, bin] of others.entries()) {
  const tag = others.length > 1 ? ` [${n + 1}]` : ' [--kallmod]';
  rows[`perf (default path)${tag}`] = { cmd: `'${bin}' perf ${k} '${text}' > /dev/null` };
  rows[`report${tag}`] = { cmd: `'${bin}' report ${k} '${text}' > /dev/null` };
  rows[`report --period --json${tag}`] = { cmd: `'${bin}' report --period --json ${k} '${text}' > /dev/null` };
  rows[`flame${tag}`] = { cmd: `'${bin}' flame ${k} '${text}' > /dev/null` };
}
const t = Object.fromEntries(Object.keys(rows).map((r) => [r, []]));
for (let i = 0; i < runs; i++) for (const [r, v] of Object.entries(rows)) t[r].push(time(v.cmd, v.env));
const m = Object.fromEntries(Object.entries(t).map(([r, v]) => [r, median(v)]));
const load = spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
console.log(`${text}: ${(size / 1e6).toFixed(0)} MB, median of ${runs}; ${load}`);
for (const [n, bin] of others.entries()) console.log(`[${others.length > 1 ? n + 1 : '--kallmod'}]: ${bin}`);
console.log(`${'what'.padEnd(32)} ${'MB/s'.padStart(6)} ${'× cat|wc'.padStart(9)} ${'× sed'.padStart(6)} ${'× perf'.padStart(7)}`);
for (const r of Object.keys(rows)) {
  const x = (base, d) => (m[base] / m[r]).toFixed(d);
  console.log(`${r.padEnd(32)} ${(size / m[r] / 1e6).toFixed(0).padStart(6)} ${x('cat | wc -l', 3).padStart(9)} ${x("sed 's/x/y/'", 2).padStart(6)} `
    + x('kallmod perf (default path)', 2).padStart(7));
}
