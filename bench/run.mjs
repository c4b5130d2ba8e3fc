#!/usr/bin/env node
/**
 * kallmod's benchmark suite (`npm run bench`): one table, measured in one run, every figure the
 * median of several runs next to its baseline from the same run; writes BENCHMARKS.md.
 *
 *   node bench/run.mjs [--runs N] [--quick] [--no-write]
 *
 * Inputs are made under $TMPDIR/kallmod-bench (never in the repo):
 *   p.txt        a real profile of this machine: `perf record -a -g -- sleep 1`, `perf script`
 *   perf-200M    p.txt repeated to ~200 MB (perf throughput)   perf-1G  ... to ~1 GB (RSS)
 *   trace-200M   the real ftrace captures of ../shared/kernel/boot-nokaslr, repeated
 *   dmesg-200M   the real dmesg (LKDTM oopses) of the same boot, repeated
 * BENCHMARKS.md is rewritten up to KEPT_MARK; the sections after it (other bench scripts'
 * figures, written by hand) are kept as they are.
 * The trace/dmesg inputs are annotated against a snapshot of that boot's sources; perf text
 * against this machine's /proc/kallsyms (the profile was recorded here).
 * Needs the built CLI (`npm run build`) and, for the native rows, `npm run build:native`.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, openSync, writeSync, closeSync, readdirSync } from 'node:fs';
import { cpus, totalmem, tmpdir, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rawKallsymsFiles, rawStartupRows } from './startup-raw.mjs';
import { firstLine } from './first-line.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KM = join(root, 'packages/cli/bin/kallmod');
const K = resolve(root, '../shared/kernel');
const W = join(process.env.TMPDIR || tmpdir(), 'kallmod-bench');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const runsFlag = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : NaN;
const runs = runsFlag > 0 ? runsFlag : quick ? 3 : 5;
const MB = 1e6;
const KEPT_MARK = '<!-- the sections below are not made by bench/run.mjs: it keeps them as they are -->';
mkdirSync(W, { recursive: true });
delete process.env.KALLMOD_NATIVE;

const log = (s) => process.stderr.write(s + '\n');
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

/** Run a shell command, return seconds; throw with its last stderr line on failure. */
function timed(cmd, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}: ${String(r.stderr).trim().split('\n').pop()}`);
  return s;
}

/** Repeat src into dst until it has at least `size` bytes. */
function repeatTo(src, dst, size) {
  if (existsSync(dst) && statSync(dst).size >= size) return dst;
  const data = Buffer.isBuffer(src) ? src : readFileSync(src);
  const fd = openSync(dst, 'w');
  for (let n = 0; n < size; n += data.length) writeSync(fd, data);
  closeSync(fd);
  return dst;
}

// ---- inputs ------------------------------------------------------------------------------
function perfCapture() {
  const p = join(W, 'p.txt');
  if (existsSync(p) && statSync(p).size > 0) return p;
  log('recording a profile: perf record -a -g -- sleep 1');
  const data = join(W, 'p.data');
  execFileSync('bash', ['-c', `( dd if=/dev/zero of=/dev/null bs=64k count=200000 2>/dev/null & find / -xdev -maxdepth 4 >/dev/null 2>&1 & wait ) & ` +
    `perf record -q -a -g -o ${data} -- sleep 1 >/dev/null 2>&1; wait; perf script -i ${data} > ${p} 2>/dev/null`]);
  return p;
}

function bootSources(boot) {
  const b = join(K, `boot-${boot}`);
  return [
    '--kallsyms', join(b, 'kallsyms.xz'), '--system-map', join(K, 'System.map.xz'),
    '--ranges', join(K, 'modules.builtin.ranges'), '--builtin', join(K, 'modules.builtin'),
    '--modinfo', join(K, 'modules.builtin.modinfo'),
    '--linker-map', join(K, 'vmlinux.map.xz'), '--linker-map', join(K, 'vmlinux.o.map.xz'),
    '--proc-modules', join(b, 'proc-modules'), '--module-sections', join(b, 'module-sections.txt'),
    '--modules-dir', join(K, 'modules'),
  ];
}

function snapshot(name, sources) {
  const f = join(W, `${name}.snap`);
  // always anew: a snapshot of an older kallmod may lack what this one stores (indexes)
  execFileSync(KM, ['capture', '-o', f, ...sources], { stdio: ['ignore', 'ignore', 'inherit'] });
  return f;
}

// ---- measurements ------------------------------------------------------------------------
/** Median seconds of each named command, interleaved round by round. */
function race(cmds) {
  const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (const c of Object.values(cmds)) timed(c.cmd, c.env); // warm-up (page cache, JIT caches)
  for (let r = 0; r < runs; r++) for (const [k, c] of Object.entries(cmds)) times[k].push(timed(c.cmd, c.env));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** Per-line round trip through a live child: write one line, wait for it to come back. */
async function liveLatency(cmd, args, lines, n) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lat = [];
  let got = 0, want = 0, resolveLine = null, buf = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (d) => {
    buf += d;
    let p;
    while ((p = buf.indexOf('\n')) >= 0) { buf = buf.slice(p + 1); got++; if (got >= want && resolveLine) { const r = resolveLine; resolveLine = null; r(); } }
  });
  const send = (line) => new Promise((res) => { want++; resolveLine = res; child.stdin.write(line + '\n'); });
  for (let i = 0; i < 20; i++) await send(lines[i % lines.length]); // start-up and warm-up
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await send(lines[i % lines.length]);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (i % 8 === 7) await new Promise((r) => setTimeout(r, 1)); // a live source, not a flood
  }
  child.stdin.end();
  await new Promise((r) => child.on('close', r));
  return lat;
}

function maxRssMB(cmd, env = {}) {
  const out = join(W, 'rss.txt');
  timed(`/usr/bin/time -f %M -o ${out} ${cmd}`, env);
  return Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024;
}

async function lookups() {
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const nat = await import(pathToFileURL(join(root, 'packages/core/dist/native.js')).href);
  const { table } = core.loadTable({ kallsyms: '/proc/kallsyms' }, () => {});
  const d = table.d;
  let lo = 0; while (lo < d.keys.length && d.keys[lo] < core.KERNEL_BASE) lo++;
  const a = d.keys[lo], span = d.keys[d.keys.length - 1] - a;
  const N = quick ? 2e6 : 1e7;
  const keys = new Float64Array(N);
  let seed = 1;
  for (let i = 0; i < N; i++) { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; keys[i] = a + Math.floor((seed / 2 ** 32) * span); }
  const out = new Int32Array(N);
  const ts = () => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) out[i] = table.lookupKey(keys[i]);
    return N / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const nt = nat.nativeStatus().path === 'native' ? nat.nativeTable(table) : null;
  const native = nt ? () => { const t = process.hrtime.bigint(); nt.lookupBatch(keys, out); return N / (Number(process.hrtime.bigint() - t) / 1e9); } : null;
  ts(); native?.();
  const r = { symbols: table.length, ts: [], native: [] };
  for (let i = 0; i < runs; i++) { r.ts.push(ts()); if (native) r.native.push(native()); }
  return { symbols: table.length, ts: median(r.ts), native: native ? median(r.native) : null };
}

// ---- main ----------------------------------------------------------------------------------
const rows = [];
const row = (what, value, baseline, note = '') => { rows.push([what, value, baseline, note]); log(`  ${what}: ${value}  |  ${baseline}  ${note}`); };
const f0 = (x) => x.toFixed(0), f1 = (x) => x.toFixed(1), f2 = (x) => x.toFixed(2), f3 = (x) => x.toFixed(3);

if (!existsSync(join(root, 'packages/cli/dist/main.js'))) { log('build first: npm run build'); process.exit(2); }
const status = spawnSync(KM, ['sources', '--kallsyms', '/proc/kallsyms'], { encoding: 'utf8' })
  .stdout.split('\n').find((l) => l.startsWith('lookup path')) ?? 'lookup path: ?';
const haveNative = status.includes('native (');
log(`kallmod bench: ${runs} runs per figure; ${status}; inputs in ${W}`);

const p = perfCapture();
const big = repeatTo(p, join(W, quick ? 'perf-50M.txt' : 'perf-200M.txt'), quick ? 50 * MB : 200 * MB);
const bigSize = statSync(big).size;

// perf script text
log(`perf script text: ${(bigSize / MB).toFixed(0)} MB`);
// native: true = KALLMOD_NATIVE=1, false = 0, null = unset (the default: the addon after 8 MiB)
const perfCmd = (native, jobs) => ({
  cmd: `${KM} perf -j ${jobs} --kallsyms /proc/kallsyms < ${big} > /dev/null`,
  env: native === null ? {} : { KALLMOD_NATIVE: native ? '1' : '0' },
});
const perfRace = {
  cat: { cmd: `cat ${big} | wc -l > /dev/null` },
  sed: { cmd: `sed 's/x/y/' ${big} > /dev/null` },
  ts1: perfCmd(false, 1), ts2: perfCmd(false, 2),
  ...(haveNative ? { nat1: perfCmd(true, 1), nat2: perfCmd(true, 2), def1: perfCmd(null, 1) } : {}),
};
const pr = race(perfRace);
const rate = (s) => bigSize / s / MB;
row('`cat FILE | wc -l` (baseline)', `${f0(rate(pr.cat))} MB/s`, '1.00×');
row("`sed 's/x/y/'`", `${f0(rate(pr.sed))} MB/s`, `${f3(pr.cat / pr.sed)}× cat|wc`);
const perfRows = [
  ['ts1', 'TS, 1 worker (inline)', 0.15], ['ts2', 'TS, 2 workers', 0.15], ['nat1', 'native, 1 worker (inline)', 0.3], ['nat2', 'native, 2 workers', 0.3],
  ['def1', 'default (KALLMOD_NATIVE unset), 1 worker', 0.3],
];
for (const [k, label, goal] of perfRows) {
  if (pr[k] === undefined) { row(`perf script text, ${label}`, 'n/a', '', 'addon not built'); continue; }
  const ratio = pr.cat / pr[k];
  row(`perf script text, ${label}`, `${f0(rate(pr[k]))} MB/s`, `${f3(ratio)}× cat|wc`, `goal ≥ ${goal}: ${ratio >= goal ? 'met' : 'NOT met'}`);
}
// the fixed cost in every run above: node, the CLI, reading and indexing /proc/kallsyms
const floor = race({ empty: { cmd: `${KM} perf --kallsyms /proc/kallsyms < /dev/null > /dev/null` } }).empty;
row('perf, empty input (start-up floor of the runs above)', `${f0(floor * 1000)} ms`, `cat|wc of the file: ${f0(pr.cat * 1000)} ms`,
  `ratio ceiling at this size: ${f2(pr.cat / floor)}`);
if (haveNative) {
  timed(`KALLMOD_NATIVE=1 ${KM} perf --kallsyms /proc/kallsyms < ${p} > ${W}/n.txt && ` +
    `KALLMOD_NATIVE=0 ${KM} perf --kallsyms /proc/kallsyms < ${p} > ${W}/t.txt`);
  const same = spawnSync('cmp', ['-s', `${W}/n.txt`, `${W}/t.txt`]).status === 0;
  row('native output = TS output (p.txt)', same ? 'byte-identical' : 'DIFFERENT', '', same ? '' : 'bug');
}

// trace and dmesg
const snapBoot = snapshot('boot-nokaslr', bootSources('nokaslr'));
const bootDir = join(K, 'boot-nokaslr');
const traceSrc = Buffer.concat(readdirSync(bootDir).filter((f) => f.startsWith('trace') && f.endsWith('.txt')).sort()
  .map((f) => readFileSync(join(bootDir, f))));
// 200 MB like the perf input: at 30 MB the ~0.1-0.2 s start-up alone capped the ratio near 0.1
const traceIn = repeatTo(traceSrc, join(W, 'trace-200M.txt'), 200 * MB);
const dmesgIn = repeatTo(join(bootDir, 'dmesg.txt'), join(W, 'dmesg-200M.txt'), 200 * MB);
log('trace, dmesg');
const td = race({
  cat: { cmd: `cat ${traceIn} | wc -l > /dev/null` },
  trace: { cmd: `${KM} trace --snapshot ${snapBoot} < ${traceIn} > /dev/null` },
  dmesg: { cmd: `${KM} dmesg --snapshot ${snapBoot} < ${dmesgIn} > /dev/null` },
});
const tdGoal = (r) => `goal ≥ 0.15: ${r >= 0.15 ? 'met' : 'NOT met'}`;
const traceX = td.cat / td.trace;
const dmesgX = (statSync(dmesgIn).size / td.dmesg) / (statSync(traceIn).size / td.cat); // the two files differ a little in size
row('trace annotation (ftrace text, snapshot)', `${f0(statSync(traceIn).size / td.trace / MB)} MB/s`, `${f3(traceX)}× cat|wc`, tdGoal(traceX));
row('dmesg annotation (oopses, snapshot)', `${f0(statSync(dmesgIn).size / td.dmesg / MB)} MB/s`, `${f3(dmesgX)}× cat|wc`, tdGoal(dmesgX));

// live trace latency
log('live trace latency');
const traceLines = readFileSync(join(bootDir, 'trace_pipe-function.txt'), 'latin1').split('\n').filter((l) => l && !l.startsWith('#'));
const nLive = quick ? 500 : 2000;
// three interleaved rounds, medians of each round's percentiles: one round's p99 (its 20 worst
// lines) moves by ~0.5 ms from run to run on this VM; a node process echoing stdin shows what
// node's own event loop adds, apart from kallmod's work
const echo = join(W, 'echo.mjs');
writeFileSync(echo, 'process.stdin.on("data", (d) => process.stdout.write(d));\n');
const lat = { cat: [], node: [], km: [] };
for (let r = 0; r < 3; r++) {
  lat.cat.push(await liveLatency('cat', [], traceLines, nLive));
  lat.node.push(await liveLatency('node', [echo], traceLines, nLive));
  lat.km.push(await liveLatency(KM, ['trace', '--snapshot', snapBoot], traceLines, nLive));
}
const lp = (k, q) => median(lat[k].map((l) => pct(l, q)));
const added50 = lp('km', 50) - lp('cat', 50), added99 = lp('km', 99) - lp('cat', 99);
row('live trace, per-line round trip p50 / p99', `${f2(lp('km', 50))} / ${f2(lp('km', 99))} ms`,
  `cat: ${f2(lp('cat', 50))} / ${f2(lp('cat', 99))} ms; node echo: ${f2(lp('node', 50))} / ${f2(lp('node', 99))} ms`,
  `added to cat ${f2(added50)} / ${f2(added99)} ms; goal p99 ≤ 1 ms: ${added99 <= 1 ? 'met' : 'NOT met'}`);

// start-up
log('start-up');
const snapHere = snapshot('running-kernel', []);
const frame = readFileSync(p, 'latin1').split('\n').find((l) => l.endsWith('([kernel.kallsyms])')) ?? '\tffffffff81000000 _text ([kernel.kallsyms])';
// interleaved rounds (node, then each variant), so that drift hits all alike; more rounds than
// the throughput runs: a start-up is ~70 ms and its noise a few ms
const bootLines = {
  trace: readFileSync(join(bootDir, 'trace_pipe-function.txt'), 'latin1').split('\n').find((l) => l && !l.startsWith('#')),
  dmesg: readFileSync(join(bootDir, 'dmesg.txt'), 'latin1').split('\n').find((l) => /\+0x[0-9a-f]+\/0x/.test(l)),
};
const variants = {
  node: ['node', ['-e', 'process.stdout.write("x\\n")'], ''],
  raw: [KM, ['perf'], frame],
  snap: [KM, ['perf', '--snapshot', snapHere], frame],
  bootPerf: [KM, ['perf', '--snapshot', snapBoot], frame],
  bootTrace: [KM, ['trace', '--snapshot', snapBoot], bootLines.trace],
  bootDmesg: [KM, ['dmesg', '--snapshot', snapBoot], bootLines.dmesg],
};
const st = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < Math.max(15, 3 * runs); r++) for (const [k, [c, a, l]] of Object.entries(variants)) st[k].push(await firstLine(c, a, l));
const n0 = median(st.node);
const goal = (t) => `+${f0((t - n0) * 1000)} ms; goal ≤ node + 30 ms: ${t - n0 <= 0.03 ? 'met' : 'NOT met'}`;
row('start-up to first annotated line, raw sources (running kernel, perf)', `${f0(median(st.raw) * 1000)} ms`, `node: ${f0(n0 * 1000)} ms`,
  `+${f0((median(st.raw) - n0) * 1000)} ms`);
row('start-up to first annotated line, snapshot of this machine (perf)', `${f0(median(st.snap) * 1000)} ms`, `node: ${f0(n0 * 1000)} ms`,
  goal(median(st.snap)));
for (const [k, what] of [['bootPerf', 'perf'], ['bootTrace', 'trace'], ['bootDmesg', 'dmesg']]) {
  row(`start-up to first annotated line, snapshot of the 6.12 boot (${what})`, `${f0(median(st[k]) * 1000)} ms`, `node: ${f0(n0 * 1000)} ms`,
    goal(median(st[k])));
}

// start-up from a raw kallsyms, against node -e 0 in the same rounds (bench/startup-raw.mjs)
for (const r of rawStartupRows(rawKallsymsFiles(W), Math.max(11, 2 * runs))) row(...r);

// lookups
log('lookups');
const lk = await lookups();
row(`lookups/s, TS bucket index (${lk.symbols} symbols, uniform random)`, `${f1(lk.ts / 1e6)} M/s`, '');
row('lookups/s, native lookupBatch (same table, same keys)', lk.native ? `${f1(lk.native / 1e6)} M/s` : 'n/a',
  lk.native ? `${f2(lk.native / lk.ts)}× TS` : 'addon not built');

// RSS
log('RSS on ~1 GB');
const gig = repeatTo(p, join(W, 'perf-1G.txt'), quick ? 200 * MB : 1000 * MB);
for (const jobs of [1, 2]) {
  const rssTs = maxRssMB(`${KM} perf -j ${jobs} --kallsyms /proc/kallsyms < ${gig} > /dev/null`, { KALLMOD_NATIVE: '0' });
  const rssNat = haveNative ? maxRssMB(`${KM} perf -j ${jobs} --kallsyms /proc/kallsyms < ${gig} > /dev/null`, { KALLMOD_NATIVE: '1' }) : null;
  row(`max RSS, perf text ${f0(statSync(gig).size / MB)} MB, -j ${jobs}, TS / native`, `${f0(rssTs)} / ${rssNat === null ? 'n/a' : f0(rssNat)} MB`, '',
    `goal ≤ 150 MB: ${Math.max(rssTs, rssNat ?? 0) <= 150 ? 'met' : 'NOT met'}`);
}

// the running-kernel defaults on a real distro kernel (bench/distro-kernel.mjs)
log('distro kernel');
const distro = await (await import('./distro-kernel.mjs')).distroKernelRows({ runs: quick ? 2 : 3, log });
for (const r of distro.rows) row(...r);

// ---- report --------------------------------------------------------------------------------
const rustc = spawnSync('rustc', ['-V'], { encoding: 'utf8' }).stdout?.trim() || 'no rustc';
const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, ` +
  `Node ${process.version}, ${rustc}`;
const cell = (c) => String(c).replace(/\|/g, '\\|');
const table = ['| what | figure | baseline (same run) | note |', '|---|---:|---:|---|', ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
process.stdout.write(`\n${table}\n\nmachine: ${machine}\n${status}\n`);
if (!argv.includes('--no-write')) {
  const benchmarksMd = join(root, 'BENCHMARKS.md');
  const old = existsSync(benchmarksMd) ? readFileSync(benchmarksMd, 'utf8') : '';
  const kept = old.includes(KEPT_MARK) ? old.slice(old.indexOf(KEPT_MARK)) : `${KEPT_MARK}\n`;
  writeFileSync(benchmarksMd, `# Benchmarks

Generated by \`npm run bench\` (\`node bench/run.mjs${argv.length ? ' ' + argv.join(' ') : ''}\`) on ${new Date().toISOString().slice(0, 10)}.
Every figure is the median of ${runs} runs (after one warm-up), measured in one run of the script
next to its baseline; ratios are to \`cat FILE | wc -l\` on the same file in the same run.

- Machine: ${machine}
- Path: ${status}
- perf text: a real \`perf record -a -g -- sleep 1\` profile of this machine (\`perf script\`,
  ${(statSync(p).size / MB).toFixed(1)} MB) repeated to ${(bigSize / MB).toFixed(0)} MB, annotated against \`/proc/kallsyms\`
  (\`kallmod perf -j N --kallsyms /proc/kallsyms < FILE > /dev/null\`; \`KALLMOD_NATIVE=0|1\` picks the path).
- trace / dmesg: the real captures of \`../shared/kernel/boot-nokaslr\` repeated to 200 MB, against a
  snapshot of that boot's full sources; live latency: one \`trace_pipe\` line at a time through a
  pipe, round trip to the annotated line, ${nLive} lines (a 1 ms pause every 8), next to \`cat\` and a
  node process echoing stdin, in 3 interleaved rounds (medians of the rounds' percentiles).
- Start-up: spawn to the first output byte for one line on stdin (a kernel frame; for the 6.12
  boot its first trace_pipe line and its first oops frame); \`node\` is a node process printing one
  line, measured in the same interleaved rounds (median of ${Math.max(15, 3 * runs)}). Raw sources = the running
  kernel's defaults; snapshots = \`kallmod capture -o F\` of this machine (kallsyms only) and of
  the 6.12 boot's full sources (160k symbols with modules and objnames). From a raw kallsyms:
  one \`kallmod lookup --kallsyms F ADDR\` against \`node -e 0\`, wall and CPU (user + sys) time,
  interleaved (bench/startup-raw.mjs; \`KALLMOD_DISTRO_MAP=System.map-…\` adds a distro kallsyms).
- Lookups: ${quick ? '2' : '10'} M uniform random addresses over the kernel text of \`/proc/kallsyms\`, in process.
${distro.about}

${table}

${kept}`);
  log('wrote BENCHMARKS.md');
}
