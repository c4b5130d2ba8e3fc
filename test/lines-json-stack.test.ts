/**
 * `kallmod json --lines` and `kallmod stack --lines` on the Debian 6.12 distro kernel (DWARF 5
 * debug vmlinux): the real 6.12 call chains moved onto its symbols (perfTextOnKernel: chains
 * and symbols real, offsets from another build), written as perf JSON (perf's layout) and as
 * bpftrace `kstack(perf)` and bcc stacks; each frame gets the lines `kallmod perf --lines` gives
 * the same frame (whose lines test/lines-fold.test.ts checks against addr2line -fi): the
 * callchain's first entry is the ip, the others return addresses.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './kernel-fixture.js';
import { perfJsonFromText, perfTextFrom612Dmesg, perfTextFrom612Stacktraces, perfTextOnKernel } from './perf-from-stacktraces.js';
import { tempDir } from './temp-dir.js';
import { DISTRO_ROOT, distroMeta, distroSkipReason } from './distro-tree.js';

const skip = distroSkipReason();
if (skip) console.warn(`json/stack --lines distro tests skipped: ${skip}`);
const dir = tempDir('lines-json-stack');
const src = () => ['--root', DISTRO_ROOT, '--cache-dir', join(dir(), 'cache')];
const ok = (args: string[], input: string) => {
  const r = spawnSync(CLI, [...args, ...src()], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`kallmod ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

interface Frame { name: string | null; file: string | null; line: number | null; discriminator?: number }
interface Lines { file: string | null; line: number | null; column: number | null; discriminator?: number; inlined: Frame[] }
/** The lines fields; `discriminator` only where non-zero (the innermost frame's, the top level's when not inlined). */
const pick = (o: Lines): Lines => ({
  file: o.file, line: o.line, column: o.column, ...(o.discriminator ? { discriminator: o.discriminator } : {}), inlined: o.inlined,
});

describe.skipIf(skip !== null)(`json and stack --lines on Debian ${distroMeta.release}`, () => {
  let text = '';
  let perfLines: Lines[] = [];
  const perfText = () => {
    if (!text) {
      text = perfTextOnKernel(perfTextFrom612Stacktraces().text + perfTextFrom612Dmesg().text, readFileSync(join(DISTRO_ROOT, 'proc/kallsyms'), 'latin1')).text;
      // one reference per frame line, in order: what perf --lines says of each
      perfLines = ok(['perf', '--refs', '--lines'], text).trim().split('\n').map((l) => pick(JSON.parse(l) as Lines));
      expect(perfLines.length).toBeGreaterThan(50);
      expect(perfLines.filter((l) => l.inlined.length > 0).length).toBeGreaterThan(10);
      const discs = perfLines.filter((l) => l.discriminator !== undefined || l.inlined.some((f) => f.discriminator !== undefined));
      console.log(`perf --refs --lines: ${perfLines.length} frames, ${discs.length} with a discriminator`);
      expect(discs.length, 'frames whose line row has a discriminator (JSON: the field; stack: no text)').toBeGreaterThan(0);
    }
    return text;
  };

  it('json --lines: every kernel entry gains file, line, column, inlined (and discriminator where non-zero) on its last field\'s line; '
    + 'the document is the same otherwise', () => {
    const input = perfJsonFromText(perfText());
    const out = ok(['json', '--lines'], input);
    expect(out.split('\n').length).toBe(input.split('\n').length);
    type Doc = { samples: { callchain: (Lines & { ip: string; modules: unknown; builtin: unknown; objname: unknown; ambiguous: unknown })[] }[] };
    const a = JSON.parse(input) as Doc, b = JSON.parse(out) as Doc;
    const entries = b.samples.flatMap((s) => s.callchain);
    expect(entries.map(pick)).toEqual(perfLines);
    // nothing else changed: without the added fields, the input
    const plain = JSON.parse(ok(['json'], input)) as Doc;
    for (const e of entries) for (const f of ['file', 'line', 'column', 'discriminator', 'inlined'] as const) delete (e as Partial<Lines>)[f];
    expect(b).toEqual(plain);
    expect(b.samples.length).toBe(a.samples.length);
    // --refs --lines: the same fields
    const refs = ok(['json', '--refs', '--lines'], input).trim().split('\n').map((l) => pick(JSON.parse(l) as Lines));
    expect(refs).toEqual(perfLines);
  }, 60_000);

  it('stack --lines: bpftrace kstack(perf) and bcc stacks, ` file:line` after each frame (the first of a stack exact)', () => {
    const frames = perfText().split('\n');
    const kstack: string[] = ['Attaching 1 probe...', ''], bcc: string[] = [];
    let open = false;
    for (const l of frames) {
      const f = /^\t([0-9a-f]{16}) ([\w.]+)\+0x([0-9a-f]+) /.exec(l);
      if (f) {
        if (!open) { kstack.push('@['); open = true; }
        kstack.push(`\t${f[1]} ${f[2]}+${parseInt(f[3]!, 16)}`);
        bcc.push(`    ${f[2]}+0x${f[3]} [kernel]`);
      } else if (open) { kstack.push(']: 1', ''); bcc.push('    -                dd (876)', '        1', ''); open = false; }
    }
    for (const input of [kstack.join('\n') + '\n', bcc.join('\n') + '\n']) {
      const plain = ok(['stack'], input).split('\n');
      const out = ok(['stack', '--lines'], input).split('\n');
      expect(out.length).toBe(plain.length);
      let n = 0;
      out.forEach((l, i) => {
        if (l === plain[i]) return;
        expect(l.startsWith(plain[i]! + ' '), l).toBe(true);
        const want = perfLines[n++]!;
        expect(l.slice(plain[i]!.length)).toBe(` ${want.file}:${want.line}`);
      });
      expect(n).toBe(perfLines.filter((x) => x.file !== null).length);
    }
  }, 60_000);
});
