#!/usr/bin/env node
/**
 * `kallmod perf` throughput on a large perf script text file, next to `cat FILE | wc -l` and
 * `sed 's/x/y/' FILE` measured in the same run (medians; interleaved so machine load hits all).
 * Also perf JSON (`kallmod json`) when a JSON file is given. Not a test: prints figures.
 *
 *   node bench/perf-script.mjs [--text FILE] [--json FILE] [--kallsyms FILE] [--runs N]
 *
 * Default text: $TMPDIR/kallmod-checks/perf-big.txt (made by ../shared/checks/perf-throughput:
 * a real `perf record -a -g` profile of this machine repeated to ~200 MB), /proc/kallsyms.
 * Rows: the TypeScript path (KALLMOD_NATIVE=0) inline (--jobs 1) and with 2 workers, and the
 * default path (native addon when it loads, automatic jobs).
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeCommand, upperMedian } from './first-line.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KM = join(root, 'packages/cli/bin/kallmod');
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const text = opt('--text', join(process.env.TMPDIR || tmpdir(), 'kallmod-checks/perf-big.txt'));
const json = opt('--json', null);
const kallsyms = opt('--kallsyms', '/proc/kallsyms');
const runs = Number(opt('--runs', '5'));
if (!existsSync(text)) { console.error(`no ${text}: run ../shared/checks/perf-live and perf-throughput first, or pass --text FILE`); process.exit(2); }

const time = timeCommand, median = upperMedian;

function bench(file, rows) {
  const size = statSync(file).size;
  const base = { 'cat | wc -l': `cat '${file}' | wc -l`, "sed 's/x/y/'": `sed 's/x/y/' '${file}' > /dev/null` };
  const all = { ...base, ...rows };
  const t = Object.fromEntries(Object.keys(all).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [k, v] of Object.entries(all)) t[k].push(time(v.cmd ?? v, v.env));
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  console.log(`\n${file}: ${(size / 1e6).toFixed(0)} MB, median of ${runs}`);
  console.log(`${'what'.padEnd(34)} ${'MB/s'.padStart(7)} ${'× cat|wc'.padStart(9)} ${'× sed'.padStart(7)}`);
  for (const k of Object.keys(all)) {
    console.log(`${k.padEnd(34)} ${(size / m[k] / 1e6).toFixed(0).padStart(7)} ${(m['cat | wc -l'] / m[k]).toFixed(3).padStart(9)} ` +
      `${(m["sed 's/x/y/'"] / m[k]).toFixed(2).padStart(7)}`);
  }
}

const ts = { KALLMOD_NATIVE: '0' };
bench(text, {
  'kallmod perf, TS, --jobs 1': { cmd: `'${KM}' perf --jobs 1 --kallsyms '${kallsyms}' < '${text}' > /dev/null`, env: ts },
  'kallmod perf, TS, --jobs 2': { cmd: `'${KM}' perf --jobs 2 --kallsyms '${kallsyms}' < '${text}' > /dev/null`, env: ts },
  'kallmod perf, default path': `'${KM}' perf --kallsyms '${kallsyms}' < '${text}' > /dev/null`,
  'kallmod perf, TS, from a pipe (live)': { cmd: `cat '${text}' | '${KM}' perf --kallsyms '${kallsyms}' > /dev/null`, env: ts },
});
if (json) bench(json, { 'kallmod json': `'${KM}' json --kallsyms '${kallsyms}' < '${json}' > /dev/null` });
