/**
 * `kallmod perf` through the built CLI (dist/): real captures of this machine (fixtures/perf,
 * README there), the 6.12 kernel (fixtures/kernel-6.12) for modules and objnames, hand-written edge cases.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSourceFile } from '@kallmod/core';
import { CLI, k, ROOT as root } from '../../../test/kernel-fixture.js';
import { nativeSkipReason } from '../../../test/native-addon.js';
import { tempDir } from '../../../test/temp-dir.js';
import { stackcollapse, stackcollapseSkipReason, sumFolded } from '../../../test/stackcollapse.js';

const FIX = join(root, 'fixtures/perf');
const KALLSYMS = join(FIX, 'kallsyms.xz');
const tmp = tempDir('perf');
const noNative = nativeSkipReason('perf: the native path of the CLI');
const noPerl = stackcollapseSkipReason('perf --fold = stackcollapse-perf.pl');

function km(args: string[], input: Buffer | string, env: Record<string, string> = {}): Buffer {
  const file = join(tmp(), `in-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, input);
  return execFileSync(CLI, [...args, file], { maxBuffer: 1 << 30, env: { ...process.env, ...env } });
}
const fixture = (name: string) => readSourceFile(join(FIX, name));
const lines = (b: Buffer) => b.toString('latin1').split('\n');

/** Same line count; every input line's bytes survive, in order, in its output line (insert-only). */
function expectInsertOnly(input: Buffer, output: Buffer): number {
  const a = lines(input), b = lines(output);
  expect(b.length).toBe(a.length);
  let changed = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    changed++;
    let k = 0;
    for (const ch of b[i]!) if (k < a[i]!.length && ch === a[i]![k]) k++;
    if (k !== a[i]!.length) throw new Error(`line ${i + 1}: ${JSON.stringify(a[i])} -> ${JSON.stringify(b[i])}`);
  }
  return changed;
}

let aliasMap: Map<string, Set<string>> | null = null;
/** Names by address in this machine's kallsyms (start addresses; frames point inside). */
function aliases(): Map<string, Set<string>> {
  if (aliasMap) return aliasMap;
  const starts: [bigint, string][] = [];
  for (const l of readSourceFile(KALLSYMS).toString('latin1').split('\n')) {
    const m = /^([0-9a-f]{16}) [tTwW] (\S+)$/.exec(l);
    if (m) starts.push([BigInt('0x' + m[1]), m[2]!]);
  }
  starts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  aliasMap = new Map();
  const bare = lines(fixture('system-g.F-ip.script.xz'));
  for (const l of bare) {
    const m = /^\s+([0-9a-f]{16})$/.exec(l);
    if (!m || aliasMap.has(m[1]!)) continue;
    const a = BigInt('0x' + m[1]);
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid]![0] <= a) lo = mid; else hi = mid - 1; }
    const set = new Set<string>();
    for (let j = lo; j >= 0 && starts[j]![0] === starts[lo]![0]; j--) set.add(starts[j]![1]);
    aliasMap.set(m[1]!, set);
  }
  return aliasMap;
}

const KERNEL_FRAME = /^\s+([0-9a-f]{16}) (\S+?)(?:\+0x[0-9a-f]+)? \(\[kernel\.kallsyms\]\)\r?$/;

const REAL = [
  'system-g.script.xz', 'system-g.F-comm-pid-tid-cpu-time-event-ip-sym-dso.script.xz', 'system-G-oneline.script.xz',
  'system-g.F-ip-sym.script.xz', 'system-g.F-srcline.script.xz', 'sched-switch-g.script.xz', 'dwarf-ls.script.xz',
];

describe('real perf script output of this machine, against its own kallsyms', () => {
  for (const name of REAL) {
    it(`${name}: passthrough (this kernel has no modules or objnames: nothing to add)`, () => {
      const input = fixture(name);
      const out = km(['perf', '--kallsyms', KALLSYMS], input);
      expect(expectInsertOnly(input, out)).toBe(0);
      expect(out.equals(input)).toBe(true);
    });
  }

  for (const name of ['system-g.script.xz', 'sched-switch-g.script.xz', 'system-G-oneline.script.xz', 'dwarf-ls.script.xz']) {
    it(`${name}: every [kernel.kallsyms] frame resolved by address to the name perf printed`, () => {
      const input = fixture(name);
      const refs = lines(km(['perf', '--refs', '--kallsyms', KALLSYMS], input)).filter(Boolean).map((l) => JSON.parse(l));
      const byLine = new Map<number, any[]>();
      for (const r of refs) byLine.set(r.line, [...(byLine.get(r.line) ?? []), r]);
      let frames = 0;
      lines(input).forEach((l, i) => {
        const m = KERNEL_FRAME.exec(l.replace(/^.*:\s+(?=[0-9a-f]{16} )/, '\t')); // -G: the frame ends the header
        if (!m) return;
        frames++;
        const r = byLine.get(i + 1)?.[0];
        expect(r, `line ${i + 1}`).toBeDefined();
        expect(r.address).toBe('0x' + m[1]);
        expect(r.ambiguous).toBe(false);
        if (m[2] === '[unknown]') { expect(r.name).toBeNull(); return; }
        expect(r.name).toBe(m[2]);
        expect(r.symbolName, `line ${i + 1}: ${l}`).toBe(m[2]);
        expect(r.resolvedBy).toMatch(/^address/);
      });
      expect(frames).toBeGreaterThan(100);
    });
  }

  it('-F ip (bare addresses): the resolved name is inserted as " <name>", the one perf printed with -F ip,sym', () => {
    const bare = lines(fixture('system-g.F-ip.script.xz'));
    const named = lines(fixture('system-g.F-ip-sym.script.xz'));
    const out = lines(km(['perf', '--kallsyms', KALLSYMS], fixture('system-g.F-ip.script.xz')));
    let n = 0;
    bare.forEach((l, i) => {
      const m = /^\s+([0-9a-f]{16})$/.exec(l);
      if (!m) return expect(out[i]).toBe(l);
      const printed = / (\S+)$/.exec(named[i]!)![1]!;
      if (printed === '[unknown]') return;
      // no name printed: the table's preferred alias at that address may be another of its names
      const got = / <(\S+)>$/.exec(out[i]!)?.[1];
      expect(out[i]).toBe(`${l} <${got}>`);
      expect(aliases().get(m[1]!)?.has(printed) && aliases().get(m[1]!)?.has(got!) || got === printed, `${got} vs ${printed}`).toBe(true);
      n++;
    });
    expect(n).toBeGreaterThan(100);
  });

  it('results are identical with --jobs 1 to 4 (--refs, --fold; the text is passed through unchanged here)', () => {
    const input = fixture('system-g.script.xz'); // 3.3 MB: four chunks
    for (const mode of [['--refs'], ['--fold']]) {
      const a = km(['perf', '--jobs', '1', ...mode, '--kallsyms', KALLSYMS], input);
      for (const jobs of ['2', '3', '4']) {
        expect(km(['perf', '--jobs', jobs, ...mode, '--kallsyms', KALLSYMS], input).equals(a), `${mode} -j ${jobs}`).toBe(true);
      }
    }
  });

  for (const name of [...REAL, 'system-g.F-ip.script.xz']) {
    it.skipIf(!!noPerl)(`${name}: --fold = kallmod perf | stackcollapse-perf.pl`, () => {
      const input = fixture(name);
      const folded = sumFolded(km(['perf', '--fold', '--kallsyms', KALLSYMS], input));
      expect(folded).toEqual(stackcollapse(km(['perf', '--kallsyms', KALLSYMS], input)));
      // the script folds nothing without sample headers (-F ip, -F ip,sym); everything else has stacks
      if (!/F-ip|-G-/.test(name)) expect(folded.size, name).toBeGreaterThan(50);
    });
  }

  it('live (a pipe, lines arriving in pieces) gives the same bytes as a file: text and --fold', async () => {
    const input = fixture('system-g.script.xz').subarray(0, 600_000);
    const { spawn } = await import('node:child_process');
    for (const mode of [[], ['--fold']]) {
      const file = km(['perf', ...mode, '--kallsyms', KALLSYMS], input);
      const child = spawn(CLI, ['perf', ...mode, '--kallsyms', KALLSYMS], { stdio: ['pipe', 'pipe', 'inherit'] });
      const got: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => got.push(b));
      const done = new Promise((res) => child.on('close', res));
      for (let i = 0; i < input.length; i += 7777) {
        child.stdin.write(input.subarray(i, i + 7777)); // pieces cut mid-line and mid-sample
        if (i % (7777 * 16) === 0) await new Promise((r) => setTimeout(r, 2));
      }
      child.stdin.end();
      await done;
      expect(Buffer.concat(got).equals(file), mode.join(' ')).toBe(true);
    }
  });

  it('`| head` closing the pipe early: exit 0, nothing on stderr', () => {
    const big = join(tmp(), 'big.txt');
    const one = fixture('system-g.script.xz');
    writeFileSync(big, Buffer.concat(Array.from({ length: 8 }, () => one)));
    // file input (batch) and pipe input (live); PIPESTATUS[1] is kallmod's own status
    const r = spawnSync('bash', ['-c', `"${CLI}" perf --kallsyms "${KALLSYMS}" < "${big}" | head -1 > /dev/null; echo "rc=\${PIPESTATUS[0]}"; ` +
      `cat "${big}" | "${CLI}" perf --kallsyms "${KALLSYMS}" | head -1 >/dev/null; echo "rc=\${PIPESTATUS[1]}"`]);
    expect(r.stdout.toString()).toBe('rc=0\nrc=0\n');
    expect(r.stderr.toString()).toBe('');
  });
});

describe('hand-written edge cases (bytes that must pass untouched)', () => {
  // real addresses of this machine's kallsyms: iowrite16 and vp_notify as perf printed them
  const K1 = 'ffffffff81b954cc', K2 = 'ffffffff81cef4b2';

  it('CRLF, invalid UTF-8, NUL, no final newline: byte-exact; CRLF frames still resolved', () => {
    const input = Buffer.concat([
      Buffer.from(`comm\xff\x00 1 [000] 1.0: 1 cpu-clock:\r\n\t${K1} [unknown] ([kernel.kallsyms])\r\n`, 'latin1'),
      Buffer.from([0x09, 0xc3, 0x28, 0x00, 0xfe, 0x0a, 0x0a]),
      Buffer.from(`\t${K2} vp_notify+0x12 ([kernel.kallsyms])`, 'latin1'),
    ]);
    const out = km(['perf', '--kallsyms', KALLSYMS], input);
    expectInsertOnly(input, out);
    expect(out.toString('latin1')).toContain(`\t${K1} [unknown] <iowrite16> ([kernel.kallsyms])\r\n`);
    expect(out.subarray(out.length - 40).equals(input.subarray(input.length - 40))).toBe(true);
  });

  it('right-aligned headers whose comm reads as hex ("cat", "dd"), and " 0x" brstack lines, are annotated', () => {
    const input = Buffer.from([
      `             cat  1234 [000]   1.5:  250000 cycles:  ${K1} iowrite16+0xc ([kernel.kallsyms])`,
      `              dd  1234 [000]   1.5:  250000 cycles:  ${K2} [unknown] ([kernel.kallsyms])`,
      ` 0x${K1}/0x${K2}/P/-/-/0 `,
      '',
    ].join('\n'));
    // the TypeScript path always; the addon's too where it is built (KALLMOD_NATIVE=1 refuses to start without it)
    for (const native of noNative ? ['0'] : ['0', '1']) {
      const out = lines(km(['perf', '--kallsyms', KALLSYMS], input, { KALLMOD_NATIVE: native }));
      // nothing to add: core kernel, name printed
      expect(out[0]).toBe(`             cat  1234 [000]   1.5:  250000 cycles:  ${K1} iowrite16+0xc ([kernel.kallsyms])`);
      expect(out[1]).toContain(`${K2} [unknown] <vp_notify> ([kernel.kallsyms])`);
      expect(out[2]).toBe(` 0x${K1}<iowrite16>/0x${K2}<vp_notify>/P/-/-/0 `);
    }
  });

  it('branch records with (dso) paths: split at the right "/", user sides left alone, [mod] narrows', () => {
    // hand-written table: init_once in the core kernel, [udf] and [isofs]; udf_fn in [udf]
    const ks = join(tmp(), 'br-kallsyms');
    writeFileSync(ks, ['ffffffff81000300 t init_once', 'ffffffff81000900 T _etext', 'ffffffffc0000000 t init_once\t[udf]', 'ffffffffc0000100 t udf_fn\t[udf]',
      'ffffffffc0000200 t init_once\t[isofs]', ''].join('\n'));
    const input = [
      'perf 1 [000] 1.0: 1 cycles:  udf_fn+0x10(/usr/lib/libfoo.so)/main+0x5(/usr/bin/prog)/P/-/-/0 ',
      'perf 1 [000] 1.0: 1 cycles:  memcpy+0x10(/usr/lib/x86_64-linux-gnu/libc.so.6)/init_once+0x5([udf])/P/-/-/0 ',
      'perf 1 [000] 1.0: 1 cycles:  0x7f0000001000(/usr/lib/libc.so.6)/0xffffffffc0000010([udf])/P/-/-/0 ',
      `perf 1 [000] 1.0: 1 cycles:  ${'[unknown]/[unknown]/P/-/-/0 '.repeat(20000)}`,
      '',
    ].join('\n');
    const out = lines(km(['perf', '--kallsyms', ks], input));
    expect(out[0]).toBe('perf 1 [000] 1.0: 1 cycles:  udf_fn+0x10(/usr/lib/libfoo.so)/main+0x5(/usr/bin/prog)/P/-/-/0 '); // a user function of that name
    expect(out[1]).toBe('perf 1 [000] 1.0: 1 cycles:  memcpy+0x10(/usr/lib/x86_64-linux-gnu/libc.so.6)/init_once[udf]+0x5([udf])/P/-/-/0 ');
    expect(out[2]).toBe('perf 1 [000] 1.0: 1 cycles:  0x7f0000001000(/usr/lib/libc.so.6)/0xffffffffc0000010<init_once[udf]>([udf])/P/-/-/0 ');
    expect(out[3]).toBe(input.split('\n')[3]);
    // -F ip,dso: an address and its dso, no symbol printed
    expect(lines(km(['perf', '--kallsyms', ks], '\tffffffffc0000110 ([udf])\n'))[0]).toBe('\tffffffffc0000110 <udf_fn [udf]> ([udf])');
  });

  it('a 10 MB line passes through', () => {
    const long = Buffer.alloc(10 << 20, 0x61);
    const input = Buffer.concat([Buffer.from(`\t${K1} iowrite16+0xc ([kernel.kallsyms])\n`), long, Buffer.from('\n\n')]);
    const out = km(['perf', '--kallsyms', KALLSYMS], input);
    expect(out.equals(input)).toBe(true);
  });

  it('brstack / brstacksym tokens stay one token; user frames untouched', () => {
    const input = Buffer.from([
      `perf 1 [000] 1.0: 1 cycles: 0x${K1}/0x4011a0/P/-/-/0  0x4011a0/0x${K2}/M/-/-/3 `,
      `perf 1 [000] 1.0: 1 cycles: iowrite16+0xc/vp_notify+0x12/P/-/-/0  main+0x5(/usr/bin/x)/foo+0x1(/usr/bin/x)/P/-/-/0 `,
      `\t          4011a0 main+0x5 (/usr/bin/x)`,
      '',
    ].join('\n'));
    const out = lines(km(['perf', '--kallsyms', KALLSYMS], input));
    expect(out[0]).toBe(`perf 1 [000] 1.0: 1 cycles: 0x${K1}<iowrite16>/0x4011a0/P/-/-/0  0x4011a0/0x${K2}<vp_notify>/M/-/-/3 `);
    expect(out[1]).toBe(lines(input)[1]); // names only, core kernel, unique: nothing to add
    expect(out[2]).toBe(lines(input)[2]);
    const refs = lines(km(['perf', '--refs', '--kallsyms', KALLSYMS], input)).filter(Boolean).map((l) => JSON.parse(l));
    expect(refs.map((r) => [r.line, r.address, r.name, r.symbolName])).toEqual([
      [1, `0x${K1}`, null, 'iowrite16'], [1, `0x${K2}`, null, 'vp_notify'],
      [2, null, 'iowrite16', 'iowrite16'], [2, null, 'vp_notify', 'vp_notify'],
    ]);
  });
});

// ---- modules and objnames: the 6.12 kernel of fixtures/kernel-6.12 (this machine has neither) ----

describe('modules and objnames (6.12 kernel; lines SYNTHESISED from its real symbols)', () => {
  let src: string[] = [];
  const syms: { addr: string; name: string; mod: string | null }[] = [];
  beforeAll(() => {
    // decompressed once: each CLI run below would otherwise unpack them again
    const xz = (f: string) => {
      const out = join(tmp(), f.replace(/\//g, '_').replace(/\.xz$/, ''));
      if (!existsSync(out)) writeFileSync(out, readSourceFile(k(f)));
      return out;
    };
    src = ['--kallsyms', xz('boot-nokaslr/kallsyms.xz'), '--system-map', xz('System.map.xz'), '--ranges', xz('modules.builtin.ranges.xz'),
      '--linker-map', xz('vmlinux.map.xz'), '--linker-map', xz('vmlinux.o.map.xz')];
    const text = readSourceFile(k('boot-nokaslr/kallsyms.xz')).toString('latin1');
    for (const l of text.split('\n')) {
      const m = /^([0-9a-f]{16}) [tT] (\S+)(?:\t\[(\S+)\])?$/.exec(l);
      if (m) syms.push({ addr: m[1]!, name: m[2]!, mod: m[3] ?? null });
    }
  });

  /** A perf-script sample whose frames are these symbols (+0x4, as perf prints a return address). */
  function sample(comm: string, frames: typeof syms): string {
    const at = (a: string) => (BigInt('0x' + a) + 4n).toString(16);
    return `${comm}  1 [000]   1.000001:     250000 cpu-clock:ppp: \n` +
      frames.map((s) => `\t${at(s.addr)} ${s.name}+0x4 (${s.mod ? `[${s.mod}]` : '[kernel.kallsyms]'})\n`).join('') + '\n';
  }

  it('the worker pool over many small chunks: buffers going round between threads never mix up results', async () => {
    const { runTransform } = await import('@kallmod/core/stream/run');
    const { loadTable } = await import('@kallmod/core/load');
    const { sourceOptions } = await import('../../../test/kernel-fixture.js');
    const annotator = await import('./annotator.js');
    const { Writable } = await import('node:stream');
    const { openSync } = await import('node:fs');
    const { table } = loadTable(sourceOptions('nokaslr'), () => {});
    const picked = syms.filter((_, i) => i % 97 === 0);
    const input = Array.from({ length: 2400 }, (_, k) => sample(`c${k}`, Array.from({ length: 8 }, (_, j) => picked[(k * 13 + j * 7) % picked.length]!)))
      .join('');
    const file = join(tmp(), 'pool-in');
    writeFileSync(file, input);
    const run = async (jobs: number, native: string) => {
      const parts: Buffer[] = [];
      // a slow reader now and then: results wait while their buffers are still out
      const output = new Writable({
        highWaterMark: 1 << 14,
        write(c: Buffer, _e, cb) { parts.push(Buffer.from(c)); if (parts.length % 7 === 0) setTimeout(cb, 1); else cb(); },
      });
      const saved = process.env['KALLMOD_NATIVE'];
      process.env['KALLMOD_NATIVE'] = native;
      try {
        await runTransform({
          table, annotator, annotatorModule: '@kallmod/perf-script/annotator', opts: { objname: 'ambiguous', refs: false },
          input: { fd: openSync(file, 'r'), path: file }, output, jobs, chunkSize: 1 << 14,
        });
      } finally {
        if (saved === undefined) delete process.env['KALLMOD_NATIVE']; else process.env['KALLMOD_NATIVE'] = saved;
      }
      return Buffer.concat(parts);
    };
    const inline = await run(1, '0');
    expect(inline.length).toBeGreaterThan(input.length + 10000); // annotated: the comparison means something
    expect(input.length).toBeGreaterThan(40 << 14); // many chunks
    expect((await run(2, '0')).equals(inline)).toBe(true);
    if (!noNative) expect((await run(2, '1')).equals(inline)).toBe(true);
  }, 120000);

  it('kallmod perf -j 1, 2, 3 and 4 give byte-identical text (and -j 4 the same --refs and --fold) on a file of several chunks', () => {
    const picked = syms.filter((_, i) => i % 89 === 0);
    const frames = (k: number) => Array.from({ length: 6 }, (_, j) => picked[(k * 11 + j * 5) % picked.length]!);
    const input = Array.from({ length: 6000 }, (_, k) => sample(`c${k}`, frames(k))).join('');
    expect(input.length).toBeGreaterThan(5 << 19); // three 1 MiB chunks at least
    // a snapshot loads in milliseconds: twelve runs of the raw sources took 20 s
    const snap = join(tmp(), 'pool.snap');
    execFileSync(CLI, ['capture', '-o', snap, ...src], { stdio: 'ignore' });
    for (const mode of [[], ['--refs'], ['--fold']]) {
      const a = km(['perf', '-j', '1', ...mode, '--snapshot', snap], input);
      if (!mode.length) expect(expectInsertOnly(Buffer.from(input), a)).toBeGreaterThan(10_000); // annotated: the comparison means something
      for (const jobs of mode.length ? ['4'] : ['2', '3', '4']) {
        expect(km(['perf', '-j', jobs, ...mode, '--snapshot', snap], input).equals(a), `${mode} -j ${jobs}`).toBe(true);
      }
    }
  }, 120_000);

  it('loadable-module, built-in-module and duplicated-name frames get [mod] / {obj.o} right after the name', () => {
    const ext4 = syms.find((s) => s.name === 'ext4_file_read_iter')!;
    const cmask = syms.filter((s) => s.name === 'cmask_show');
    const loadable = syms.find((s) => s.mod !== null)!;
    const input = sample('cat', [ext4, ...cmask, loadable]);
    const out = km(['perf', ...src], input).toString();
    expectInsertOnly(Buffer.from(input), Buffer.from(out));
    expect(out).toContain(` ext4_file_read_iter [ext4]+0x4 ([kernel.kallsyms])`);
    expect(cmask.length).toBeGreaterThan(1);
    const objs = [...out.matchAll(/ cmask_show \{(\S+)\}\+0x4/g)].map((m) => m[1]);
    expect(objs.length).toBe(cmask.length);
    expect(new Set(objs).size).toBe(cmask.length);
    expect(out).toContain(` ${loadable.name} [${loadable.mod}]+0x4 ([${loadable.mod}])`);
    // --objname always / never
    expect(km(['perf', '--objname', 'always', ...src], input).toString()).toMatch(/ ext4_file_read_iter \[ext4\] \{(ext4\/)?file\.o\}\+0x4/);
    expect(km(['perf', '--objname', 'never', ...src], input).toString()).not.toContain('{');
  });

  it.skipIf(!!noPerl)('stackcollapse-perf.pl on the annotated text groups by (name, module, objname); --fold gives the same stacks', () => {
    const cmask = syms.filter((s) => s.name === 'cmask_show');
    const ext4 = syms.find((s) => s.name === 'ext4_file_read_iter')!;
    const vfs = syms.find((s) => s.name === 'vfs_read')!;
    // the same function at two offsets must merge; two same-named functions must not
    const input = sample('cat', [ext4, vfs]) +
      sample('cat', [ext4, vfs]).replace(/ext4_file_read_iter\+0x4/, 'ext4_file_read_iter+0x8').replace(/^(\t[0-9a-f]+)4 ext4/m, '$18 ext4') +
      sample('bash', [cmask[0]!, vfs]) + sample('bash', [cmask[1]!, vfs]);
    const annotated = km(['perf', ...src], input).toString('latin1');
    const folded = stackcollapse(annotated);
    // each sample weighs its period (250000), as the script counts
    expect([...folded].sort()).toEqual([
      [`bash;vfs_read;cmask_show {${/cmask_show \{(\S+)\}/.exec(annotated)![1]}}`, 250000],
      [`bash;vfs_read;cmask_show {${[...annotated.matchAll(/cmask_show \{(\S+)\}/g)][1]![1]}}`, 250000],
      ['cat;vfs_read;ext4_file_read_iter [ext4]', 500000],
    ].sort());
    expect(sumFolded(km(['perf', '--fold', ...src], input))).toEqual(folded);
  });
});
