/**
 * `kallmod perf --lines` with `--dso-module`, and `--lines=fold` (inline frames as frames of
 * their own), on real data:
 * - the 6.12 kernel's real call chains (perf-from-stacktraces.ts) with its real .ko DWARF
 *   (null_blk): `--lines --dso-module` is `--dso-module` plus the ` file:line` of `--lines`;
 * - the same chains placed on the Debian 6.12 distro kernel (perfTextOnKernel: the chains and
 *   the distro's symbols are real, the offsets come from another build), whose debug vmlinux
 *   has DWARF 5: each frame's inline lines against binutils `addr2line -fi` at its link address
 *   (address - 1 after the sample's ip), `--fold --lines=fold` against the vendored
 *   stackcollapse-perf.pl folding the same chains written in its own inline form
 *   (`outer->inlined`, which it marks `_[i]`), and `kallmod report` / `kallmod flame` reading
 *   that fold output.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, k } from './kernel-fixture.js';
import { perfTextFrom612Dmesg, perfTextFrom612Stacktraces, perfTextOnKernel } from './perf-from-stacktraces.js';
import { STACKCOLLAPSE, stackcollapseSkipReason, sumFolded } from './stackcollapse.js';
import { tempDir } from './temp-dir.js';
import { DISTRO_BUILD_DIR, DISTRO_ROOT, DISTRO_VMLINUX, distroMeta, distroSkipReason } from './distro-tree.js';

const dir = tempDir('lines-fold');
const run = (args: string[], input?: string) => spawnSync(CLI, args, { input, encoding: 'latin1', maxBuffer: 1 << 28 });
const ok = (args: string[], input?: string) => {
  const r = run(args, input);
  if (r.status !== 0) throw new Error(`kallmod ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

describe('6.12 (real call chains, null_blk .ko DWARF)', () => {
  const src = ['--kallsyms', k('boot-kaslr/kallsyms.xz'), '--proc-modules', k('boot-kaslr/proc-modules'),
    '--module-sections', k('boot-kaslr/module-sections.txt'), '--modules-dir', k('modules'),
    '--ranges', k('modules.builtin.ranges.xz'), '--builtin', k('modules.builtin')];
  const text = () => perfTextFrom612Stacktraces().text + perfTextFrom612Dmesg().text;

  it('--lines --dso-module: the dso gains the module and the line gains its file:line, both', () => {
    const input = text();
    const plain = ok(['perf', ...src], input).split('\n');
    const dso = ok(['perf', '--dso-module', ...src], input).split('\n');
    const lines = ok(['perf', '--lines', ...src], input).split('\n');
    const both = ok(['perf', '--lines', '--dso-module', ...src], input).split('\n');
    expect(both.length).toBe(plain.length);
    let withDso = 0, withLine = 0;
    both.forEach((l, i) => {
      expect(lines[i]!.startsWith(plain[i]!), `line ${i + 1}`).toBe(true);
      const suffix = lines[i]!.slice(plain[i]!.length);
      expect(l, `line ${i + 1}`).toBe(dso[i]! + suffix);
      if (dso[i] !== plain[i]) withDso++;
      if (suffix) withLine++;
    });
    expect(withDso, 'frames with [kernel.kallsyms:MOD]').toBeGreaterThan(5);
    expect(withLine, 'null_blk frames with file:line').toBeGreaterThanOrEqual(6);
  });

  it('--lines=fold is refused where it has no meaning, and --lines=other everywhere (exit 2, one line)', () => {
    for (const [c, a] of [['trace', '--lines=fold'], ['perf', '--lines=yes'], ['dmesg', '--lines=fold']] as const) {
      const r = run([c, a, ...src], '');
      expect(r.status, `${c} ${a}`).toBe(2);
      expect(r.stderr.trim().split('\n'), `${c} ${a}`).toHaveLength(1);
      expect(r.stderr).toContain(a);
    }
  });
});

const skip = distroSkipReason(['addr2line']) ?? stackcollapseSkipReason('lines=fold');
if (skip) console.warn(`perf --lines=fold distro tests skipped: ${skip}`);
const meta = distroMeta, R = DISTRO_ROOT, VMLINUX = DISTRO_VMLINUX, BUILD_DIR = DISTRO_BUILD_DIR;

/** A perf frame line of kallmod's output: address, name, notation, offset, the dso, the ` file:line` after it. */
const FRAME = /^\t([0-9a-f]{16}) ([^\s+]+)((?: \[[^\]\s]+\])*(?: \{[^}\s]+\})?)(\+0x[0-9a-f]+)? \((\S+)\)(?: (\S+:\d+))?$/;
interface Parsed { addr: string; name: string; notation: string; offset: string; dso: string; at: string | null }
const parse = (l: string): Parsed | null => {
  const m = FRAME.exec(l);
  return m ? { addr: m[1]!, name: m[2]!, notation: m[3]!, offset: m[4] ?? '', dso: m[5]!, at: m[6] ?? null } : null;
};

describe.skipIf(skip !== null)(`perf --lines=fold on Debian ${meta.release} (real call chains moved onto its symbols)`, () => {
  const src = () => ['--root', R, '--cache-dir', join(dir(), 'cache')];
  let input = '';
  const perfText = () => {
    if (!input) {
      const t = perfTextOnKernel(perfTextFrom612Stacktraces().text + perfTextFrom612Dmesg().text, readFileSync(join(R, 'proc/kallsyms'), 'latin1'));
      expect(t.frames).toBeGreaterThan(50);
      input = t.text;
    }
    return input;
  };

  it('inline frames as their own lines before each frame: the chain and file:line of addr2line -fi, nothing else changed', () => {
    const withLines = ok(['perf', '--lines', ...src()], perfText()).split('\n');
    const out = ok(['perf', '--lines=fold', ...src()], perfText()).split('\n');
    // without the (inlined) lines it is the --lines output, line for line
    const inl = out.filter((l) => / \(inlined\)( |$)/.test(l));
    expect(out.filter((l) => !/ \(inlined\)( |$)/.test(l))).toEqual(withLines);
    expect(inl.length, 'inline lines').toBeGreaterThan(20);
    // every frame's chain: addr2line -a -fi at its link address (the ip exact, the callers - 1)
    const slide = BigInt(meta.slide);
    const frames: { at: number; chain: string[]; addr: string }[] = [];
    let pending: string[] = [], ip = true;
    out.forEach((l, i) => {
      const m = parse(l);
      if (!m) { ip = true; pending = []; return; }
      const entry = `${m.name} ${m.at ?? '??:0'}`;
      if (m.dso === 'inlined') { pending.push(entry); return; }
      const link = BigInt('0x' + m.addr) - slide - (ip ? 0n : 1n);
      frames.push({ at: i + 1, chain: [...pending, entry], addr: '0x' + link.toString(16) });
      pending = []; ip = false;
    });
    const a2l = spawnSync('addr2line', ['-a', '-f', '-i', '-e', VMLINUX], { input: frames.map((f) => f.addr).join('\n') + '\n', encoding: 'utf8' }).stdout;
    const ref: string[][] = [];
    const al = a2l.split('\n');
    for (let i = 0; i < al.length; i++) {
      if (/^0x[0-9a-f]+$/.test(al[i]!)) { ref.push([]); continue; }
      if (al[i] && i + 1 < al.length) {
        const fl = al[++i]!.replace(/ \(discriminator \d+\)$/, '').replace(BUILD_DIR, '').replace(/\/\//g, '/');
        ref[ref.length - 1]!.push(`${al[i - 1]} ${fl}`);
      }
    }
    expect(ref.length).toBe(frames.length);
    // addr2line names the outer function by its DWARF name, kallmod by the symbol perf printed
    // (the same but for .cold/.constprop clones); compare the inline chain whole and the outer file:line
    const outerLine = (e: string) => e.slice(e.indexOf(' ') + 1);
    let same = 0, inlinedFrames = 0;
    const diffs: string[] = [];
    frames.forEach((f, n) => {
      const r = ref[n]!;
      const mine = [...f.chain.slice(0, -1), outerLine(f.chain.at(-1)!)];
      const theirs = [...r.slice(0, -1), outerLine(r.at(-1) ?? '??:0')];
      if (f.chain.length > 1) inlinedFrames++;
      if (mine.join(' | ') === theirs.join(' | ')) same++;
      else diffs.push(`line ${f.at} ${f.addr}: kallmod ${mine.join(' | ')}; addr2line ${theirs.join(' | ')}`);
    });
    console.log(`perf --lines=fold: ${frames.length} frames (${inlinedFrames} with inline frames), ${same} as addr2line -fi`);
    for (const d of diffs) console.log('  ' + d);
    expect(inlinedFrames).toBeGreaterThan(10);
    // the differences that test/source-lines-distro.test.ts explains (a DWARF 5 file register 1
    // that binutils 2.40 reads as the unit's .c file: tracepoint functions) are all that may differ
    for (const d of diffs) expect(d, 'only tracepoint headers differ').toMatch(/include\/trace\//);
    expect(same / frames.length).toBeGreaterThan(0.9);
  }, 120_000);

  it('--fold --lines=fold: what stackcollapse-perf.pl folds from the same chains in its inline form (outer->inlined: `_[i]`)', () => {
    const text = ok(['perf', '--lines=fold', ...src()], perfText());
    // FlameGraph's own inline notation: the inline lines joined into the frame's symbol,
    // outermost first (`vfs_read->new_sync_read+0x245`), which the Perl script splits and marks
    const joined: string[] = [];
    let inl: string[] = [];
    for (const l of text.split('\n')) {
      const m = parse(l);
      if (m && m.dso === 'inlined') { inl.push(m.name + m.notation); continue; }
      if (m && inl.length) {
        const sym = [m.name + m.notation, ...inl.reverse()].join('->');
        joined.push(`\t${m.addr} ${sym}${m.offset} (${m.dso})`);
      } else joined.push(l);
      inl = [];
    }
    // one event name for all: the Perl script folds only the first event type it sees (the oops samples are `oops:`)
    const perlInput = joined.join('\n').replace(/ oops: $/gm, ' stacktrace: ');
    const perl = spawnSync('perl', [STACKCOLLAPSE], { input: perlInput, encoding: 'latin1' }).stdout;
    const fold = ok(['perf', '--fold', '--lines=fold', ...src()], perfText());
    expect(fold).toMatch(/;new_sync_read_\[i\];/);
    expect(sumFolded(fold)).toEqual(sumFolded(perl));
    // without the inline frames: the stacks of --fold
    const strip = (m: Map<string, number>) => {
      const o = new Map<string, number>();
      for (const [s, n] of m) { const t = s.split(';').filter((f) => !f.endsWith('_[i]')).join(';'); o.set(t, (o.get(t) ?? 0) + n); }
      return o;
    };
    expect(strip(sumFolded(fold))).toEqual(sumFolded(ok(['perf', '--fold', ...src()], perfText())));
  }, 60_000);

  it('perf\'s own (inlined) lines are kept and not doubled', () => {
    const first = ok(['perf', '--lines=fold', ...src()], perfText()).split('\n');
    // the input as perf script --inline prints it: kallmod's inline lines as perf's
    // (`ADDR name+0xOFF (inlined)`) before the input's own frame lines
    const orig = perfText().split('\n');
    const perfInline: string[] = [];
    let n = 0;
    for (const l of first) {
      const m = parse(l);
      if (m && m.dso === 'inlined') perfInline.push(`\t${m.addr} ${m.name}${m.offset} (inlined)`);
      else perfInline.push(orig[n++]!);
    }
    expect(n).toBe(orig.length);
    const again = ok(['perf', '--lines=fold', ...src()], perfInline.join('\n')).split('\n');
    expect(again.length).toBe(first.length);
    // the same, but that perf's inline lines get no file:line (kallmod did not look them up)
    expect(again).toEqual(first.map((l) => (/ \(inlined\) \S+:\d+$/.test(l) ? l.replace(/ \S+:\d+$/, '') : l)));
  }, 60_000);

  it('a sample\'s ip after perf\'s (inlined) line for it is looked up exactly, not as a return address (hand-written sample, distro symbols)', () => {
    // cpu_startup_entry+0x29: its own line and that of +0x28 differ in this build
    const q = ['cpu_startup_entry+0x29', 'cpu_startup_entry+0x28'];
    type Answer = { address: string; file: string; line: number };
    const [exact, before] = ok(['lookup', '--lines', '--json', ...src(), ...q]).trim().split('\n').map((l) => JSON.parse(l) as Answer);
    expect(`${exact!.file}:${exact!.line}`).not.toBe(`${before!.file}:${before!.line}`);
    const a = (BigInt(exact!.address) + 0x29n).toString(16);
    const input = 'swapper     0 [000]   100.000001:     250000 cpu-clock: \n'
      + `\t${a} do_idle+0x29 (inlined)\n\t${a} cpu_startup_entry+0x29 ([kernel.kallsyms])\n\n`;
    const out = ok(['perf', '--lines=fold', ...src()], input).split('\n');
    expect(out[2]).toBe(`\t${a} cpu_startup_entry+0x29 ([kernel.kallsyms]) ${exact!.file}:${exact!.line}`);
    expect(out).toHaveLength(5); // perf expanded it: no inline line added
  }, 60_000);

  it('kallmod report and kallmod flame read the fold output: an inline frame counts in its function\'s module and object', () => {
    const f = join(dir(), 'lines-fold.folded');
    writeFileSync(f, ok(['perf', '--fold', '--lines=fold', ...src()], perfText()));
    type Row = { label?: string; symbol?: string; kind: string; objnameShort: string | null; self: number; total: number };
    const rep = JSON.parse(ok(['report', '--json', ...src(), f])) as { symbols: Row[]; modules: Row[]; kernelSamples: number; samples: number };
    expect(rep.kernelSamples).toBe(rep.samples);
    expect(rep.modules.every((m) => m.kind !== 'user')).toBe(true);
    const inl = rep.symbols.filter((s) => JSON.stringify(s).includes('(inlined)'));
    expect(inl.length).toBeGreaterThan(5);
    for (const s of inl) expect(s.kind).toBe('core');
    const nsr = inl.find((s) => JSON.stringify(s).includes('new_sync_read'));
    expect(nsr?.objnameShort).toBe('read_write.o'); // fs/read_write.c: where vfs_read is
    const html = ok(['flame', ...src(), f]);
    expect(html).toContain('new_sync_read (inlined)');
  }, 60_000);
});
