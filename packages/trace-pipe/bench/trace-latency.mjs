#!/usr/bin/env node
// Added latency of `kallmod trace` on a pipe: write one real trace line at a time into its
// stdin, time until the annotated line comes out; the same through `cat` as the baseline.
// usage: node packages/trace-pipe/bench/trace-latency.mjs [N=1000]
// Sources: the shared 6.12 kernel (../shared/kernel) when present, else the running kernel.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const N = Number(process.argv[2] ?? 1000);
const K = resolve(root, '../shared/kernel');
const cli = resolve(root, 'packages/cli/bin/kallmod');
const src = existsSync(`${K}/boot-kaslr/kallsyms.xz`) ? [
  '--kallsyms', `${K}/boot-kaslr/kallsyms.xz`, '--system-map', `${K}/System.map.xz`, '--ranges', `${K}/modules.builtin.ranges`,
  '--builtin', `${K}/modules.builtin`, '--modinfo', `${K}/modules.builtin.modinfo`, '--linker-map', `${K}/vmlinux.map.xz`,
  '--linker-map', `${K}/vmlinux.o.map.xz`, '--proc-modules', `${K}/boot-kaslr/proc-modules`,
  '--module-sections', `${K}/boot-kaslr/module-sections.txt`, '--modules-dir', `${K}/modules`,
] : [];
const fx = resolve(root, 'fixtures/kernel-6.12/boot-kaslr');
const lines = readdirSync(fx).filter((f) => f.startsWith('trace')).flatMap((f) => readFileSync(`${fx}/${f}`, 'latin1').split('\n'))
  .filter((l) => l && !l.startsWith('#'));

async function measure(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  let buf = '';
  let waiter = null;
  p.stdout.on('data', (d) => { buf += d.toString('latin1'); if (waiter && buf.includes('\n')) { const w = waiter; waiter = null; w(); } });
  const roundTrip = (line) => new Promise((res) => {
    const t0 = process.hrtime.bigint();
    waiter = () => { buf = buf.slice(buf.indexOf('\n') + 1); res(Number(process.hrtime.bigint() - t0) / 1e6); };
    p.stdin.write(line + '\n');
  });
  for (let i = 0; i < 20; i++) await roundTrip(lines[i % lines.length]); // warm-up (table load on the first)
  const t = [];
  for (let i = 0; i < N; i++) t.push(await roundTrip(lines[i % lines.length]));
  p.stdin.end();
  t.sort((a, b) => a - b);
  const q = (x) => t[Math.min(t.length - 1, Math.floor(x * t.length))];
  return { p50: q(0.5), p99: q(0.99), max: t[t.length - 1] };
}

const base = await measure('cat', []);
const km = await measure(process.execPath, [cli, 'trace', ...src]);
const f = (x) => x.toFixed(3);
console.log(`lines ${N} (real captures, one at a time), sources: ${src.length ? 'shared 6.12 kernel' : 'running kernel'}`);
console.log(`cat          p50 ${f(base.p50)} ms  p99 ${f(base.p99)} ms  max ${f(base.max)} ms`);
console.log(`kallmod trace p50 ${f(km.p50)} ms  p99 ${f(km.p99)} ms  max ${f(km.max)} ms`);
console.log(`added        p50 ${f(km.p50 - base.p50)} ms  p99 ${f(km.p99 - base.p99)} ms`);
