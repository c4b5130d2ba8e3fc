#!/usr/bin/env node
// Benchmark (a script, not a test) of --lines, in one run:
//  1. addresses/s: `addr2line -fi` on a file of 10,000 text addresses of the Debian 6.12 debug
//     vmlinux (fixed seed, random order as a profile's would be: no locality), against
//     `kallmod lookup --lines --json` on the same addresses at their runtime (KASLR) spelling,
//     from the distro tree with a warm per-kernel cache, and the in-process engine alone;
//  2. oops lines/s: fixtures/dmesg/decode_stacktrace.sh against `kallmod dmesg --lines` on the
//     real oopses and kprobe stack traces of fixtures/kernel-6.12 (module DWARF only: that build's
//     vmlinux is not shipped, so both decode the module frames; the script still runs nm and
//     addr2line for every frame);
//  3. peak RSS of the kallmod runs (/usr/bin/time -f %M).
// usage: node bench/lines.mjs [N]   (needs the distro tree: node test/setup/distro-kernel.mjs)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const km = join(root, 'node_modules/.bin/kallmod');
const N = Number(process.argv[2] ?? 10000);
const DISTRO = process.env.KALLMOD_DISTRO_TREE ?? join(homedir(), '.cache/kallmod-test/distro/current');
const { release: REL } = JSON.parse(readFileSync(join(DISTRO, 'ready.json'), 'utf8'));
const R = join(DISTRO, 'root');
const V = join(R, `usr/lib/debug/boot/vmlinux-${REL}`);
const tmp = '/tmp/kallmod-bench-lines';
mkdirSync(tmp, { recursive: true });
const { openElf } = await import(join(root, 'packages/core/dist/sources/elf/index.js'));
const { SourceLines } = await import(join(root, 'packages/core/dist/sources/elf/source-lines.js'));
const { keyToHex } = await import(join(root, 'packages/core/dist/address.js'));

// 1. the addresses: link-time for addr2line, runtime (+ the boot's KASLR slide) for kallmod
const o = openElf(V);
const syms = o.symbols().filter((s) => s.type === 'func' && s.size > 0 && s.section === '.text' && !/^__(pfx|cfi)_/.test(s.name));
const text0 = o.symbols().find((s) => s.name === '_text').value;
o.close();
const ksText = readFileSync(join(R, 'proc/kallsyms'), 'latin1').split('\n').find((l) => l.endsWith(' T _text')).split(' ')[0];
const slide = BigInt('0x' + ksText) - BigInt(keyToHex(text0));
let seed = 4242;
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
const addrs = Array.from({ length: N }, () => { const s = syms[Math.floor(rnd() * syms.length)]; return s.value + Math.floor(rnd() * s.size); });
const linkFile = join(tmp, 'link.txt'), runFile = join(tmp, 'runtime.txt');
writeFileSync(linkFile, addrs.map((a) => keyToHex(a)).join('\n') + '\n');
writeFileSync(runFile, addrs.map((a) => '0x' + (BigInt(keyToHex(a)) + slide).toString(16)).join('\n') + '\n');

const timed = (cmd, args, input) => {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { input: readFileSync(input), maxBuffer: 1 << 30 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.toString().slice(-300)}`);
  return { s, rssMB: Number(r.stderr.toString().trim().split('\n').pop()) / 1024, out: r.stdout };
};
const cache = ['--root', R, '--cache-dir', join(tmp, 'cache')];
timed(km, ['lookup', ...cache, '0x' + ksText], linkFile); // warm the per-kernel cache (the first run parses the DWARF)

const runs = { a2l: [], km: [], engine: [] };
let kmRss = 0;
for (let i = 0; i < 2; i++) {
  runs.a2l.push(timed('addr2line', ['-f', '-i', '-e', V], linkFile).s);
  const k = timed(km, ['lookup', '--lines', '--json', ...cache], runFile);
  runs.km.push(k.s); kmRss = Math.max(kmRss, k.rssMB);
  const t = performance.now();
  const sl = SourceLines.open(V);
  for (const a of addrs) sl.frames(a);
  sl.close();
  runs.engine.push((performance.now() - t) / 1000);
}
const best = (xs) => Math.min(...xs);

// 2. oops lines: decode_stacktrace.sh vs kallmod dmesg --lines
const K = join(root, 'fixtures/kernel-6.12');
const xz = (src, out) => { if (!existsSync(out)) writeFileSync(out, spawnSync('xz', ['-dc', src], { maxBuffer: 1 << 30 }).stdout); return out; };
const mods = join(tmp, 'modules');
mkdirSync(mods, { recursive: true });
for (const f of spawnSync('ls', [join(K, 'modules')]).stdout.toString().split('\n').filter(Boolean)) xz(join(K, 'modules', f), join(mods,
  f.replace(/\.xz$/, '')));
const sysmap = xz(join(K, 'System.map.xz'), join(tmp, 'System.map'));
const fake = join(tmp, 'bin');
mkdirSync(fake, { recursive: true });
writeFileSync(join(fake, 'nm'), `#!/bin/sh\ncase "$1" in *.ko) exec nm "$1";; *) exec cat '${sysmap}';; esac\n`);
for (const t of ['addr2line', 'readelf']) writeFileSync(join(fake, t), `#!/bin/sh\nexec ${t} "$@"\n`);
for (const t of ['nm', 'addr2line', 'readelf']) chmodSync(join(fake, t), 0o755);
writeFileSync(join(tmp, 'vmlinux'), 'stand-in\n');
const oops = join(tmp, 'oops.txt');
// the oops and stack-trace lines of one boot (what decode_stacktrace.sh is run on), Code: lines out (decodecode is not here)
const boot = readFileSync(join(K, 'boot-kaslr/dmesg.txt'), 'latin1') + readFileSync(join(K, 'boot-kaslr/trace-kprobes-stacktrace.txt'), 'latin1');
writeFileSync(oops, boot.split('\n').filter((l) => !/Code: /.test(l)).join('\n'), 'latin1');
const nLines = readFileSync(oops, 'latin1').split('\n').length;
const nFrames = readFileSync(oops, 'latin1').split('\n').filter((l) => /\+0x[0-9a-f]+\/0x[0-9a-f]+/.test(l)).length;
const t0 = performance.now();
spawnSync('bash', [join(root, 'fixtures/dmesg/decode_stacktrace.sh'), join(tmp, 'vmlinux'), '/nonexistent', mods], { input: readFileSync(oops),
  env: { ...process.env, CROSS_COMPILE: fake + '/' }, maxBuffer: 1 << 28 });
const dsS = (performance.now() - t0) / 1000;
const dsrc = ['--kallsyms', xz(join(K, 'boot-kaslr/kallsyms.xz'), join(tmp, 'kallsyms')), '--proc-modules', join(K, 'boot-kaslr/proc-modules'),
  '--module-sections', join(K, 'boot-kaslr/module-sections.txt'), '--modules-dir', mods];
const dm = [0, 1].map(() => timed(km, ['dmesg', '--lines', ...dsrc], oops));
const dmS = best(dm.map((d) => d.s));

const f = (x, d = 0) => x.toFixed(d);
const lines = [
  `## Source lines (\`--lines\`): \`node bench/lines.mjs ${N}\``,
  '',
  `${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`
    + ` (2 cores shared with other work: noisy), best of 2, interleaved.`,
  '',
  '| | time | rate | ratio |',
  '|---|---:|---:|---:|',
  `| \`addr2line -fi\`, ${N} random text addresses of the Debian 6.12 debug vmlinux (341 MB) | `
    + `${f(best(runs.a2l), 2)} s | ${f(N / best(runs.a2l))} addresses/s | `
    + `1× |`,
  `| \`kallmod lookup --lines --json --root\` (warm cache), the same at runtime addresses | `
    + `${f(best(runs.km), 2)} s | ${f(N / best(runs.km))} addresses/s | `
    + `${f(best(runs.a2l) / best(runs.km), 1)}× |`,
  `| the engine alone (SourceLines.frames, in process) | `
    + `${f(best(runs.engine), 2)} s | ${f(N / best(runs.engine))} addresses/s | `
    + `${f(best(runs.a2l) / best(runs.engine), 1)}× |`,
  `| \`decode_stacktrace.sh\` (fixtures/dmesg), ${nLines} lines of one boot's oopses and stack traces (${nFrames} frames) | `
    + `${f(dsS, 2)} s | ${f(nLines / dsS)} lines/s | `
    + `1× |`,
  `| \`kallmod dmesg --lines\`, the same text | ${f(dmS, 2)} s | ${f(nLines / dmS)} lines/s | ${f(dsS / dmS, 1)}× |`,
  '',
  `Peak RSS: \`kallmod lookup --lines\` on the distro vmlinux ${f(kmRss)} MB; \`kallmod dmesg --lines\` ${f(Math.max(...dm.map((d) => d.rssMB)))} MB.`,
];
console.log(lines.join('\n'));
