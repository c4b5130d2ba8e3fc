/**
 * Chaining: `kallmod dmesg | scripts/decode_stacktrace.sh` must decode every frame it decodes
 * without kallmod. This runs the REAL script (fixtures/dmesg/decode_stacktrace.sh, Debian's
 * linux-source-6.12) on the real oopses of fixtures/kernel-6.12 (plus the real kprobe stack traces
 * of null_blk, whose frames carry `[null_blk]`), original and annotated, with stand-in binutils
 * (CROSS_COMPILE points at them) because the 300 MB vmlinux is not shipped:
 *   nm        System.map for "vmlinux"; the real nm for a .ko (the decompressed modules)
 *   addr2line prints OBJ:ADDRESS, so a decoded frame shows which object and address it resolved to
 *   readelf   says every file has .debug_line
 * A line counts as decoded when the script replaced its `func+off/size` by `func (OBJ:ADDR)`.
 */
import { describe, it, expect } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI as KM, KDIR as K, ROOT } from '../../../test/kernel-fixture.js';
import { tempDir } from '../../../test/temp-dir.js';

const SCRIPT = join(ROOT, 'fixtures/dmesg/decode_stacktrace.sh');
const have = spawnSync('nm', ['--version']).status === 0 && spawnSync('bash', ['--version']).status === 0;
if (!have) console.log('[decode_stacktrace chaining] skipped: no nm (binutils) or bash to run the script with');
const D = tempDir('decode');

function unxz(src: string, out: string): string {
  if (!existsSync(out)) execFileSync('sh', ['-c', `xz -dc '${src}' > '${out}.tmp' && mv '${out}.tmp' '${out}'`]);
  return out;
}

function setup(): { fake: string; vmlinux: string; mods: string; src: (boot: string) => string[] } {
  const fake = join(D(), 'fake-binutils');
  const mods = join(D(), 'decode-modules');
  mkdirSync(fake, { recursive: true });
  mkdirSync(mods, { recursive: true });
  const sysmap = unxz(join(K, 'System.map.xz'), join(D(), 'System.map'));
  const vmlinux = join(D(), 'vmlinux');
  writeFileSync(vmlinux, 'stand-in: nm answers from System.map\n');
  const tool = (name: string, body: string) => { writeFileSync(join(fake, name), `#!/bin/sh\n${body}\n`); chmodSync(join(fake, name), 0o755); };
  tool('nm', `case "$1" in *.ko) exec nm "$1";; *) exec cat '${sysmap}';; esac`);
  tool('addr2line', 'obj=""; addr=""; while [ $# -gt 0 ]; do case "$1" in -e) obj=$2; shift;; -*) ;; *) addr=$1;; esac; shift; done; ' +
    'echo "$(basename "$obj"):0x$addr"');
  tool('readelf', 'echo "  [33] .debug_line PROGBITS"');
  for (const m of ['null_blk.ko']) unxz(join(K, 'modules', m + '.xz'), join(mods, m));
  const allMods = join(D(), 'modules');
  mkdirSync(allMods, { recursive: true });
  for (const f of execFileSync('ls', [join(K, 'modules')]).toString().split('\n').filter(Boolean)) {
    unxz(join(K, 'modules', f), join(allMods, f.replace(/\.xz$/, '')));
  }
  const src = (boot: string) => ['--kallsyms', unxz(join(K, `boot-${boot}/kallsyms.xz`), join(D(), `boot-${boot}_kallsyms`)), '--system-map', sysmap,
    '--ranges', join(K, 'modules.builtin.ranges.xz'), '--builtin', join(K, 'modules.builtin'), '--modinfo', join(K, 'modules.builtin.modinfo'),
    '--linker-map', unxz(join(K, 'vmlinux.map.xz'), join(D(), 'vmlinux.map')), '--linker-map', unxz(join(K, 'vmlinux.o.map.xz'), join(D(), 'vmlinux.o.map')),
    '--proc-modules', join(K, `boot-${boot}/proc-modules`), '--module-sections', join(K, `boot-${boot}/module-sections.txt`), '--modules-dir', allMods];
  return { fake, vmlinux, mods, src };
}

/** Run decode_stacktrace.sh; one output line per input line (Code: lines are left out: decodecode is not here). */
function decode(env: ReturnType<typeof setup>, text: string): string[] {
  const r = spawnSync('bash', [SCRIPT, env.vmlinux, '/nonexistent-base', env.mods], {
    input: text, env: { ...process.env, CROSS_COMPILE: env.fake + '/', PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, maxBuffer: 1 << 26,
  });
  expect(r.status).toBe(0);
  return r.stdout.toString('latin1').split('\n');
}

/** What the script decoded on a line: the `(OBJ:0xADDR)` it put in, or null. */
const decoded = (l: string): string | null => /\((\S+:0x[0-9a-f]+)\)/.exec(l)?.[1] ?? null;

describe.skipIf(!have)('scripts/decode_stacktrace.sh still decodes every frame after kallmod dmesg', () => {
  for (const [boot, objname] of [['nokaslr', 'ambiguous'], ['kaslr', 'always']] as const) {
    it(`${boot}, --objname ${objname}, default placement`, () => {
      const env = setup();
      const input = readFileSync(join(K, `boot-${boot}/dmesg.txt`), 'latin1') + readFileSync(join(K, `boot-${boot}/trace-kprobes-stacktrace.txt`), 'latin1');
      const text = input.split('\n').filter((l) => !l.includes('Code:')).join('\n') + '\n';
      const r = spawnSync(KM, ['dmesg', '--objname', objname, ...env.src(boot)], { input: Buffer.from(text, 'latin1'), maxBuffer: 1 << 26 });
      expect(r.status).toBe(0);
      const ann = r.stdout.toString('latin1');
      const inLines = text.split('\n');
      const annLines = ann.split('\n');
      const changed = inLines.filter((l, i) => l !== annLines[i]).length;
      expect(changed).toBeGreaterThan(10);
      const a = decode(env, text), b = decode(env, ann);
      expect(b.length).toBe(a.length);
      let frames = 0, moduleFrames = 0;
      for (let i = 0; i < a.length; i++) {
        const da = decoded(a[i]!);
        if (!da) continue;
        frames++;
        if (da.startsWith('null_blk.ko:')) moduleFrames++;
        expect(decoded(b[i]!), `line ${i + 1}: ${inLines[i]} -> ${annLines[i]}`).toBe(da);
      }
      expect(frames).toBeGreaterThan(50);
      expect(moduleFrames).toBeGreaterThan(0);
    }, 180_000);
  }

  it('--place=after breaks it (why before is the default)', () => {
    const env = setup();
    const text = readFileSync(join(K, 'boot-nokaslr/dmesg.txt'), 'latin1').split('\n').filter((l) => /lkdtm_do_action\+/.test(l)).join('\n') + '\n';
    const r = spawnSync(KM, ['dmesg', '--place', 'after', ...env.src('nokaslr')], { input: Buffer.from(text, 'latin1') });
    const a = decode(env, text), b = decode(env, r.stdout.toString('latin1'));
    expect(a.filter((l) => decoded(l)).length).toBeGreaterThan(0);
    expect(b.filter((l) => decoded(l)).length).toBe(0);
  }, 180_000);
});
