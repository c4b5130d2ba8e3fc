/**
 * `--lines` in the transformers, on real text of fixtures/kernel-6.12 (its .ko carry DWARF 5):
 * `kallmod trace --lines` on the real kprobe stack traces of null_blk appends to each module
 * frame the file:line that `kallmod lookup --lines` gives for the same address (a ` => ` frame is
 * a return address: address - 1; the kprobe's probe point is exact) and changes nothing else;
 * the commands without --lines refuse it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, k } from './kernel-fixture.js';

/** What module frames need (no linker maps or System.map: each run stays short). */
const sourceFlags = (boot: 'kaslr') => ['--kallsyms', k(`boot-${boot}/kallsyms.xz`), '--proc-modules', k(`boot-${boot}/proc-modules`),
  '--module-sections', k(`boot-${boot}/module-sections.txt`), '--modules-dir', k('modules')];

const run = (args: string[], input?: string) => spawnSync(CLI, args, { input, encoding: 'latin1', maxBuffer: 1 << 26 });

describe('--lines in the transformers', () => {
  it('trace --lines: module frames of real kprobe stack traces gain the file:line of their call', () => {
    const input = readFileSync(k('boot-kaslr/trace-kprobes-stacktrace.txt'), 'latin1');
    const src = sourceFlags('kaslr');
    const plain = run(['trace', ...src], input);
    const r = run(['trace', '--lines', ...src], input);
    expect(r.status, r.stderr).toBe(0);
    const a = plain.stdout.split('\n'), b = r.stdout.split('\n');
    expect(b.length).toBe(a.length);
    const frames = new Map<string, { ret: boolean; lines: number[] }>();
    let changed = 0;
    b.forEach((l, i) => {
      const m = /(=> |\()([\w.]+)\+(0x[0-9a-f]+)\/0x[0-9a-f]+ \[null_blk\]( [\w./-]+\.[ch]:\d+)/.exec(l);
      if (!m) { expect(l, `line ${i + 1}`).toBe(a[i]); return; }
      changed++;
      expect(l.replace(m[4]!, ''), `line ${i + 1}`).toBe(a[i]);
      const ret = m[1] === '=> ';
      const q = `${m[2]}+0x${(Number(m[3]) - (ret ? 1 : 0)).toString(16)} [null_blk]`;
      const f = frames.get(q) ?? { ret, lines: [] };
      f.lines.push(i);
      frames.set(q, f);
      expect(m[4]!.startsWith(' drivers/block/null_blk/')).toBe(true);
    });
    expect(changed, 'module frames with lines').toBeGreaterThanOrEqual(6);
    const qs = [...frames.keys()];
    const l = run(['lookup', '--lines', '--json', ...src, ...qs]);
    expect(l.status, l.stderr).toBe(0);
    l.stdout.trim().split('\n').forEach((j, n) => {
      const o = JSON.parse(j) as { file: string; line: number };
      for (const i of frames.get(qs[n]!)!.lines) expect(b[i]!.includes(` ${o.file}:${o.line}`), `${qs[n]} on line ${i + 1}`).toBe(true);
    });
    expect([...frames.values()].some((f) => f.ret) && [...frames.values()].some((f) => !f.ret)).toBe(true);
  });

  it('--snapshot --lines: the snapshot says where its DWARF was; --modules-dir beside --snapshot names it; the same lines as raw sources', () => {
    const input = readFileSync(k('boot-kaslr/trace-kprobes-stacktrace.txt'), 'latin1');
    const src = sourceFlags('kaslr');
    const want = run(['trace', '--lines', ...src], input);
    expect(want.stdout).toMatch(/ drivers\/block\/null_blk\/main\.c:\d+/);
    const d = mkdtempSync(join(tmpdir(), 'lines-snap-'));
    try {
      const withDirs = join(d, 'with.snap'), without = join(d, 'without.snap');
      expect(run(['capture', '-o', withDirs, ...src]).status).toBe(0);
      expect(run(['capture', '-o', without, ...src.slice(0, -2)]).status).toBe(0);
      for (const args of [['--snapshot', withDirs], ['--snapshot', without, '--modules-dir', k('modules')]]) {
        const r = run(['trace', '--lines', ...args], input);
        expect(r.stdout, args.join(' ')).toBe(want.stdout);
        expect(r.stderr, args.join(' ')).toBe(want.stderr);
      }
      // a snapshot without module directories, and none given: said once, no lines
      const none = run(['trace', '--lines', '--snapshot', without], input);
      expect(none.stderr).toMatch(/--lines: no DWARF to read/);
      expect(none.stdout).toBe(run(['trace', ...src], input).stdout);
    } finally { rmSync(d, { recursive: true, force: true }); }
  });

  it('--refs --lines: the lookup --json fields file, line, column, inlined on every reference; the input line number as inputLine', () => {
    const input = readFileSync(k('boot-kaslr/trace-kprobes-stacktrace.txt'), 'latin1');
    const r = run(['trace', '--lines', '--refs', ...sourceFlags('kaslr')], input);
    const objs = r.stdout.trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
    expect(objs.length).toBeGreaterThanOrEqual(6);
    for (const o of objs) for (const f of ['file', 'line', 'column', 'inlined', 'inputLine']) expect(o, f).toHaveProperty(f);
    expect(objs.some((o) => o['file'] !== null)).toBe(true);
    // the same references as without --lines, their `line` now inputLine (the source line took its name)
    const plain = run(['trace', '--refs', ...sourceFlags('kaslr')], input).stdout.trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
    expect(objs.map((o) => [o['inputLine'], o['text']])).toEqual(plain.map((o) => [o['line'], o['text']]));
    const inputLines = input.split('\n');
    for (const o of objs) expect(inputLines[(o['inputLine'] as number) - 1]).toContain(o['text']);
    expect(objs.filter((o) => o['file'] !== null).every((o) => o['line'] !== o['inputLine'])).toBe(true);
  });

  it('json and stack take --lines (test/lines-json-stack.test.ts); a command without it refuses it (exit 2, one line)', () => {
    for (const c of ['json', 'stack']) {
      const r = run([c, '--lines', ...sourceFlags('kaslr')], '');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    }
    const r = run(['kallmodsyms', '--lines', ...sourceFlags('kaslr')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--lines/);
  });
});
