#!/usr/bin/env node
/**
 * The running-kernel defaults on a real distro kernel (the tree of test/setup/distro-kernel.mjs:
 * Debian's 6.12 cloud kernel, 341 MB debug vmlinux): the first run's DWARF parse (wall time and
 * peak RSS, /usr/bin/time), a new boot served by the cached vmlinux part, and the cached start-up
 * to the first annotated line next to node's. bench/run.mjs adds these rows to BENCHMARKS.md;
 * alone: `node bench/distro-kernel.mjs [--runs N]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine } from './first-line.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KM = join(root, 'packages/cli/bin/kallmod');
const TREE = process.env.KALLMOD_DISTRO_TREE ?? join(process.env.KALLMOD_TEST_CACHE ?? join(homedir(), '.cache', 'kallmod-test'), 'distro', 'current');

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Wall seconds and max RSS (MB) of one run. */
function timeV(args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', KM, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [s, kb] = last.split(' ').map(Number);
  if (r.status !== 0 || !Number.isFinite(s)) throw new Error(`kallmod ${args.join(' ')}: ${last}`);
  return { s, mb: kb / 1024 };
}

/** Rows [what, figure, baseline, note] for BENCHMARKS.md, or one row saying why not measured. */
export async function distroKernelRows({ runs = 5, log = () => {} } = {}) {
  if (!existsSync(join(TREE, 'ready.json'))) {
    return { rows: [['distro kernel (--root, Debian 6.12 cloud)', 'not measured', '', `no ${TREE}: run node test/setup/distro-kernel.mjs`]], about: '' };
  }
  const { release } = JSON.parse(readFileSync(join(TREE, 'ready.json'), 'utf8'));
  const R = join(TREE, 'root');
  const cache = mkdtempSync(join(tmpdir(), 'kallmod-bench-cache-'));
  const rows = [];
  const f0 = (x) => x.toFixed(0), f1 = (x) => x.toFixed(1), f2 = (x) => x.toFixed(2);
  try {
    log(`distro kernel ${release}: first runs`);
    const first = [], noCache = [], reboot = [];
    for (let r = 0; r < runs; r++) {
      rmSync(cache, { recursive: true, force: true });
      first.push(timeV(['lookup', '--root', R, '--cache-dir', cache, 'vfs_read']));
      noCache.push(timeV(['lookup', '--root', R, '--no-cache', 'vfs_read']));
      // a new boot: this boot's table gone, the vmlinux part cached
      for (const d of spawnSync('ls', [cache], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) rmSync(join(cache, d, 'boot.snap'), { force: true });
      reboot.push(timeV(['lookup', '--root', R, '--cache-dir', cache, 'vfs_read']));
    }
    const m = (a, k) => median(a.map((x) => x[k]));
    rows.push(['distro kernel, first run: DWARF parse + merge + cache write (341 MB vmlinux)', `${f2(m(first, 's'))} s, ${f0(m(first, 'mb'))} MB RSS`, '',
      `goal ≤ 5 s, ≤ 400 MB: ${m(first, 's') <= 5 && m(first, 'mb') <= 400 ? 'met' : 'NOT met'}`]);
    rows.push(['distro kernel, --no-cache (parse + merge every run)', `${f2(m(noCache, 's'))} s, ${f0(m(noCache, 'mb'))} MB RSS`, '', '']);
    rows.push(['distro kernel, a new boot: cached vmlinux part + this boot\'s kallsyms', `${f2(m(reboot, 's'))} s, ${f0(m(reboot, 'mb'))} MB RSS`, '',
      'writes this boot\'s table']);
    log(`distro kernel ${release}: cached start-up`);
    const ks = readFileSync(join(R, 'proc/kallsyms'), 'latin1');
    const addr = ks.match(/^([0-9a-f]+) T vfs_read$/m)[1];
    const frame = `\t${addr} vfs_read+0x0 ([kernel.kallsyms])`;
    // the same table as an explicit snapshot: what the cached path adds to a snapshot load
    const snap = join(cache, 'explicit.snap');
    spawnSync(KM, ['capture', '-o', snap, '--root', R, '--cache-dir', cache], { stdio: 'ignore' });
    const st = { node: [], km: [], snap: [] };
    await firstLine(KM, ['perf', '--root', R, '--cache-dir', cache], frame); // warm-up
    for (let r = 0; r < Math.max(15, 3 * runs); r++) {
      st.node.push(await firstLine('node', ['-e', 'process.stdout.write("x\\n")'], ''));
      st.km.push(await firstLine(KM, ['perf', '--root', R, '--cache-dir', cache], frame));
      st.snap.push(await firstLine(KM, ['perf', '--snapshot', snap], frame));
    }
    const n0 = median(st.node), k0 = median(st.km), s0 = median(st.snap);
    rows.push(['start-up to first annotated line, distro kernel from its cache (perf --root)', `${f0(k0 * 1000)} ms`,
      `node: ${f0(n0 * 1000)} ms; --snapshot of the same table: ${f0(s0 * 1000)} ms`,
      `+${f0((k0 - n0) * 1000)} ms; goal ≤ node + 30 ms: ${k0 - n0 <= 0.03 ? 'met' : 'NOT met'}`]);
    void f1;
  } finally { rmSync(cache, { recursive: true, force: true }); }
  const about = `- Distro kernel: Debian's ${release} (\`-dbg\` and \`-unsigned\` packages) unpacked by
  \`node test/setup/distro-kernel.mjs\`, with a made-up boot (kallsyms from its System.map at a KASLR slide,
  5 loadable modules); \`kallmod lookup --root TREE --cache-dir EMPTY vfs_read\` under \`/usr/bin/time\` (median of ${runs});
  \`node bench/distro-kernel.mjs\` measures these rows alone.`;
  return { rows, about };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--runs');
  const { rows } = await distroKernelRows({ runs: i > 0 ? Number(process.argv[i + 1]) : 5, log: (s) => process.stderr.write(s + '\n') });
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
}
