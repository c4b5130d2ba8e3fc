#!/usr/bin/env node
/**
 * Live trace_pipe (issue 15): does `kallmod trace --follow` keep up with a tracer at full rate?
 *
 *   node bench/live-trace.mjs [--seconds N] [--rounds N] [--kallmod PATH]   (as root; skips otherwise)
 *
 * --kallmod adds another build's CLI (a baseline tree) to the same rounds.
 *
 * Makes its own tracefs instance (instances/kallmod-bench-PID), enables the `function` tracer in
 * it (or, where the kernel refuses it, every trace event: said in the output), runs a load (find
 * over / and dd) and reads the instance's trace_pipe for N seconds, in interleaved rounds, with
 *   - `cat trace_pipe > /dev/null`                               (the baseline)
 *   - `kallmod trace --follow --instance NAME | wc -l`           (annotated, running kernel)
 * and reports, from per_cpu/cpu* /stats, events read per second and events the kernel overwrote
 * before anyone read them (`overrun`), summed over the CPUs. Everything it enabled is undone,
 * also on an error or SIGINT: tracer and events off, the instance removed, tracefs unmounted when
 * it mounted it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KM = join(root, 'packages/cli/bin/kallmod');
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const seconds = opt('--seconds', 3), rounds = opt('--rounds', 3);
const log = (s) => process.stderr.write(s + '\n');

if (process.getuid?.() !== 0) { console.log('skipped: not root (a tracefs instance needs root)'); process.exit(0); }
if (!existsSync(join(root, 'packages/cli/dist/main.js'))) { console.log('build first: npm run build'); process.exit(2); }

const TRACEFS = '/sys/kernel/tracing';
let mounted = false;
const inst = `kallmod-bench-${process.pid}`;
const dir = `${TRACEFS}/instances/${inst}`;
const children = new Set();

const put = (rel, v) => writeFileSync(join(dir, rel), v);
const tryPut = (rel, v) => { try { put(rel, v); return null; } catch (e) { return e; } };

function cleanup() {
  for (const c of children) { try { process.kill(-c.pid, 'SIGKILL'); } catch { try { c.kill('SIGKILL'); } catch { /* gone */ } } }
  children.clear();
  if (existsSync(dir)) {
    tryPut('tracing_on', '0');
    tryPut('current_tracer', 'nop');
    tryPut('events/enable', '0');
    for (let i = 0; i < 10 && existsSync(dir); i++) { try { rmdirSync(dir); } catch { spawnSync('sleep', ['0.2']); } }
    if (existsSync(dir)) log(`warning: could not remove ${dir}`);
  }
  if (mounted) { spawnSync('umount', [TRACEFS]); mounted = false; }
}
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

/** Sums of the per-CPU ring buffer counters of the instance. */
function stats() {
  const s = { read: 0, overrun: 0, entries: 0 };
  for (const c of readdirSync(join(dir, 'per_cpu')).filter((x) => x.startsWith('cpu'))) {
    const t = readFileSync(join(dir, 'per_cpu', c, 'stats'), 'latin1');
    const num = (k) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? 0);
    s.read += num('read events'); s.overrun += num('overrun'); s.entries += num('entries');
  }
  return s;
}

const kill = (pid, sig) => { try { process.kill(pid, sig); } catch { /* gone already */ } };

/**
 * One reading: the reader (argv) runs N seconds under load, its stdout counted here (the same
 * sink for every reader); events read and overwritten per second, and the lines it wrote.
 */
async function reading(argv) {
  put('tracing_on', '0');
  put('trace', ''); // empty the buffer: each reading starts alike
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  // trace_pipe ends (EOF) once tracing is off and what was left is read: the reader then exits
  const closed = new Promise((r) => child.on('close', (code, sig) => r(sig ?? code)));
  let lines = 0;
  child.stdout.on('data', (d) => { for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++; });
  await new Promise((r) => setTimeout(r, 500)); // the reader's start-up (node, the table)
  const s0 = stats();
  put('tracing_on', '1');
  const work = 'while :; do find / -xdev -maxdepth 4 >/dev/null 2>&1; dd if=/dev/zero of=/dev/null bs=4k count=20000 2>/dev/null; done';
  const load = spawn('bash', ['-c', work], { stdio: 'ignore', detached: true });
  children.add(load);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  put('tracing_on', '0');
  const s1 = stats();
  kill(-load.pid, 'SIGKILL'); children.delete(load);
  // what is left in the buffer is read to the end, not counted in the events/s
  const done = await Promise.race([closed, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
  if (done === 'timeout') { kill(child.pid, 'SIGINT'); await closed; }
  children.delete(child);
  return { read: (s1.read - s0.read) / seconds, lost: (s1.overrun - s0.overrun) / seconds, lines };
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

try {
  if (!existsSync(`${TRACEFS}/trace_pipe`)) {
    if (spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS]).status !== 0) {
      console.log(`skipped: no tracefs at ${TRACEFS} and it cannot be mounted`);
      process.exit(0);
    }
    mounted = true;
  }
  mkdirSync(dir);
  put('buffer_size_kb', '2048');
  let source = 'function tracer';
  const refused = tryPut('current_tracer', 'function');
  if (refused) {
    // some kernels (this VM's) refuse the function tracer (EPERM): the events that print kernel
    // functions (%pS call sites, timer and work functions, irq handlers) and the scheduler's
    const subsystems = (process.env.KALLMOD_LIVE_EVENTS ?? 'kmem,timer,workqueue,irq,sched').split(',');
    for (const e of subsystems) if (e === '.') put('events/enable', '1'); else if (existsSync(join(dir, 'events', e))) put(`events/${e}/enable`, '1');
    source = `trace events ${subsystems.join(',')} (the function tracer was refused: ${refused.code ?? refused.message}; `
      + 'KALLMOD_LIVE_EVENTS=LIST picks others, "." every event)';
  }
  put('tracing_on', '0');
  log(`live trace: ${source}, ${seconds} s per reading, ${rounds} rounds, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const pipe = join(dir, 'trace_pipe');
  const readers = { cat: ['cat', pipe] };
  // the baseline right after cat, this build last: the order was seen to favour the one after cat
  if (argv.includes('--kallmod')) {
    readers['baseline'] = [process.execPath, resolve(argv[argv.indexOf('--kallmod') + 1]), 'trace', '--follow', '--instance', inst];
  }
  readers['kallmod'] = [process.execPath, KM, 'trace', '--follow', '--instance', inst];
  const r = Object.fromEntries(Object.keys(readers).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [k, cmd] of Object.entries(readers)) {
      const x = await reading(cmd);
      r[k].push(x);
      log(`  ${k}: read ${x.read.toFixed(0)}/s, overwritten ${x.lost.toFixed(0)}/s, ${x.lines} lines out`);
    }
  }
  if (readers['baseline']) log(`baseline: ${readers['baseline'][1]}`);
  const row = (k) => {
    const read = median(r[k].map((x) => x.read)), lost = median(r[k].map((x) => x.lost));
    return `${k.padEnd(9)} events read ${read.toFixed(0)}/s, overwritten unread ${lost.toFixed(0)}/s (${((100 * lost) / (read + lost || 1)).toFixed(1)}% lost)`;
  };
  console.log(`source: ${source}; ${seconds} s × ${rounds} interleaved rounds, medians; load at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const k of Object.keys(readers)) console.log(row(k));
} finally {
  cleanup();
}
