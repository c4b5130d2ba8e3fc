#!/usr/bin/env node
/**
 * The trace and dmesg throughput rows of bench/run.mjs alone, for work on those annotators:
 *
 *   node bench/trace-dmesg.mjs [--runs N] [--mb SIZE] [--kallmod PATH]...
 *
 * The same inputs as run.mjs (../shared/kernel/boot-nokaslr's real captures repeated to 30 MB,
 * annotated against a snapshot of that boot's full sources), `cat FILE | wc -l` next to them in
 * interleaved rounds; each --kallmod adds the same rows for another build (a baseline tree).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const K = resolve(root, '../shared/kernel');
const W = join(process.env.TMPDIR || tmpdir(), 'kallmod-bench');
const argv = process.argv.slice(2);
const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 5;
// 30 MB as run.mjs; larger sizes take node's and the snapshot's start-up (~80 ms) out of the ratio
const mb = argv.includes('--mb') ? Number(argv[argv.indexOf('--mb') + 1]) : 30;
const builds = [join(root, 'packages/cli/bin/kallmod')];
for (let i = 0; i < argv.length; i++) if (argv[i] === '--kallmod') builds.push(resolve(argv[++i]));
if (!existsSync(join(K, 'boot-nokaslr'))) { console.log(`skipped: ${K}/boot-nokaslr is absent`); process.exit(0); }
mkdirSync(W, { recursive: true });
delete process.env.KALLMOD_NATIVE;

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
function timed(cmd) {
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}: ${String(r.stderr).trim().split('\n').pop()}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
function repeatTo(data, dst, size) {
  if (existsSync(dst) && statSync(dst).size >= size) return dst;
  const fd = openSync(dst, 'w');
  for (let n = 0; n < size; n += data.length) writeSync(fd, data);
  closeSync(fd);
  return dst;
}

const b = join(K, 'boot-nokaslr');
const snap = join(W, 'boot-nokaslr.snap');
execFileSync(builds[0], ['capture', '-o', snap,
  '--kallsyms', join(b, 'kallsyms.xz'), '--system-map', join(K, 'System.map.xz'),
  '--ranges', join(K, 'modules.builtin.ranges'), '--builtin', join(K, 'modules.builtin'),
  '--modinfo', join(K, 'modules.builtin.modinfo'),
  '--linker-map', join(K, 'vmlinux.map.xz'), '--linker-map', join(K, 'vmlinux.o.map.xz'),
  '--proc-modules', join(b, 'proc-modules'), '--module-sections', join(b, 'module-sections.txt'),
  '--modules-dir', join(K, 'modules')], { stdio: ['ignore', 'ignore', 'inherit'] });
const traceSrc = Buffer.concat(readdirSync(b).filter((f) => f.startsWith('trace') && f.endsWith('.txt')).sort().map((f) => readFileSync(join(b, f))));
const traceIn = repeatTo(traceSrc, join(W, `trace-${mb}M.txt`), mb * 1e6);
const dmesgIn = repeatTo(readFileSync(join(b, 'dmesg.txt')), join(W, `dmesg-${mb}M.txt`), mb * 1e6);

const cmds = { cat: `cat ${traceIn} | wc -l > /dev/null`, floor: `${builds[0]} trace --snapshot ${snap} < /dev/null > /dev/null` };
builds.forEach((km, i) => {
  cmds[`trace#${i}`] = `${km} trace --snapshot ${snap} < ${traceIn} > /dev/null`;
  cmds[`dmesg#${i}`] = `${km} dmesg --snapshot ${snap} < ${dmesgIn} > /dev/null`;
});
const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
for (const c of Object.values(cmds)) timed(c); // warm-up
for (let r = 0; r < runs; r++) for (const [k, c] of Object.entries(cmds)) times[k].push(timed(c));
const cat = median(times.cat);
const floor = median(times.floor);
console.log(`${mb} MB inputs; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; median of ${runs}; `
  + `cat|wc ${(statSync(traceIn).size / cat / 1e6).toFixed(0)} MB/s; `
  + `start-up floor (empty input) ${(floor * 1000).toFixed(0)} ms = the ratio's ceiling ${(cat / floor).toFixed(2)}`);
builds.forEach((km, i) => {
  for (const [what, file] of [['trace', traceIn], ['dmesg', dmesgIn]]) {
    const t = median(times[`${what}#${i}`]);
    console.log(`${what} ${km}: ${(statSync(file).size / t / 1e6).toFixed(0)} MB/s = ${(cat / t).toFixed(3)}x cat|wc`);
  }
});
