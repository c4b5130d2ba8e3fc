/**
 * Real data, through the built CLI (dist/): the LKDTM oopses of both boots of the 6.12 kernel
 * (fixtures/kernel-6.12) with that kernel's sources, the failed-boot serial console log (escape
 * codes, \r), this machine's own dmesg, and a frameless binary log (invalid UTF-8, NULs).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI as KM, k, sourceFlags } from '../../../test/kernel-fixture.js';
import { tempDir } from '../../../test/temp-dir.js';
import { byteLines } from '../../../test/byte-lines.js';

const D = tempDir('dmesg');

/** The same sources as `ksources` in ../shared/checks/common.sh (test/kernel-fixture.ts). */
export const ksources = (boot: 'nokaslr' | 'kaslr' | null): string[] => sourceFlags(boot);
function km(args: string[], input: Buffer): Buffer {
  const r = spawnSync(KM, ['dmesg', ...args], { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`kallmod dmesg ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}
const lines = byteLines;
/** Insert-only: same lines, each original line a subsequence of its annotated line. */
function insertOnly(orig: Buffer, ann: Buffer): { annotated: number } {
  const a = lines(orig), b = lines(ann);
  expect(b.length).toBe(a.length);
  let annotated = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.equals(b[i]!)) continue;
    annotated++;
    let j = 0;
    for (const c of b[i]!) if (j < a[i]!.length && c === a[i]![j]) j++;
    expect(j, `line ${i + 1}`).toBe(a[i]!.length);
  }
  return { annotated };
}
/** The recognition floor of count_refs.py (dmesg): every name+0xOFF/0xSIZE token. */
function floor(b: Buffer): number {
  return (b.toString('latin1').match(/(?<![\w.])[A-Za-z_][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/g) ?? []).length;
}
interface Ref { line: number; name: string; ambiguous: boolean; symbolAddress: string | null; modules: string[]; objname: string | null; resolvedBy: string }
const refs = (b: Buffer): Ref[] => b.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ref);

describe('real LKDTM oopses, both boots', () => {
  for (const boot of ['nokaslr', 'kaslr'] as const) {
    it(`${boot}: passthrough, recognition floor, every frame resolved`, () => {
      const input = readFileSync(k(`boot-${boot}/dmesg.txt`));
      const src = ksources(boot);
      const out = km(src, input);
      const { annotated } = insertOnly(input, out);
      expect(annotated).toBeGreaterThan(10);
      const r = refs(km(['--refs', ...src], input));
      expect(r.length).toBeGreaterThanOrEqual(floor(input));
      for (const x of r) {
        expect(x.ambiguous, `line ${x.line} ${x.name}`).toBe(false);
        expect(x.symbolAddress, `line ${x.line} ${x.name}`).not.toBeNull();
      }
      // the LKDTM functions are in the built-in module lkdtm, objects under drivers/misc/lkdtm/
      const lk = r.filter((x) => x.name.startsWith('lkdtm_') || x.name === 'direct_entry');
      expect(lk.length).toBeGreaterThan(5);
      for (const x of lk) { expect(x.modules).toEqual(['lkdtm']); expect(x.objname).toMatch(/^drivers\/misc\/lkdtm\//); }
      // RIP: 0033 (user space) lines and Code: lines untouched
      const o = lines(out), i = lines(input);
      for (let n = 0; n < i.length; n++) if (/RIP: 0033:|Code: |Modules linked in:/.test(i[n]!.toString('latin1'))) expect(o[n]!.equals(i[n]!)).toBe(true);
    }, 120_000);
  }
});

describe('serial console log of the failed kaslr boot (escape codes, \\r)', () => {
  it('passes through; every frame recognised and resolved by name and size', () => {
    const input = execFileSync('xz', ['-dc', k('console-kaslr-failed-boot.log.xz')]);
    expect(input.includes(13)).toBe(true);
    // no kallsyms of that boot exists: System.map + the build's module data, names and sizes
    const src = ksources(null);
    const out = km(src, input);
    insertOnly(input, out);
    const r = refs(km(['--refs', ...src], input));
    expect(r.length).toBeGreaterThanOrEqual(floor(input));
    for (const x of r) expect(x.symbolAddress, `${x.line} ${x.name}`).not.toBeNull();
    // the CR stays at the end of annotated lines
    for (const l of lines(out)) if (l.includes(Buffer.from('+0x'))) expect(l[l.length - 1]).toBe(13);
  }, 120_000);
});

describe('logs without kernel frames come out byte-identical', () => {
  it('binary log: invalid UTF-8, NULs, CRs, no trailing newline', () => {
    const parts: Buffer[] = [];
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const n = rnd() % 120;
      const b = Buffer.alloc(n);
      for (let k = 0; k < n; k++) { const v = rnd() % 256; b[k] = v === 10 ? 0 : v; }
      parts.push(Buffer.from(`[${(i / 7).toFixed(6).padStart(12)}] `), b, Buffer.from(i % 3 ? '\n' : '\r\n'));
    }
    parts.push(Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d]));
    const input = Buffer.concat(parts);
    const out = km(ksources('nokaslr'), input);
    expect(out.equals(input)).toBe(true);
  }, 120_000);

  it("this machine's own dmesg (running-kernel sources)", (ctx) => {
    const d = spawnSync('dmesg', [], { maxBuffer: 1 << 28 });
    if (d.status !== 0 || d.stdout.length === 0) {
      console.log(`[own dmesg] skipped: dmesg gave nothing here (${d.stderr.toString().trim() || `exit ${d.status}`})`);
      ctx.skip(); return;
    }
    const r = spawnSync(KM, ['dmesg'], { input: d.stdout, maxBuffer: 1 << 28 });
    if (r.status !== 0) { console.log(`[own dmesg] skipped: running-kernel sources unavailable: ${r.stderr.toString().trim()}`); ctx.skip(); return; }
    expect(r.stdout.equals(d.stdout)).toBe(true);
  }, 120_000);

  it('same through a pipe (live mode) and a regular file (batch mode)', () => {
    const input = readFileSync(k('boot-nokaslr/dmesg.txt'));
    const f = join(D(), 'dmesg-nokaslr.txt');
    writeFileSync(f, input);
    const viaPipe = km(ksources('nokaslr'), input);
    const r = spawnSync(KM, ['dmesg', ...ksources('nokaslr'), f], { maxBuffer: 1 << 28 });
    expect(r.stdout.equals(viaPipe)).toBe(true);
  }, 120_000);
});

describe('the worker pool', () => {
  it('-j 1, 2, 3 and 4 give byte-identical output (text and --refs) on a file of several chunks', () => {
    // both boots' oopses and the serial log (CRs) over and over: 2.5 MiB, three 1 MiB chunks
    const one = Buffer.concat([readFileSync(k('boot-nokaslr/dmesg.txt')), readFileSync(k('boot-kaslr/dmesg.txt')),
      execFileSync('xz', ['-dc', k('console-kaslr-failed-boot.log.xz')])]);
    const input = Buffer.concat(Array.from({ length: Math.ceil((5 << 19) / one.length) }, () => one));
    const f = join(D(), 'pool-input.txt');
    writeFileSync(f, input);
    const run = (jobs: number, refs: boolean) => {
      const r = spawnSync(KM, ['dmesg', '-j', String(jobs), ...(refs ? ['--refs'] : []), ...ksources(null), f], { maxBuffer: 1 << 28 });
      expect(r.status, r.stderr.toString()).toBe(0);
      return r.stdout;
    };
    const text = run(1, false), refs = run(1, true);
    expect(insertOnly(input, text).annotated).toBeGreaterThan(500); // annotated: the comparison means something
    const lastRef = JSON.parse(refs.toString().trimEnd().split('\n').pop()!) as Ref;
    expect(lastRef.line).toBeGreaterThan(lines(input).length - 2000); // refs numbered across every chunk
    for (const jobs of [2, 3, 4]) expect(run(jobs, false).equals(text), `-j ${jobs}`).toBe(true);
    for (const jobs of [2, 4]) expect(run(jobs, true).equals(refs), `-j ${jobs} --refs`).toBe(true);
  }, 180_000);
});

describe('live', () => {
  it('dmesg -w | kallmod dmesg: each line is annotated as soon as it arrives', async () => {
    const { spawn } = await import('node:child_process');
    const p = spawn(KM, ['dmesg', ...ksources('nokaslr')], { stdio: ['pipe', 'pipe', 'ignore'] });
    let got = '';
    p.stdout.on('data', (c: Buffer) => { got += c.toString('latin1'); });
    const waitFor = async (s: string) => {
      for (let i = 0; i < 600 && !got.includes(s); i++) await new Promise((r) => setTimeout(r, 50));
      return got.includes(s);
    };
    p.stdin.write('[   18.315897]  lkdtm_do_action+0x18/0x30\n');
    expect(await waitFor('[   18.315897]  [lkdtm] lkdtm_do_action+0x18/0x30\n')).toBe(true);
    p.stdin.write('[   18.315962]  direct_entry+0x8d/0xe0\n');
    expect(await waitFor('[   18.315962]  [lkdtm] direct_entry+0x8d/0xe0\n')).toBe(true);
    p.stdin.end();
    await new Promise((r) => p.on('close', r));
  }, 60_000);

  it('--follow reads /dev/kmsg records and passes them through (where permitted)', async (ctx) => {
    const { openSync, readSync, closeSync, constants } = await import('node:fs');
    let fd: number;
    try { fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK); } catch (e) {
      console.log(`[dmesg --follow] skipped: cannot read /dev/kmsg here (${(e as NodeJS.ErrnoException).code})`);
      ctx.skip(); return;
    }
    const recs: Buffer[] = [];
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      let n: number;
      try { n = readSync(fd, buf, 0, buf.length, null); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue; break; }
      if (n <= 0) break;
      recs.push(Buffer.from(buf.subarray(0, n)));
    }
    closeSync(fd);
    const raw = Buffer.concat(recs);
    // from a snapshot: loading the raw sources can take most of the 5 s on a busy machine, and then nothing is read
    const snap = join(D(), 'follow.snap');
    execFileSync(KM, ['capture', '-o', snap, ...ksources('nokaslr')], { stdio: 'ignore' });
    const r = spawnSync('timeout', ['5', KM, 'dmesg', '--follow', '--snapshot', snap], { maxBuffer: 1 << 28 });
    expect(r.status).toBe(124); // still following when timeout stopped it
    // the ring buffer may have moved on: compare the records both saw, from the first common one
    const first = recs.findIndex((x) => r.stdout.includes(x));
    expect(first).toBeGreaterThanOrEqual(0);
    const common = Buffer.concat(recs.slice(first));
    const at = r.stdout.indexOf(recs[first]!);
    expect(r.stdout.subarray(at, at + common.length).equals(common) || raw.length === 0).toBe(true);
  }, 60_000);
});
