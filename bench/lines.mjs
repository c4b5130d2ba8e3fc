#!/usr/bin/env node
// Benchmark (a script, not a test) of --lines, in one run:
//  1. addresses/s: `addr2line -fi` on a file of 10,000 text addresses of the Debian 6.12 debug
//     vmlinux (fixed seed, random order as a profile's would be: no locality), against
//     `kallmod lookup --lines --json` on the same addresses at their runtime (KASLR) spelling,
//     from the distro tree with a warm per-kernel table cache: the first run (no line index yet:
//     it builds one, sources/elf/line-index.ts) and later runs (from the index); and the engine
//     alone in process, from the DWARF (no index) and from the index; the index build alone;
//  2. oops lines/s: fixtures/dmesg/decode_stacktrace.sh against `kallmod dmesg --lines` on all the
//     real oops text of fixtures/kernel-6.12 (both boots' dmesg.txt and kprobe stack traces, the
//     failed boot's console log: module DWARF only, as that build's vmlinux is not shipped, so
//     both decode the module frames; the script still runs nm and addr2line for every frame),
//     once and repeated R times (both tools keep a per-address cache, so repeating is fair to
//     both), kallmod with and without its start-up (a run on empty input);
//  3. peak RSS of the kallmod runs (/usr/bin/time -f %M).
// usage: node bench/lines.mjs [N] [R]   (needs the distro tree: node test/setup/distro-kernel.mjs)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const km = join(root, 'node_modules/.bin/kallmod');
const N = Number(process.argv[2] ?? 10000);
const REPEAT = Number(process.argv[3] ?? 10);
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

const timed = (cmd, args, input, env) => {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { input: Buffer.isBuffer(input) ? input : readFileSync(input), maxBuffer: 1 << 30,
    ...(env ? { env } : {}) });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.toString().slice(-300)}`);
  return { s, rssMB: Number(r.stderr.toString().trim().split('\n').pop()) / 1024, out: r.stdout };
};
const cacheDir = join(tmp, 'cache');
const cache = ['--root', R, '--cache-dir', cacheDir];
timed(km, ['lookup', ...cache, '0x' + ksText], linkFile); // warm the per-kernel table cache (the first run parses the DWARF for objnames)
const sl0 = SourceLines.open(V);
const indexFile = join(cacheDir, sl0.buildId(), 'lines.index');
sl0.close();

const runs = { a2l: [], kmFirst: [], kmWarm: [], lazy: [], warm: [], build: [] };
let rssFirst = 0, rssWarm = 0;
const inProcess = (opts) => {
  const t = performance.now();
  const sl = SourceLines.open(V, opts);
  for (const a of addrs) sl.frames(a);
  sl.close();
  return (performance.now() - t) / 1000;
};
for (let i = 0; i < 2; i++) {
  runs.a2l.push(timed('addr2line', ['-f', '-i', '-e', V], linkFile).s);
  rmSync(indexFile, { force: true });
  const first = timed(km, ['lookup', '--lines', '--json', ...cache], runFile);
  if (!existsSync(indexFile)) throw new Error(`the first run made no ${indexFile}`);
  runs.kmFirst.push(first.s); rssFirst = Math.max(rssFirst, first.rssMB);
  const warm = timed(km, ['lookup', '--lines', '--json', ...cache], runFile);
  if (!warm.out.equals(first.out)) throw new Error('the runs from the index and from the DWARF differ');
  runs.kmWarm.push(warm.s); rssWarm = Math.max(rssWarm, warm.rssMB);
  runs.lazy.push(inProcess(null));
  runs.warm.push(inProcess({ dir: cacheDir }));
  const bdir = join(tmp, 'index-build');
  rmSync(bdir, { recursive: true, force: true });
  const t = performance.now();
  const sl = SourceLines.open(V, { dir: bdir, buildAfterUnits: 1 });
  sl.frames(addrs[0]);
  if (!sl.indexed) throw new Error('no index built');
  sl.close();
  runs.build.push((performance.now() - t) / 1000);
}
const indexMB = statSync(indexFile).size / 1048576;
const best = (xs) => Math.min(...xs);

// 2. oops lines: decode_stacktrace.sh vs kallmod dmesg --lines, every real oops text of that build
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
// each text with the sources of its boot (Code: lines out: decodecode is not here)
const noCode = (t) => t.split('\n').filter((l) => !/Code: /.test(l)).join('\n');
const boot = (b) => ({
  text: noCode(readFileSync(join(K, b, 'dmesg.txt'), 'latin1') + readFileSync(join(K, b, 'trace-kprobes-stacktrace.txt'), 'latin1')),
  src: ['--kallsyms', xz(join(K, b, 'kallsyms.xz'), join(tmp, `kallsyms-${b}`)), '--proc-modules', join(K, b, 'proc-modules'),
    '--module-sections', join(K, b, 'module-sections.txt'), '--modules-dir', mods],
});
const texts = [boot('boot-kaslr'), boot('boot-nokaslr'),
  { text: noCode(spawnSync('xz', ['-dc', join(K, 'console-kaslr-failed-boot.log.xz')]).stdout.toString('latin1')), src: ['--system-map', sysmap,
    '--modules-dir', mods] }];
const rep = (t, n) => Buffer.from(Array.from({ length: n }, () => (t.endsWith('\n') ? t : t + '\n')).join(''), 'latin1');
const countLines = (n) => texts.reduce((a, t) => a + rep(t.text, n).toString('latin1').split('\n').length - 1, 0);
const nFrames = texts.reduce((a, t) => a + t.text.split('\n').filter((l) => /\+0x[0-9a-f]+\/0x[0-9a-f]+/.test(l)).length, 0);
const decode = (n) => {
  const t0 = performance.now();
  for (const t of texts) {
    const r = spawnSync('bash', [join(root, 'fixtures/dmesg/decode_stacktrace.sh'), join(tmp, 'vmlinux'), '/nonexistent', mods], { input: rep(t.text, n),
      env: { ...process.env, CROSS_COMPILE: fake + '/' }, maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`decode_stacktrace.sh: exit ${r.status}`);
  }
  return (performance.now() - t0) / 1000;
};
// the user's path for an oops captured elsewhere: `kallmod capture` of the sources, once
texts.forEach((t, i) => {
  t.snap = join(tmp, `oops-${i}.snap`);
  const r = spawnSync(km, ['capture', '-o', t.snap, ...t.src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`capture: ${r.stderr}`);
});
const kmDmesg = (n, snap = false) => {
  let s = 0, rss = 0;
  for (const t of texts) {
    const r = timed(km, ['dmesg', '--lines', ...(snap ? ['--snapshot', t.snap] : t.src)], n ? rep(t.text, n) : Buffer.alloc(0));
    s += r.s; rss = Math.max(rss, r.rssMB);
  }
  return { s, rss };
};
const oops = { ds1: [], dsN: [], km0: [], km1: [], kmN: [], sn0: [], sn1: [], snN: [] };
let dmRss = 0;
for (let i = 0; i < 2; i++) {
  oops.ds1.push(decode(1));
  for (const [k, n, snap] of [['km0', 0], ['km1', 1], ['kmN', REPEAT], ['sn0', 0, true], ['sn1', 1, true], ['snN', REPEAT, true]]) {
    const r = kmDmesg(n, snap); oops[k].push(r.s); dmRss = Math.max(dmRss, r.rss);
  }
  if (i === 0) oops.dsN.push(decode(REPEAT)); // the slow one: once
}
const L1 = countLines(1), LN = countLines(REPEAT);

const f = (x, d = 0) => x.toFixed(d);
const a2l = best(runs.a2l);
const row = (what, s, n, unit, base) => `| ${what} | ${f(s, 2)} s | ${f(n / s)} ${unit}/s | ${f(base / s, 1)}× |`;
const ds1 = best(oops.ds1), dsN = best(oops.dsN), km0 = best(oops.km0), km1 = best(oops.km1), kmN = best(oops.kmN);
const sn0 = best(oops.sn0), sn1 = best(oops.sn1), snN = best(oops.snN);
const lines = [
  `## Source lines (\`--lines\`): \`node bench/lines.mjs ${N} ${REPEAT}\``,
  '',
  `${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`
    + ` (2 cores shared with other work: noisy), best of 2, interleaved.`,
  '',
  '| | time | rate | ratio |',
  '|---|---:|---:|---:|',
  row(`\`addr2line -fi\`, ${N} random text addresses of the Debian 6.12 debug vmlinux (341 MB)`, a2l, N, 'addresses', a2l),
  row('`kallmod lookup --lines --json --root` (warm table cache), the same at runtime addresses: first run (builds the line index)',
    best(runs.kmFirst), N, 'addresses', a2l),
  row('the same, later runs (from the line index)', best(runs.kmWarm), N, 'addresses', a2l),
  row('the engine alone (SourceLines.frames, in process), from the DWARF (no index)', best(runs.lazy), N, 'addresses', a2l),
  row('the engine alone, from the line index', best(runs.warm), N, 'addresses', a2l),
  `| the line index build alone (every unit of the vmlinux; ${f(indexMB)} MB file) | ${f(best(runs.build), 2)} s | | |`,
  row(`\`decode_stacktrace.sh\` (fixtures/dmesg), ${L1} lines of real oopses, stack traces and a console log (${nFrames} frames)`, ds1, L1, 'lines', ds1),
  row('`kallmod dmesg --lines`, the same text', km1, L1, 'lines', ds1),
  `| the same, start-up excluded (minus ${f(km0, 2)} s: the same runs on empty input) | ${f(km1 - km0, 2)} s | ${f(L1 / (km1 - km0))} lines/s | `
    + `${f(ds1 / (km1 - km0), 1)}× |`,
  row(`\`decode_stacktrace.sh\`, that text ${REPEAT} times (${LN} lines)`, dsN, LN, 'lines', dsN),
  row(`\`kallmod dmesg --lines\`, that text ${REPEAT} times`, kmN, LN, 'lines', dsN),
  `| the same, start-up excluded | ${f(kmN - km0, 2)} s | ${f(LN / (kmN - km0))} lines/s | ${f(dsN / (kmN - km0), 1)}× |`,
  row('`kallmod dmesg --lines --snapshot` (a capture of the same sources), the text once', sn1, L1, 'lines', ds1),
  `| the same on empty input (its start-up: three runs) | ${f(sn0, 2)} s | | |`,
  row(`\`kallmod dmesg --lines --snapshot\`, the text ${REPEAT} times`, snN, LN, 'lines', dsN),
  '',
  `Peak RSS: \`kallmod lookup --lines\` on the distro vmlinux ${f(rssFirst)} MB on the first run (index built), ${f(rssWarm)} MB from the index;`
    + ` \`kallmod dmesg --lines\` ${f(dmRss)} MB.`,
];
console.log(lines.join('\n'));
