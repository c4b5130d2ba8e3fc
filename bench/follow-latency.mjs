#!/usr/bin/env node
/**
 * Per-line latency of `kallmod trace --follow` (issue 15): how long a line written to an
 * instance's trace_marker takes to come out, next to `cat trace_pipe`.
 *
 *   node bench/follow-latency.mjs [--lines N] [--kallmod PATH]   (as root; skips otherwise)
 *
 * Its own tracefs instance (instances/kallmod-lat-PID), nothing enabled in it but tracing_on;
 * each reader gets 1.5 s to load its table, then N marker lines, one at a time, 3 ms apart (so
 * each is a read of its own). The first line is left out (the reader's first wake-up).
 * --kallmod adds another build's CLI. The instance is removed afterwards, also on an error.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (n) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
const N = Number(arg('--lines') ?? 1000);
if (process.getuid?.() !== 0) { console.log('skipped: not root (a tracefs instance needs root)'); process.exit(0); }
const TRACEFS = '/sys/kernel/tracing';
let mounted = false;
if (!existsSync(`${TRACEFS}/instances`)) {
  const m = spawn('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: 'inherit' });
  if (await new Promise((r) => m.on('exit', r)) !== 0) { console.log('skipped: cannot mount tracefs'); process.exit(0); }
  mounted = true;
}
const inst = `kallmod-lat-${process.pid}`, dir = `${TRACEFS}/instances/${inst}`;

async function measure(cmd) {
  const p = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => p.on('exit', r));
  const marker = openSync(`${dir}/trace_marker`, 'w');
  let seen = '', waiting = null;
  p.stdout.on('data', (d) => {
    seen += d;
    if (waiting && seen.includes(waiting.tag)) { const w = waiting; waiting = null; seen = ''; w.res(); }
  });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const ms = [];
    for (let i = 0; i <= N; i++) {
      const tag = `kallmod-lat-${i}-end`;
      const t0 = process.hrtime.bigint();
      await new Promise((res) => { waiting = { tag, res }; writeSync(marker, tag + '\n'); });
      if (i) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await new Promise((r) => setTimeout(r, 3));
    }
    ms.sort((a, b) => a - b);
    const q = (x) => ms[Math.min(ms.length - 1, Math.floor(x * ms.length))].toFixed(3);
    return `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${ms[ms.length - 1].toFixed(3)} ms`;
  } finally {
    closeSync(marker);
    p.kill('SIGKILL'); // a reader that sits in read(2) on an idle pipe is not what is measured here
    await exited;
  }
}

try {
  mkdirSync(dir);
  writeFileSync(`${dir}/tracing_on`, '1');
  const readers = { cat: ['cat', `${dir}/trace_pipe`] };
  if (arg('--kallmod')) readers.baseline = [process.execPath, resolve(arg('--kallmod')), 'trace', '--follow', '--instance', inst];
  readers.kallmod = [process.execPath, join(root, 'packages/cli/bin/kallmod'), 'trace', '--follow', '--instance', inst];
  console.log(`trace --follow latency: ${N} trace_marker lines, one at a time`);
  for (const [name, cmd] of Object.entries(readers)) console.log(`${name.padEnd(9)} ${await measure(cmd)}`);
} finally {
  try { writeFileSync(`${dir}/tracing_on`, '0'); } catch { /* gone */ }
  for (let i = 0; i < 10 && existsSync(dir); i++) { try { rmdirSync(dir); } catch { await new Promise((r) => setTimeout(r, 200)); } }
  if (mounted) spawn('umount', [TRACEFS], { stdio: 'inherit' });
}
