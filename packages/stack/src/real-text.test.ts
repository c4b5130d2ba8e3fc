/**
 * Real text (fixtures/stack, see its README): bcc's tool examples, bpftrace's reference guide,
 * crash's bt help, drgn's case studies, and captures of this machine's kernel (bpftrace kstack
 * and kstack(perf), /proc/PID/stack, perf report --stdio), through the built CLI.
 *
 * Every file passes through insert-only (same lines, each a subsequence of its output line, lines
 * without a frame identical), and every frame of a kernel symbol is recognised: each line that an
 * independent per-form pattern below calls a kernel frame has a --refs entry, and each file has at
 * least its floor of references (the bare-name bcc frames have no pattern that tells them from
 * prose: the floor, measured when this test was written, covers them). The texts come from other
 * kernels than the fixture one, so resolution is tested only on the captures, against this
 * machine's /proc/kallsyms (root, same kernel release; addresses only in the same boot).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, sourceFlags } from '../../../test/kernel-fixture.js';
import { tempDir } from '../../../test/temp-dir.js';
import { byteLines } from '../../../test/byte-lines.js';

const F = join(ROOT, 'fixtures/stack');
const NAME = '[A-Za-z_][\\w.$]*';

/** One pattern per form, each written from the tool's documented output, not from forms.ts. */
const KERNEL_FRAME_LINE = [
  new RegExp(`^\\s+${NAME}\\+0x[0-9a-f]+ \\[kernel\\]\\r?$`), // bcc with offsets
  new RegExp(`^\\s+(?:[0-9a-f]{16} )?${NAME}\\+\\d+\\r?$`), // bpftrace kstack, kstack(perf)
  new RegExp(`^\\[<[0-9a-f]+>\\] ${NAME}\\+0x[0-9a-f]+/0x[0-9a-f]+`), // /proc/PID/stack
  new RegExp(`(?:#\\d+ \\[[0-9a-f]+\\]|^\\s+\\[[0-9a-f]+\\]|START:) ${NAME}.* at [0-9a-f]{8,}`), // crash bt, bt -t
  new RegExp(`\\[exception RIP: ${NAME}\\+`), // crash
  new RegExp(`^\\s*#\\d+\\s+(?:at 0x[0-9a-f]+ \\()?${NAME}[+ ]`), // drgn
  new RegExp(`\\s\\[k\\] ${NAME}`), // perf report --stdio
];
/** Folded kernel frames: `_[k]`-marked ones and those after a `-` frame. */
function foldedKernelFrames(l: string): number {
  const m = /^(\S.*) \d+\r?$/.exec(l);
  if (!m || !m[1]!.includes(';')) return 0;
  let n = 0, kernel = false;
  for (const f of m[1]!.split(';').slice(1)) {
    if (f === '-') kernel = true;
    else if (new RegExp(`^${NAME}_\\[k\\]$`).test(f) || (kernel && new RegExp(`^${NAME}$`).test(f))) n++;
  }
  return n;
}

/**
 * Per file: the --refs floor (measured: all frame lines, bcc's bare names included; not counted:
 * indented words of prose, bpftrace's kstack(raw) addresses and stackcount's `    comm [pid]` lines,
 * read as frames at first).
 */
const FILES: Record<string, number> = {
  'bcc/stackcount_example.txt': 500,
  'bcc/offcputime_example.txt': 437,
  'bcc/profile_example.txt': 838,
  'bcc/trace_example.txt': 25,
  'bcc/criticalstat_example.txt': 42,
  'bpftrace/reference_guide.md': 211,
  'crash/crash-8.0.2-help-bt.txt': 94,
  'drgn/kyber_stack_trace.rst': 32,
  'drgn/blk_rq_qos_crash.rst': 84,
  'this-machine/bpftrace-kstack.txt': 4282,
  'this-machine/bpftrace-kstack-perf.txt': 2992,
  'this-machine/proc-self-stack.txt': 8,
  'this-machine/proc-pid-stack.txt': 21,
  'this-machine/perf-report-stdio.txt': 21,
};

interface Ref {
  line: number; text: string; name: string; address: string | null;
  symbolAddress: string | null; ambiguous: boolean; candidates: unknown[]; resolvedBy: string;
}

let snapshot = '';
function km(args: string[], file: string): { out: Buffer; err: string } {
  const r = spawnSync(process.execPath, [CLI, 'stack', ...args, file], { maxBuffer: 1 << 28 });
  expect(r.status, r.stderr.toString()).toBe(0);
  return { out: r.stdout, err: r.stderr.toString() };
}
const lines = byteLines;
const parse = (b: Buffer): Ref[] => b.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ref);

describe('real stack text (fixtures/stack)', () => {
  const dir = tempDir('stack-test');
  beforeAll(() => {
    snapshot = join(dir(), 'k.snap');
    const r = spawnSync(process.execPath, [CLI, 'capture', '-o', snapshot, ...sourceFlags('nokaslr', { modules: false })], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  for (const [rel, floor] of Object.entries(FILES)) {
    it(`${rel}: insert-only, every kernel frame recognised (floor ${floor})`, () => {
      const file = join(F, rel);
      const input = readFileSync(file);
      const refs = parse(km(['--snapshot', snapshot, '--refs'], file).out);
      const { out } = km(['--snapshot', snapshot, '--objname', 'always'], file);
      const a = lines(input), b = lines(out);
      expect(b.length).toBe(a.length);
      const withRef = new Set(refs.map((r) => r.line));
      let expected = 0, annotated = 0;
      for (let i = 0; i < a.length; i++) {
        const l = a[i]!.toString('latin1');
        const folded = foldedKernelFrames(l);
        if (folded || KERNEL_FRAME_LINE.some((p) => p.test(l))) {
          expected += folded || 1;
          expect(withRef.has(i + 1), `line ${i + 1} not recognised: ${l}`).toBe(true);
          if (folded) expect(refs.filter((r) => r.line === i + 1).length, `line ${i + 1}`).toBe(folded);
        }
        if (!withRef.has(i + 1)) { expect(b[i]!.equals(a[i]!), `line ${i + 1} changed without a reference`).toBe(true); continue; }
        if (!b[i]!.equals(a[i]!)) annotated++;
        let j = 0;
        for (const c of b[i]!) if (j < a[i]!.length && c === a[i]![j]) j++;
        expect(j, `line ${i + 1}: input bytes lost`).toBe(a[i]!.length);
        for (const r of refs.filter((x) => x.line === i + 1)) expect(l.includes(r.text)).toBe(true);
      }
      console.log(`[stack] ${rel}: ${refs.length} refs (floor ${floor}; ${expected} by the per-form patterns), ${annotated} lines annotated`);
      expect(refs.length).toBeGreaterThanOrEqual(Math.max(floor, expected));
    });
  }

  it('-j 1, 2, 3 and 4 give byte-identical output (text and --refs) on a file of several 1 MiB chunks', () => {
    // every fixture text over and over: ~3.5 MiB, so that each worker count cuts it differently
    const one = Buffer.concat(Object.keys(FILES).map((rel) => readFileSync(join(F, rel))));
    const input = Buffer.concat(Array.from({ length: Math.ceil((7 << 19) / one.length) }, () => one));
    const file = join(dir(), 'pool-input.txt');
    writeFileSync(file, input);
    const text = km(['-j', '1', '--snapshot', snapshot], file).out;
    const refs = km(['-j', '1', '--snapshot', snapshot, '--refs'], file).out;
    expect(lines(text).length).toBe(lines(input).length);
    const lastRef = JSON.parse(refs.toString().trimEnd().split('\n').pop()!) as Ref;
    expect(lastRef.line).toBeGreaterThan(lines(input).length - 5000); // numbered across every chunk
    for (const j of ['2', '3', '4']) {
      expect(km(['-j', j, '--snapshot', snapshot], file).out.equals(text), `text -j ${j}`).toBe(true);
      expect(km(['-j', j, '--snapshot', snapshot, '--refs'], file).out.equals(refs), `--refs -j ${j}`).toBe(true);
    }
  }, 120_000);

  it('folded output still parses as `stack count` with the same frames and counts (flamegraph.pl)', () => {
    const file = join(F, 'bcc/profile_example.txt');
    const a = lines(readFileSync(file)), b = lines(km(['--snapshot', snapshot, '--objname', 'always'], file).out);
    let folded = 0;
    for (let i = 0; i < a.length; i++) {
      const l = a[i]!.toString('latin1');
      if (!foldedKernelFrames(l)) continue;
      folded++;
      const FG = /^(.*)\s+?(\d+(?:\.\d*)?)$/; // flamegraph.pl's own split
      const [, s1, n1] = FG.exec(l)!, [, s2, n2] = FG.exec(b[i]!.toString('latin1'))!;
      expect(n2).toBe(n1);
      expect(s2!.split(';').length).toBe(s1!.split(';').length);
      expect(s2!.split(';').filter((f) => f.endsWith('_[k]')).length).toBe(s1!.split(';').filter((f) => f.endsWith('_[k]')).length);
    }
    expect(folded).toBeGreaterThan(30);
  });
});

const release = readFileSync(join(F, 'this-machine/release'), 'utf8').trim();
const bootId = readFileSync(join(F, 'this-machine/boot_id'), 'utf8').trim();
const running = existsSync('/proc/sys/kernel/osrelease') ? readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() : '';
const root = process.getuid?.() === 0;
const why = !root ? 'not root (kallsyms addresses hidden)' : running !== release ? `running kernel ${running || '?'}, the captures are of ${release}` : '';
if (why) console.log(`skipping resolution of this machine's captures against /proc/kallsyms: ${why}`);

describe.skipIf(!!why)("this machine's captures against /proc/kallsyms", () => {
  const sameBoot = existsSync('/proc/sys/kernel/random/boot_id') && readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() === bootId;
  if (!sameBoot) console.log('kstack(perf) addresses not checked: another boot than the capture\'s (KASLR moved them)');
  for (const rel of ['bpftrace-kstack.txt', 'bpftrace-kstack-perf.txt', 'proc-self-stack.txt', 'proc-pid-stack.txt', 'perf-report-stdio.txt']) {
    it(`${rel}: every frame names a symbol of this kernel (one, or ambiguous with its candidates)`, () => {
      const refs = parse(km(['--kallsyms', '/proc/kallsyms', '--refs'], join(F, 'this-machine', rel)).out);
      expect(refs.length).toBe(FILES[`this-machine/${rel}`]);
      for (const r of refs) {
        expect(r.symbolAddress !== null || (r.ambiguous && r.candidates.length > 1), `${r.line}: ${r.text}: ${r.resolvedBy}`).toBe(true);
        if (r.address && r.address !== '0x0' && sameBoot) expect(r.resolvedBy, `${r.line}: ${r.text}`).toMatch(/^address(?!.*differs)/);
      }
      const ambiguous = refs.filter((r) => r.ambiguous).length;
      console.log(`[stack] ${rel} on this kernel: ${refs.length} frames, ${refs.length - ambiguous} resolved to one symbol, ${ambiguous} ambiguous`);
    });
  }

  // truth from bpftrace itself: kstack(perf) printed each frame's address beside its name+offset;
  // the same name+offset of plain kstack, resolved by name alone, must land on that address
  it.skipIf(!sameBoot)('kstack frames resolved by name land on the address kstack(perf) printed for the same name+offset', () => {
    const perf = new Map<string, string>();
    for (const l of readFileSync(join(F, 'this-machine/bpftrace-kstack-perf.txt'), 'latin1').split('\n')) {
      const m = /^\t([0-9a-f]{16}) (\S+)$/.exec(l);
      if (m) perf.set(m[2]!, m[1]!);
    }
    const refs = parse(km(['--kallsyms', '/proc/kallsyms', '--refs'], join(F, 'this-machine/bpftrace-kstack.txt')).out);
    let checked = 0;
    for (const r of refs) {
      const want = perf.get(r.text);
      if (!want || r.ambiguous) continue;
      checked++;
      const off = Number(r.text.slice(r.text.lastIndexOf('+') + 1));
      expect(BigInt(r.symbolAddress!) + BigInt(off), r.text).toBe(BigInt('0x' + want));
    }
    console.log(`[stack] ${checked} kstack frames checked against kstack(perf) addresses`);
    expect(checked).toBeGreaterThan(1000);
  });
});
