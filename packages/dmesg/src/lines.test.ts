/**
 * `kallmod dmesg --lines` on the real 6.12 oopses and kprobe stack traces of fixtures/kernel-6.12
 * (its .ko files carry DWARF 5; its vmlinux is not shipped, so core frames get no lines and that
 * is said once on stderr).
 * - decode_stacktrace.sh (fixtures/dmesg, with the REAL addr2line on the decompressed null_blk.ko)
 *   and kallmod give the same file:line chain for every frame the script decodes, at the address
 *   the script uses (symbol + offset, as `kallmod lookup --lines`);
 * - `kallmod dmesg --lines` adds exactly one `func file:line [inline]` line per inlined function
 *   before its frame, appends ` file:line` to the frame (looked up at address - 1: a call trace's
 *   frames are return addresses), and changes no other byte.
 */
import { describe, it, expect } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI as KM, KDIR as K, ROOT } from '../../../test/kernel-fixture.js';
import { tempDir } from '../../../test/temp-dir.js';

const SCRIPT = join(ROOT, 'fixtures/dmesg/decode_stacktrace.sh');
const have = ['nm', 'addr2line', 'readelf', 'bash', 'xz'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
if (!have) console.log('[dmesg --lines] skipped: needs nm, addr2line, readelf (binutils), bash and xz');
const D = tempDir('dmesg-lines');

function setup() {
  const mods = join(D(), 'modules');
  mkdirSync(mods, { recursive: true });
  for (const f of readdirList(join(K, 'modules'))) {
    const out = join(mods, f.replace(/\.xz$/, ''));
    if (!existsSync(out)) execFileSync('sh', ['-c', `xz -dc '${join(K, 'modules', f)}' > '${out}'`]);
  }
  const sysmap = join(D(), 'System.map');
  if (!existsSync(sysmap)) execFileSync('sh', ['-c', `xz -dc '${join(K, 'System.map.xz')}' > '${sysmap}'`]);
  const kallsyms = join(D(), 'kallsyms');
  if (!existsSync(kallsyms)) execFileSync('sh', ['-c', `xz -dc '${join(K, 'boot-kaslr/kallsyms.xz')}' > '${kallsyms}'`]);
  // the script needs a vmlinux for nm: System.map stands in (core frames: addr2line finds no DWARF)
  const fake = join(D(), 'bin');
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, 'nm'), `#!/bin/sh\ncase "$1" in *.ko) exec nm "$1";; *) exec cat '${sysmap}';; esac\n`);
  chmodSync(join(fake, 'nm'), 0o755);
  for (const t of ['addr2line', 'readelf']) { writeFileSync(join(fake, t), `#!/bin/sh\nexec ${t} "$@"\n`); chmodSync(join(fake, t), 0o755); }
  const src = ['--kallsyms', kallsyms, '--proc-modules', join(K, 'boot-kaslr/proc-modules'),
    '--module-sections', join(K, 'boot-kaslr/module-sections.txt'), '--modules-dir', mods];
  return { mods, fake, src, vmlinux: join(D(), 'vmlinux') };
}

function readdirList(d: string): string[] {
  return execFileSync('ls', [d]).toString().split('\n').filter(Boolean);
}

describe.skipIf(!have)('kallmod dmesg --lines', () => {
  const text = () => readFileSync(join(K, 'boot-kaslr/dmesg.txt'), 'latin1') + readFileSync(join(K, 'boot-kaslr/trace-kprobes-stacktrace.txt'), 'latin1');

  it('decode_stacktrace.sh and kallmod agree on every frame the script decodes (module frames, real addr2line)', () => {
    const env = setup();
    writeFileSync(env.vmlinux, 'stand-in\n');
    // the kprobe stack traces alone: no Code: lines, which the script expands into several
    const input = readFileSync(join(K, 'boot-kaslr/trace-kprobes-stacktrace.txt'), 'latin1');
    const r = spawnSync('bash', [SCRIPT, env.vmlinux, '/nonexistent-base', env.mods], {
      input, env: { ...process.env, CROSS_COMPILE: env.fake + '/' }, maxBuffer: 1 << 26,
    });
    expect(r.status).toBe(0);
    // "func+0x5/0x320 [null_blk]" became "func (FILE:LINE FILE:LINE ...) null_blk"
    const decoded = new Map<string, string[]>();
    const inLines = input.split('\n'), outLines = r.stdout.toString('latin1').split('\n');
    expect(outLines.length).toBe(inLines.length);
    for (let i = 0; i < inLines.length; i++) {
      const l = inLines[i]!, o = outLines[i]!;
      const m = /([\w.]+\+0x[0-9a-f]+\/0x[0-9a-f]+) \[(\w+)\]\)?\s*$/.exec(l);
      // "FILE:LINE (discriminator N)" is one place of the list
      const d = /([\w.]+) \(((?:[^()]|\(discriminator \d+\))*)\) \[?(\w+)\]?\)?\s*$/.exec(o);
      if (m && d) decoded.set(`${m[1]} [${m[2]}]`, d[2]!.split(/ (?!\(discriminator )/).map((x) => x.replace(/^\/nonexistent-base\//, '')));
    }
    expect(decoded.size, 'distinct module frames the script decoded').toBeGreaterThanOrEqual(2);
    const q = [...decoded.keys()];
    const k = spawnSync(KM, ['lookup', '--lines', '--json', ...env.src, ...q], { encoding: 'utf8' });
    expect(k.status, k.stderr).toBe(0);
    type Frame = { file: string; line: number; discriminator?: number };
    const answers = k.stdout.trim().split('\n').map((l) => JSON.parse(l) as Frame & { inlined: Frame[] });
    let discriminated = 0;
    q.forEach((frame, i) => {
      const a = answers[i]!;
      // binutils prints the address's discriminator (the innermost frame's) after every file:line
      const disc = a.inlined[0]?.discriminator ?? a.discriminator;
      const d = disc ? ` (discriminator ${disc})` : '';
      if (d) discriminated++;
      const chain = [...a.inlined.map((x) => `${x.file}:${x.line}${d}`), `${a.file}:${a.line}${d}`];
      // the script's paths are as addr2line prints them: under the build directory (comp_dir)
      const theirs = decoded.get(frame)!;
      expect(theirs.length, frame).toBe(chain.length);
      theirs.forEach((p, n) => expect(p.endsWith('/' + chain[n]!) || p === chain[n], `${frame}: ${p} vs ${chain[n]}`).toBe(true));
    });
    console.log(`decode_stacktrace.sh: ${q.length} module frames, ${discriminated} with a discriminator`);
  });

  it('adds one [inline] line per inlined function before its frame and file:line after it; every other byte kept', () => {
    const env = setup();
    const input = text();
    const plain = spawnSync(KM, ['dmesg', ...env.src], { input: Buffer.from(input, 'latin1'), maxBuffer: 1 << 26 });
    const r = spawnSync(KM, ['dmesg', '--lines', ...env.src], { input: Buffer.from(input, 'latin1'), maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toMatch(/--lines: core-kernel references got no lines: no unstripped vmlinux/);
    const refs = spawnSync(KM, ['dmesg', '--lines', '--refs', ...env.src], { input: Buffer.from(input, 'latin1'), maxBuffer: 1 << 26 });
    type Ref = { text: string; file: string | null; line: number | null; inlined: { name: string; file: string; line: number }[] };
    const objs = refs.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Ref);
    const withLines = objs.filter((o) => o.file !== null);
    expect(withLines.length, 'references with lines (module frames)').toBeGreaterThanOrEqual(6);
    const inlined = withLines.reduce((n, o) => n + o.inlined.length, 0);
    console.log(`dmesg --lines: ${withLines.length} module frames with lines, ${inlined} [inline] lines added`);
    const a = plain.stdout.toString('latin1').split('\n'), b = r.stdout.toString('latin1').split('\n');
    expect(b.length - a.length).toBe(inlined);
    // removing what --lines added gives the output without it, byte for byte
    const added = b.filter((l) => / \[inline\]$/.test(l) && !a.includes(l));
    expect(added.length).toBe(inlined);
    const back = b.filter((l) => !added.includes(l));
    expect(back.length).toBe(a.length);
    back.forEach((l, i) => { if (l !== a[i]) expect(l.replace(/ [\w./-]+\.[ch]:\d+(?: \(discriminator \d+\))?(?=\)?\s*$)/, ''), `line ${i + 1}`).toBe(a[i]); });
    for (const o of withLines) expect(b.some((l) => l.includes(`${o.text} ${o.file}:${o.line}`)), o.text).toBe(true);
  });
});
