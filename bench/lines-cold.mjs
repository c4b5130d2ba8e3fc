#!/usr/bin/env node
// The cold --lines engine alone (issue 12): SourceLines.frames on bench/lines.mjs's 10,000 random
// text addresses of the Debian 6.12 debug vmlinux, no line index, RUNS runs in one process (the
// first pays the JIT and the page cache), wall and CPU time each. TREE: a checkout whose
// packages/core/dist to use (a baseline's, to interleave rounds with it).
//   node bench/lines-cold.mjs [TREE] [RUNS]      (needs: node test/setup/distro-kernel.mjs)
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
const root = process.argv[2] || new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[3] ?? 3);
const DISTRO = join(homedir(), '.cache/kallmod-test/distro/current');
const { release: REL } = JSON.parse(readFileSync(join(DISTRO, 'ready.json'), 'utf8'));
const V = join(DISTRO, 'root', `usr/lib/debug/boot/vmlinux-${REL}`);
const { openElf } = await import(join(root, 'packages/core/dist/sources/elf/index.js'));
const { SourceLines } = await import(join(root, 'packages/core/dist/sources/elf/source-lines.js'));
const o = openElf(V);
const syms = o.symbols().filter((s) => s.type === 'func' && s.size > 0 && s.section === '.text' && !/^__(pfx|cfi)_/.test(s.name));
o.close();
let seed = 4242;
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
const addrs = Array.from({ length: 10000 }, () => { const s = syms[Math.floor(rnd() * syms.length)]; return s.value + Math.floor(rnd() * s.size); });
let sum = 0;
for (let r = 0; r < runs; r++) {
  const t = performance.now(); const cu = process.cpuUsage();
  const sl = SourceLines.open(V, null);
  for (const a of addrs) sum += sl.frames(a).length;
  sl.close();
  const d = process.cpuUsage(cu);
  console.log(`run ${r}: ${((performance.now() - t) / 1000).toFixed(3)} s wall, ${((d.user + d.system) / 1e6).toFixed(3)} s cpu (${sum})`);
}
