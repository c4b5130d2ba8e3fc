/**
 * Every transformer is linear in the line length (issue 16 item 2): lines of 10 MB of what
 * their recognisers scan for, through the built CLI, from a regular file and from a pipe, as
 * text and as --refs, each run under a time bound; every byte and the line count kept.
 *
 * HAND-WRITTEN lines (edge cases no capture has): runs of 'a', '0x', '[<' (CRLF), ' ', '+0x',
 * digits, a `tracing_mark_write: ` payload of letters, binary junk without a final newline;
 * and per transformer the form its scanner reads token by token, repeated along one line:
 * %pS fields (trace), one word of frames (dmesg), a header of kernel addresses and brstack
 * tokens (perf), a callchain of entries (json), a folded stack and perf report `[k]` symbols
 * (stack). Each of these took quadratic time before:
 * trace 2.8 s for 40 kB of 'a' (a 10 MB line never ended), dmesg 9 s for 200 kB of frames,
 * perf --refs 1.4 s for 68 kB of addresses (each ref's text ran to the line's end), perf
 * --fold 16 s for 100 kB of 'a', trace 33 ms for each 4 kB function_graph line below.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collapseFrame, eventComm, stackFrame } from '../packages/perf-script/src/fold.js';
import { nextOffsetToken } from '../packages/trace-pipe/src/recognise/offset-token.js';
import { graphFrame, graphMarker, switchCpu } from '../packages/trace-pipe/src/recognise/function-graph.js';
import { NAME, OFFSZ, isNameChar } from '../packages/trace-pipe/src/recognise/hit.js';
import { CLI, sourceFlags } from './kernel-fixture.js';

const MB = 1 << 20;
/**
 * Per run (one CLI process over 80-100 MB). Measured here (2 cores shared with other work):
 * 1-5 s a run, 12 s for json --refs with another suite running. With a 30 s bound the old code
 * failed every run but json's (which was linear already); the 4 kB function_graph lines alone
 * took it 117 s.
 */
const BOUND_MS = 60_000;

function fill(unit: string, n: number): Buffer {
  return Buffer.from(unit.repeat(Math.ceil(n / unit.length)).slice(0, n), 'latin1');
}

/** 10 MB of bytes that look like nothing (no "\n"; CR, NUL, invalid UTF-8 included). */
function junk(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = (x & 255) === 10 ? 0 : x & 255;
  }
  return b;
}

/** The lines every transformer gets, after its own: the last one without a newline. */
function generic(): Buffer {
  const nl = Buffer.from('\n');
  return Buffer.concat([
    fill('a', 10 * MB), nl,
    fill('0x', 10 * MB), nl,
    fill('[<', 10 * MB), Buffer.from('\r\n'),
    fill(' ', 10 * MB), nl,
    fill('+0x', 10 * MB), nl,
    fill('7', 10 * MB), nl,
    Buffer.from('tracing_mark_write: '), fill('abc_', 10 * MB), nl,
    junk(10 * MB),
  ]);
}

/** Each transformer's own lines (line 1 carries the references counted below). */
const CALL_SITE = 'call_site=ext4_fill_super+0x10/0x2f90 ', FRAME = 'ext4_fill_super+0x10/0x2f90,', ADDR = 'ffffffff812da8e0 ';
const GRAPH_TAIL = ' 0)   0.123 us    |  } /* ' + 'a'.repeat(4000);
const ENTRY = '{"ip":"0xffffffff812da8e0","symbol":"vfs_read","dso":"[kernel.kallsyms]"},';
const FOLDED = ';ext4_fill_super_[k]', REPORT = '  [k] ext4_fill_super';
const n = (unit: string, bytes: number) => Math.floor(bytes / unit.length);
const OWN: Record<string, { lines: string[]; refs: number; name: string; changed?: number[] }> = {
  // and 10 MB of function_graph lines of 4 kB (longer ones are not graph lines): an unclosed
  // funcgraph-tail comment took 33 ms a line
  trace: { lines: [CALL_SITE.repeat(n(CALL_SITE, MB)), ...new Array<string>(2560).fill(GRAPH_TAIL)], refs: n(CALL_SITE, MB), name: 'ext4_fill_super' },
  dmesg: { lines: ['[    1.000000] ' + FRAME.repeat(n(FRAME, MB))], refs: n(FRAME, MB), name: 'ext4_fill_super' },
  perf: {
    lines: ['perf 1 [000] 1.0: 1 cycles: ' + ADDR.repeat(n(ADDR, MB)), fill('a(/b/c/d/e ', 10 * MB).toString('latin1'), 'a' + ' '.repeat(10 * MB) + 'x'],
    refs: n(ADDR, MB), name: 'vfs_read',
  },
  json: { lines: ['{"samples":[{"callchain":[' + ENTRY.repeat(n(ENTRY, 10 * MB)) + '{"ip":"0x0"}]}]}'], refs: n(ENTRY, 10 * MB), name: 'vfs_read' },
  // a folded stack of a million kernel frames, then perf report's `[k] sym` and a crash frame
  // whose `(via` and ` at` never come, each 10 MB
  stack: {
    lines: [
      'comm' + FOLDED.repeat(n(FOLDED, MB)) + ' 1', REPORT.repeat(n(REPORT, 10 * MB)),
      ' #0 [ffff88003fc03e78] ' + 'a'.repeat(10 * MB), '    [exception RIP: ' + 'b'.repeat(10 * MB),
    ],
    refs: n(FOLDED, MB), name: 'ext4_fill_super', changed: [1, 2],
  },
};

/** Line starts of b ("\n"-separated; a last line without "\n" counts). */
function lineStarts(b: Buffer): number[] {
  const s = [0];
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) if (i + 1 < b.length) s.push(i + 1);
  return s;
}

function lineAt(b: Buffer, starts: number[], i: number): Buffer {
  const end = i + 1 < starts.length ? starts[i + 1]! : b.length;
  return b.subarray(starts[i]!, end);
}

/** Same line count, and each input line's bytes in order in its output line: the changed lines (1-based). */
function kept(input: Buffer, output: Buffer): { lines: number; changed: number[]; lost: number[] } {
  const a = lineStarts(input), b = lineStarts(output);
  if (a.length !== b.length) return { lines: b.length, changed: [], lost: [-1] };
  const changed: number[] = [], lost: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const o = lineAt(input, a, i), n = lineAt(output, b, i);
    if (o.equals(n)) continue;
    changed.push(i + 1);
    let j = 0;
    for (let k = 0; k < n.length && j < o.length; k++) if (n[k] === o[j]) j++;
    if (j < o.length) lost.push(i + 1);
  }
  return { lines: b.length, changed, lost };
}

let dir = '';
let snapshot = '';

function run(args: string[], inputFile: string, how: 'file' | 'pipe'): { out: Buffer; ms: number; stderr: string } {
  const outFile = join(dir, 'out');
  const fd = openSync(outFile, 'w');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args, '--snapshot', snapshot, ...(how === 'file' ? [inputFile] : [])], {
    input: how === 'pipe' ? readFileSync(inputFile) : undefined,
    stdio: [how === 'pipe' ? 'pipe' : 'ignore', fd, 'pipe'],
    timeout: BOUND_MS,
    maxBuffer: 1 << 26,
  });
  const ms = Date.now() - t0;
  closeSync(fd);
  const stderr = r.stderr?.toString() ?? '';
  expect(r.signal, `killed after ${ms} ms (bound ${BOUND_MS} ms)`).toBeNull();
  expect(r.status, stderr).toBe(0);
  expect(stderr).toBe('');
  return { out: readFileSync(outFile), ms, stderr };
}

describe('10 MB lines: every transformer linear in the line length', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kallmod-long-lines-'));
    snapshot = join(dir, 'k.snap');
    const r = spawnSync(process.execPath, [CLI, 'capture', '-o', snapshot, ...sourceFlags('nokaslr')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const g = generic();
    for (const [cmd, own] of Object.entries(OWN)) writeFileSync(join(dir, `${cmd}.in`), Buffer.concat([Buffer.from(own.lines.join('\n') + '\n', 'latin1'), g]));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  for (const cmd of ['trace', 'dmesg', 'perf', 'json', 'stack'] as const) {
    for (const how of ['file', 'pipe'] as const) {
      it(`${cmd} < ${how}: every byte and line kept, line 1 annotated`, () => {
        const input = join(dir, `${cmd}.in`);
        const args = how === 'file' && (cmd === 'perf' || cmd === 'dmesg' || cmd === 'stack') ? [cmd, '-j', '2'] : [cmd];
        const { out, ms } = run(args, input, how);
        const k = kept(readFileSync(input), out);
        console.log(`[long lines] kallmod ${args.join(' ')} < ${how}: ${k.lines} lines, ${(out.length / MB).toFixed(1)} MB in ${ms} ms`);
        expect(k.lost).toEqual([]);
        expect(k.lines).toBe(OWN[cmd]!.lines.length + 8);
        expect(k.changed).toEqual(OWN[cmd]!.changed ?? [1]);
      }, BOUND_MS + 30_000);
    }

    it(`${cmd} --refs: each reference found once, its text in its line`, () => {
      const input = join(dir, `${cmd}.in`);
      const { out, ms } = run([cmd, '--refs'], input, cmd === 'perf' || cmd === 'trace' ? 'pipe' : 'file');
      const inBuf = readFileSync(input), starts = lineStarts(inBuf);
      const refs = out.toString('utf8').split('\n').filter(Boolean)
        .map((l) => JSON.parse(l) as { line: number; text: string; symbolName?: string | null; name: string | null });
      console.log(`[long lines] kallmod ${cmd} --refs: ${refs.length} refs in ${ms} ms`);
      const own = OWN[cmd]!;
      const first = refs.filter((r) => r.line === 1);
      expect(first.length).toBe(own.refs);
      expect(first.every((r) => (r.symbolName ?? r.name) === own.name)).toBe(true);
      // the junk line may hold a few words that are symbol names: each must be in its line
      if (cmd !== 'json') {
        const text = new Map<number, string>();
        for (const r of refs) {
          expect(r.line).toBeLessThanOrEqual(starts.length);
          let t = text.get(r.line);
          if (t === undefined) text.set(r.line, (t = lineAt(inBuf, starts, r.line - 1).toString('utf8')));
          expect(t.includes(r.text)).toBe(true);
        }
      }
    }, BOUND_MS + 30_000);
  }

  it('perf --fold: one folded stack per sample', () => {
    const { out, ms } = run(['perf', '--fold'], join(dir, 'perf.in'), 'pipe');
    console.log(`[long lines] kallmod perf --fold: ${out.length} bytes in ${ms} ms`);
    // one sample (no blank line ends it earlier), "perf", and none of its lines is a frame
    expect(out.toString('latin1')).toBe('perf 1\n');
  }, BOUND_MS + 30_000);
});

/**
 * The linear scanners give what the regexes they replace gave (those regexes are the spec:
 * stackcollapse-perf.pl's, and the trace recogniser's `%pS` token), on short random lines
 * over the characters the patterns care about.
 */
describe('the linear scanners match the regexes they replace', () => {
  const line = (chars: string[]) => fc.array(fc.constantFrom(...chars), { maxLength: 24 }).map((a) => a.join(''));
  const FOLD_CHARS = [' ', ' ', '\t', '\r', '\xa0', 'a', 'b', '_', '1', '2', '/', '(', '(', ')', ')', '.', ';', '[', ']', 'unknown', '+0x1f', '"', '\xe9'];
  const runs = { numRuns: 20_000 };

  it('stackcollapse EVENT and STACK', () => {
    const EVENT = /^(\S.+?)\s+(\d+)\/*(\d+)*\s+/;
    const STACK = /^\s*(\w+)\s*(.+) \((\S*)\)/;
    fc.assert(fc.property(line(FOLD_CHARS), (l) => {
      expect(eventComm(l)).toBe(EVENT.exec(l)?.[1] ?? null);
      const m = STACK.exec(l);
      expect(stackFrame(l)).toEqual(m ? [m[2], m[3]] : null);
    }), runs);
  });

  it('collapseFrame: the Perl script\'s substitutions', () => {
    const perl = (rawfunc: string, mod: string): string | null => {
      rawfunc = rawfunc.replace(/\+0x[\da-f]+$/, '');
      if (rawfunc.startsWith('(')) return null;
      let func = rawfunc;
      if (func === '[unknown]') func = mod !== '[unknown]' ? `[${mod.replace(/.*\//, '')}]` : '[unknown]';
      func = func.replace(/;/g, ':');
      if (!/\.\(.*\)\./.test(func)) func = func.replace(/\((?!anonymous namespace\)).*/, '');
      return func.replace(/["']/g, '');
    };
    // as STACK gives them: the dso has no white space, the symbol no CR
    const sym = line(FOLD_CHARS).map((x) => x.replace(/\r/g, ''));
    const dso = fc.oneof(line(FOLD_CHARS).map((x) => x.replace(/\s/g, '')), fc.constant('[unknown]'));
    fc.assert(fc.property(fc.oneof(sym, fc.constant('[unknown]')), dso, (f, d) => { expect(collapseFrame(f, d)).toBe(perl(f, d)); }), runs);
  });

  it('trace: CPU/task switch lines', () => {
    const SWITCH = /^\s*(\d+)\)\s+\S.*-\d+\s+=>\s+\S.*-\d+\s*$/;
    const chars = [' ', ' ', '\t', '\r', '\xa0', '0', '1', '12', ')', '-', '-1', '=>', '=', '>', 'a', ' 0) ', '-1 ', ' => ', 'x-5 ', '\x0b'];
    fc.assert(fc.property(line(chars), (l) => {
      const m = SWITCH.exec(l);
      expect(switchCpu(l)).toBe(m ? Number(m[1]) : -1);
    }), runs);
    // the regex took 3 ms for each of these (10 MB of them: 8 s)
    const hostile = ' 0) a' + '-1 => '.repeat(680);
    const t0 = Date.now();
    for (let i = 0; i < 2560; i++) expect(graphMarker(hostile)).toBeNull();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('trace: function_graph frames', () => {
    const FUNC = new RegExp(String.raw`\|( +)(?:(${NAME})(?: \[[\w.-]+\])?\(([^;{]*?)\)(?: \{|;)` +
      String.raw`|(\})(?: \/\* (${NAME})(?: \[[\w.-]+\])?(?:\(\))?[^*]*\*\/)?|(\/\*))`);
    const chars = ['|', '| ', '|  ', ' ', '} /* ', '}', 'func', 'b.c', 'a$', '1', ' */', '*/', '*', '/', '/*', ' [m]', ' [m-1.x]', ' [', ']',
      '()', '(', ')', ') {', ');', '{', ';', '\r'];
    fc.assert(fc.property(line(chars), (l) => {
      const m = FUNC.exec(l);
      const kind = !m ? null : m[2] !== undefined ? (m[0].endsWith('{') ? 'open' : 'leaf') : m[4] !== undefined ? 'close' : 'comment';
      expect(graphFrame(l)).toEqual(m ? { index: m.index, indent: m[1]!.length, kind, tailName: m[5] !== undefined, end: m.index + m[0].length } : null);
    }), runs);
  });

  it('trace: %pS tokens', () => {
    const TOKEN = new RegExp(String.raw`${NAME}${OFFSZ}`, 'g');
    const chars = ['a', 'f', 'x', '_', '.', '$', '0', '1', '9', '+', '+0x', '/0x', '/', ' ', ',', '(', 'vfs_read', '+0x4/0x370'];
    fc.assert(fc.property(line(chars), fc.nat(6), (l, from) => {
      const want: [number, number][] = [];
      TOKEN.lastIndex = from;
      for (let m = TOKEN.exec(l); m; m = TOKEN.exec(l)) {
        if (!(m.index > 0 && isNameChar(l.charCodeAt(m.index - 1)))) want.push([m.index, m.index + m[0].length]);
      }
      const got: [number, number][] = [];
      for (let t = nextOffsetToken(l, from, l.length); t; t = nextOffsetToken(l, t.end, l.length)) got.push([t.start, t.end]);
      expect(got).toEqual(want);
    }), runs);
  });
});
