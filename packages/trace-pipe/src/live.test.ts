/**
 * Live, on this machine: our own tracefs instance (instances/kallmod-test-<pid>) with
 * sched_process_exec + options/stacktrace (+ sym-offset), activity from /bin/true, read through
 * `kallmod trace --follow --instance` (built CLI, running kernel's /proc/kallsyms); every
 * recognised reference must resolve, to the address /proc/kallsyms gives that name. The
 * instance is removed afterwards, also on failure. Skipped with a reason without tracefs/root.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, cliSkipReason } from './kernel.test-util.js';
import { findTracefs } from './command.js';

const tracefs = findTracefs();
function skipReason(): string | null {
  const c = cliSkipReason();
  if (c) return c;
  // root first: tracefs is mode 700, so to anyone else it looks unmounted
  if (process.getuid?.() !== 0) return 'not root: cannot create a tracefs instance';
  if (!tracefs) return 'no tracefs mounted (mount -t tracefs nodev /sys/kernel/tracing)';
  if (!existsSync(`${tracefs}/instances`)) return 'tracefs has no instances/ directory';
  if (!existsSync('/proc/kallsyms') || /^0+ /.test(readFileSync('/proc/kallsyms', 'latin1').slice(0, 64))) return '/proc/kallsyms hides addresses';
  return null;
}
const skip = skipReason();
if (skip) console.log(`[trace live] skipped: ${skip}`);

const inst = `kallmod-test-${process.pid}`;
const dir = tracefs ? `${tracefs}/instances/${inst}` : '';
function put(rel: string, v: string): void { try { writeFileSync(`${dir}/${rel}`, v); } catch { /* cleanup best effort */ } }
function cleanup(): void {
  if (!dir || !existsSync(dir)) return;
  put('tracing_on', '0');
  put('events/sched/sched_process_exec/enable', '0');
  put('options/stacktrace', '0');
  for (let i = 0; i < 5 && existsSync(dir); i++) { try { rmdirSync(dir); } catch { spawnSync('sleep', ['0.2']); } }
}
afterAll(cleanup);

interface Ref {
  line: number; text: string; name: string | null; offset: number | null; size: number | null; symbolAddress: string | null; ambiguous: boolean;
  candidates: { address: string }[];
}

async function follow(
  args: string[], want: (out: string) => boolean, ms = 15000,
): Promise<{ out: string; err: string; code: number | null; signal: NodeJS.Signals | null }> {
  const p = spawn(process.execPath, [CLI, 'trace', '--follow', '--instance', inst, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => p.on('exit', (code, signal) => res({ code, signal })));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 1500)); // table load
  while (!want(out) && Date.now() - t0 < ms) {
    spawnSync('/bin/true');
    await new Promise((r) => setTimeout(r, 100));
  }
  p.kill('SIGINT');
  const e = await exited;
  return { out, err, ...e };
}

describe.skipIf(!!skip)('trace --follow on this machine', () => {
  it('reads the instance trace_pipe live; every stack frame resolves to /proc/kallsyms', async () => {
    try {
      mkdirSync(dir);
      put('options/stacktrace', '1');
      put('options/sym-offset', '1');
      put('events/sched/sched_process_exec/enable', '1');
      put('tracing_on', '1');
      const r = await follow(['--refs'], (o) => o.split('\n').length > 30);
      expect(r.err).not.toMatch(/Error|at .*\.js/);
      expect(r.code === 130 || r.signal === 'SIGINT').toBe(true);
      const refs = r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ref);
      expect(refs.length).toBeGreaterThan(10);
      const ks = new Map<string, string[]>();
      for (const l of readFileSync('/proc/kallsyms', 'latin1').split('\n')) {
        const f = l.split(/\s+/);
        if (f.length >= 3) { const a = '0x' + f[0]!.replace(/^0+/, ''); const v = ks.get(f[2]!); if (v) v.push(a); else ks.set(f[2]!, [a]); }
      }
      let checked = 0;
      for (const x of refs) {
        expect(x.name, x.text).not.toBeNull();
        const addrs = ks.get(x.name!) ?? [];
        expect(addrs.length, `${x.name} in /proc/kallsyms`).toBeGreaterThan(0);
        if (x.ambiguous) for (const c of x.candidates) expect(addrs).toContain(c.address);
        else { expect(addrs, x.text).toContain(x.symbolAddress); checked++; }
        if (x.offset !== null && x.size !== null) expect(x.offset).toBeLessThan(x.size);
      }
      expect(checked).toBeGreaterThan(10);
      console.log(`[trace live] ${refs.length} refs from ${inst}, ${checked} checked against /proc/kallsyms`);
    } finally {
      cleanup();
    }
  }, 60_000);

  it('text mode: the first lines arrive while trace_pipe stays open; closing the reader ends it quietly', async () => {
    try {
      mkdirSync(dir);
      put('options/stacktrace', '1');
      put('events/sched/sched_process_exec/enable', '1');
      put('tracing_on', '1');
      const p = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" trace --follow --instance ${inst} | head -n 3`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
      const t0 = Date.now();
      let done = false;
      void exited.then(() => { done = true; });
      await new Promise((r) => setTimeout(r, 1500));
      while (!done && Date.now() - t0 < 20000) { spawnSync('/bin/true'); await new Promise((r) => setTimeout(r, 100)); }
      expect(done).toBe(true); // kallmod ended after head closed the pipe (on its next write)
      expect(out.split('\n').filter((l) => l.includes('sched_process_exec') || l.includes('=>')).length).toBeGreaterThanOrEqual(1);
      expect(err).not.toMatch(/EPIPE|Error|at .*\.js/);
    } finally {
      cleanup();
    }
  }, 60_000);

  it('SIGTERM ends it while trace_pipe is idle (the reader sits in read(2))', async () => {
    try {
      mkdirSync(dir);
      put('tracing_on', '1');
      const p = spawn(process.execPath, [CLI, 'trace', '--follow', '--instance', inst], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => p.on('exit', (code, signal) => res({ code, signal })));
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = Date.now();
      p.kill('SIGTERM');
      const e = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      if (!e) p.kill('SIGKILL');
      expect(e, 'still running 5 s after SIGTERM').not.toBeNull();
      expect(e!.signal === 'SIGTERM' || e!.code === 143).toBe(true);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(err).not.toMatch(/Error|at .*\.js/);
    } finally {
      cleanup();
    }
  }, 30_000);

  it('a missing instance is a clear error', () => {
    const r = spawnSync(process.execPath, [CLI, 'trace', '--follow', '--instance', `no-such-${process.pid}`], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no such tracefs instance/);
  });
});
