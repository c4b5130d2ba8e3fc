#!/usr/bin/env node
/**
 * Start-up from a raw kallsyms (issue 15: ≤ node + 100 ms): one `kallmod lookup --kallsyms F ADDR`
 * against `node -e 0`, interleaved round by round, wall and CPU (user + sys) time. CPU time is
 * given because a loaded machine stretches wall time far more than it does CPU time.
 *
 *   node bench/startup-raw.mjs [--rounds N] [--kallmod PATH] [FILE...]     (bench/run.mjs makes these rows too)
 *
 * --kallmod adds another build's CLI (a baseline tree) to the same rounds.
 *
 * Files: the 6.12 boot's kallsyms (fixtures/, 160k lines) as .xz and decompressed, this
 * machine's /proc/kallsyms when its addresses are readable, and a distro kallsyms made from
 * $KALLMOD_DISTRO_MAP (a distribution's System.map, e.g. from its -dbg package) when set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KM = join(root, 'packages/cli/bin/kallmod');
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Wall and CPU seconds of one command (bash's `times`: the children's user + sys). */
function measure(argv) {
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `${argv.map(q).join(' ')} >/dev/null 2>&1; s=$?; times; exit $s`], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}`);
  const [, children] = r.stdout.trim().split('\n');
  const secs = (children ?? '').split(/\s+/).map((x) => { const m = /^(\d+)m([\d.]+)s$/.exec(x); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; });
  return { wall, cpu: secs[0] + secs[1] };
}

/** The files to measure, made under `work`: label → path. */
export function rawKallsymsFiles(work) {
  mkdirSync(work, { recursive: true });
  const files = {};
  const xz = join(root, 'fixtures/kernel-6.12/boot-kaslr/kallsyms.xz');
  const plain = join(work, 'kallsyms-6.12.txt');
  if (!existsSync(plain)) writeFileSync(plain, spawnSync('xz', ['-dc', xz], { maxBuffer: 1 << 30 }).stdout);
  const lines = (f) => readFileSync(f, 'latin1').split('\n').filter(Boolean).length;
  files[`6.12 kallsyms (${lines(plain)} lines), decompressed`] = plain;
  files['6.12 kallsyms, the .xz (decompression included)'] = { path: xz, text: plain };
  try {
    const proc = readFileSync('/proc/kallsyms');
    if (/^0*[1-9a-f]/m.test(proc.subarray(0, 4096).toString('latin1'))) {
      const f = join(work, 'kallsyms-this-machine.txt');
      writeFileSync(f, proc);
      files[`this machine's /proc/kallsyms (${lines(f)} lines)`] = f;
    }
  } catch { /* not readable here */ }
  const map = process.env.KALLMOD_DISTRO_MAP;
  if (map && existsSync(map)) {
    // System.map has kallsyms' own `addr type name` lines
    const f = join(work, 'kallsyms-distro.txt');
    writeFileSync(f, readFileSync(map));
    files[`distro kallsyms from ${basename(map)} (${lines(f)} lines)`] = f;
  }
  return files;
}

/** The address of _text in a kallsyms text: a lookup that finds a symbol. */
function textAddress(f) {
  let b = readFileSync(f);
  if (b[0] === 0xfd && b[1] === 0x37) b = spawnSync('xz', ['-dc'], { input: b, maxBuffer: 1 << 30 }).stdout; // a given .xz
  return /^([0-9a-f]+) T _text$/m.exec(b.toString('latin1'))?.[1] ?? 'ffffffff81000000';
}

/** Rows [what, figure, baseline, note] of the start-up from each file, node measured in the same rounds. */
export function rawStartupRows(files, rounds = 11, builds = [KM]) {
  const t = { node: [] };
  const runs = [];
  for (const [i, km] of builds.entries()) for (const k of Object.keys(files)) runs.push([i ? `${k} (${km})` : k, km, files[k]]);
  for (const [k] of runs) t[k] = [];
  const addr = new Map(Object.values(files).map((f) => [f, textAddress(f.text ?? f)]));
  const cmd = (km, f) => [km, 'lookup', '--kallsyms', f.path ?? f, addr.get(f)];
  measure(['node', '-e', '0']);
  for (const [, km, f] of runs) measure(cmd(km, f)); // warm-up (page cache)
  for (let r = 0; r < rounds; r++) {
    t.node.push(measure(['node', '-e', '0']));
    for (const [k, km, f] of runs) t[k].push(measure(cmd(km, f)));
  }
  const ms = (a, key) => median(a.map((x) => x[key])) * 1000;
  const nw = ms(t.node, 'wall'), nc = ms(t.node, 'cpu');
  return runs.map(([k]) => {
    const w = ms(t[k], 'wall'), c = ms(t[k], 'cpu');
    return [`start-up from a raw kallsyms, one lookup: ${k}`, `${w.toFixed(0)} ms (CPU ${c.toFixed(0)} ms)`,
      `node -e 0: ${nw.toFixed(0)} ms (CPU ${nc.toFixed(0)} ms)`,
      `+${(w - nw).toFixed(0)} ms (CPU +${(c - nc).toFixed(0)} ms); goal ≤ node + 100 ms: ${w - nw <= 100 ? 'met' : 'NOT met'}`];
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 11;
  const builds = [KM];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--kallmod') builds.push(resolve(argv[++i]));
  const given = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--rounds' && argv[i - 1] !== '--kallmod');
  const files = given.length ? Object.fromEntries(given.map((f) => [f, f])) : rawKallsymsFiles(join(process.env.TMPDIR || tmpdir(), 'kallmod-bench'));
  console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; median of ${rounds}, interleaved`);
  for (const r of rawStartupRows(files, rounds, builds)) console.log(r.join('  |  '));
}
