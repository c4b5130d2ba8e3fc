#!/usr/bin/env node
// Benchmark (a script, not a test): `kallmod json` against stream-json's byte-preserving JSONC
// parser → stringer pass-through (no annotation at all) on the same perf JSON, in one run.
// usage: node bench/perf-json.mjs [FILE.json] [--kallsyms F]
// Default input: fixtures/perf/system-g.json.xz repeated to ~60 MB in /tmp.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const km = join(root, 'node_modules/.bin/kallmod');
let file = process.argv[2];
const ks = process.argv.includes('--kallsyms') ? process.argv[process.argv.indexOf('--kallsyms') + 1] : join(root, 'fixtures/perf/kallsyms.xz');
if (!file || file.startsWith('--')) {
  file = '/tmp/kallmod-bench-perf.json';
  if (!existsSync(file)) {
    const one = spawnSync('xz', ['-dc', join(root, 'fixtures/perf/system-g.json.xz')], { maxBuffer: 1 << 30 }).stdout.toString('latin1');
    // one document: repeat the samples array's contents
    const open = one.indexOf('"samples"'), a = one.indexOf('[', open), z = one.lastIndexOf(']');
    const body = one.slice(a + 1, z).trim();
    const reps = Math.max(1, Math.ceil(60e6 / body.length));
    writeFileSync(file, Buffer.from(one.slice(0, a + 1) + Array(reps).fill(body).join(',') + one.slice(z), 'latin1'));
  }
}
const size = statSync(file).size;
const med = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
const time = async (fn) => { const t = performance.now(); await fn(); return (performance.now() - t) / 1000; };

const { parser } = await import('stream-json/jsonc/parser.js');
const { stringer } = await import('stream-json/jsonc/stringer.js');
const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });
const runs = { cat: [], kallmod: [], streamjson: [] };
for (let i = 0; i < 3; i++) {
  runs.cat.push(await time(() => spawnSync('sh', ['-c', `cat ${file} | wc -l > /dev/null`])));
  runs.kallmod.push(await time(() => spawnSync(km, ['json', '--kallsyms', ks, file], { stdio: ['ignore', 'ignore', 'inherit'] })));
  runs.streamjson.push(await time(() => pipeline(createReadStream(file, { highWaterMark: 1 << 20 }),
    parser.asStream({ streamValues: false, streamCommas: true }), stringer.asStream({ useCommas: true }), sink())));
}
const mbs = (t) => (size / t / 1e6).toFixed(0);
console.log(`input ${file} (${(size / 1e6).toFixed(0)} MB), median of 3`);
console.log(`cat | wc -l                          ${mbs(med(runs.cat))} MB/s`);
console.log(`kallmod json (annotating)            ${mbs(med(runs.kallmod))} MB/s`);
console.log(`stream-json jsonc parser→stringer    ${mbs(med(runs.streamjson))} MB/s (pass-through only)`);
void createWriteStream;
