/**
 * Byte-level edge cases. HAND-WRITTEN (no real capture has them): CRLF line ends, invalid
 * UTF-8, NUL bytes, a line split across reads, a `[supervise]` comm at a line end. The table is
 * fixtures/trace/kallsyms-subset.txt (real lines of the shared kernel's kallsyms).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { join, resolve } from 'node:path';
import { openSync, writeFileSync } from 'node:fs';
import { loadTable, runTransform, type SymbolTable, type AnnotatorModule } from '@kallmod/core';
import * as annotator from './annotator.js';
import { fixtures } from './kernel.test-util.js';
import { withTempDir } from '../../../test/temp-dir.js';

let table: SymbolTable;
beforeAll(() => { table = loadTable({ kallsyms: resolve(fixtures, 'kallsyms-subset.txt') }, () => {}).table; });

function ann(b: Buffer, objname: 'always' | 'ambiguous' = 'always'): Buffer {
  return annotator.createAnnotator(table, { objname, refs: false }).chunk(b, 1);
}

/** Hand-written: init_once in the core kernel, [udf] and [isofs]; udf_fn in [udf]. */
async function dupTable(): Promise<SymbolTable> {
  const { parseNmList, buildTable } = await import('@kallmod/core');
  const ks = ['ffffffff81000100 T vfs_read', 'ffffffff81000200 T ksys_read', 'ffffffff81000300 t init_once', 'ffffffff81000900 T _etext',
    'ffffffffc0000000 t init_once\t[udf]', 'ffffffffc0000100 t udf_fn\t[udf]', 'ffffffffc0000200 t init_once\t[isofs]', 'ffffffffc0000300 t iso_fn\t[isofs]',
    ''].join('\n');
  return buildTable({ kallsyms: parseNmList(Buffer.from(ks), 'ks') }).table;
}

describe('byte-exact passthrough (hand-written edge cases)', () => {
  it('CRLF: the CR stays where it was, the note goes before it', () => {
    const l = Buffer.from('              dd-896     [001] .....     9.454482: null_queue_rq <-null_queue_rqs\r\n => null_queue_rq+0x5/0x320 [null_blk]\r\n');
    expect(ann(l).toString('latin1')).toBe('              dd-896     [001] .....     9.454482: null_queue_rq [null_blk] <-null_queue_rqs [null_blk]\r\n' +
      ' => null_queue_rq+0x5/0x320 [null_blk]\r\n');
  });

  it('invalid UTF-8 and NUL bytes pass unchanged, symbols on the same line still annotated', () => {
    const bad = Buffer.concat([Buffer.from('   \xff\xfe-1 '.replace(/./g, ''), 'latin1'), Buffer.from([0x20, 0xc3, 0x28, 0x00, 0xff]),
      Buffer.from('-77     [000] .....     1.000000: null_queue_rq <-null_queue_rqs\n')]);
    const out = ann(bad);
    expect(out.subarray(0, 5).equals(bad.subarray(0, 5))).toBe(true);
    expect(out.toString('latin1'))
      .toBe(bad.toString('latin1').replace('null_queue_rq <-null_queue_rqs', 'null_queue_rq [null_blk] <-null_queue_rqs [null_blk]'));
    const nul = Buffer.from('\x00\x00 => null_queue_rq\x00\n\xff\n', 'latin1');
    expect(ann(nul).equals(nul)).toBe(true);
  });

  it('a [supervise] comm at a line end is a process name, not a module', () => {
    const l = Buffer.from('       supervise-412     [000] .....     3.000000: sched_process_exec: filename=/bin/true pid=412 old_pid=412 [supervise]\n');
    expect(ann(l).equals(l)).toBe(true);
    // after a symbol: not taken as its module (the table knows no module "supervise")
    const l2 = Buffer.from('       supervise-412     [000] .....     3.000000: kp: (null_queue_rq+0x4/0x320 [supervise])\n');
    expect(ann(l2).toString()).toBe('       supervise-412     [000] .....     3.000000: kp: (null_queue_rq+0x4/0x320 [null_blk] [supervise])\n');
  });

  it('long lines of other kinds pass in linear time (numbers, many func= fields, graph-like pieces)', () => {
    const lines = [
      `values: ${'0 3 -1 1 -2 '.repeat(50000)}`,
      `           bash-1234    [001] .....     5.509765: bprint: x ${'func=vfs_read+0x1/0x2 '.repeat(30000)}`,
      ` 0)   1.0 us    |${' | a(x) '.repeat(40000)}`,
      ` 0) ${'-1 => '.repeat(40000)}`,
    ];
    const input = Buffer.from(lines.join('\n') + '\n');
    const t0 = performance.now();
    const out = ann(input);
    // seconds each before (backtracking patterns, a scan of every earlier field per field)
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(out.length).toBeGreaterThanOrEqual(input.length);
    expect(out.toString('latin1').split('\n').length).toBe(lines.length + 1);
  });

  it('function_graph: events lost on a CPU forget its open calls (no parent evidence after the gap)', async () => {
    const t = await dupTable();
    const input = (mid: string) => Buffer.from(` 0)               |  udf_fn() {\n${mid} 0)   0.5 us      |    init_once();\n`);
    const out = (b: Buffer) => annotator.createAnnotator(t, { objname: 'ambiguous', refs: false }).chunk(b, 1).toString();
    expect(out(input(''))).toContain('init_once [udf]();'); // the enclosing call is in [udf]
    expect(out(input('CPU:0 [LOST 81234 EVENTS]\n'))).toContain('init_once {?[udf]|[isofs]|+1 unknown}();');
  });

  it('a printed [mod] that no symbol of that name is in: annotated from the table, and counted as a disagreement', async () => {
    const t = await dupTable();
    const out = annotator.createAnnotator(t, { objname: 'ambiguous', refs: false })
      .chunk(Buffer.from(' => udf_fn+0x9/0x100 [isofs]\n => udf_fn+0x9/0x100 [udf]\n'), 1).toString();
    expect(out).toBe(' => udf_fn+0x9/0x100 [isofs] [udf]\n => udf_fn+0x9/0x100 [udf]\n');
    expect(t.consistency.example).toContain('udf_fn [isofs]');
    expect(t.consistency.disagreed).toBeGreaterThanOrEqual(1);
  });

  it('a last line without newline is annotated and stays without one', () => {
    expect(ann(Buffer.from(' => vfs_read')).toString()).toBe(' => vfs_read');
    expect(ann(Buffer.from(' => null_queue_rq')).toString()).toBe(' => null_queue_rq [null_blk]');
  });

  it('a line split across reads (live driver) comes out whole, in order, one write per complete line', async () => {
    const input = new PassThrough();
    const chunks: Buffer[] = [];
    const output = new Writable({ write(c: Buffer, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
    const done = runTransform({
      table, annotator: annotator as AnnotatorModule, annotatorModule: '', opts: { objname: 'ambiguous', refs: false },
      input: { stream: input }, output, mode: 'live',
    });
    const text = 'x-1 [000] ..... 1.0: null_queue_rq <-null_queue_rqs\n => null_queue_rq+0x5/0x320 [null_blk]\n';
    const cut1 = 27, cut2 = text.indexOf('\n') + 5;
    input.write(text.slice(0, cut1));
    await new Promise((r) => setTimeout(r, 20));
    expect(chunks.length).toBe(0); // nothing before the newline
    input.write(text.slice(cut1, cut2));
    await new Promise((r) => setTimeout(r, 20));
    expect(Buffer.concat(chunks).toString()).toBe('x-1 [000] ..... 1.0: null_queue_rq [null_blk] <-null_queue_rqs [null_blk]\n');
    input.end(text.slice(cut2));
    await done;
    expect(Buffer.concat(chunks).toString())
      .toBe('x-1 [000] ..... 1.0: null_queue_rq [null_blk] <-null_queue_rqs [null_blk]\n => null_queue_rq+0x5/0x320 [null_blk]\n');
  });

  it('function_graph across CPUs: the same bytes with --jobs 2 as inline (no pool: state crosses every cut)', async () => {
    // CPU 1 opens udf_fn, CPU 0 runs many calls, then CPU 1 calls init_once: only its parent
    // (in [udf]) tells which init_once
    const t = await dupTable();
    const body = ' 0)               |  vfs_read() {\n 0)   0.981 us    |    ksys_read();\n 0)   1.981 us    |  }\n'.repeat(2000);
    const input = Buffer.from(` 1)               |  udf_fn() {\n${body} 1)   0.500 us    |    init_once();\n 1)   9.500 us    |  }\n`);
    await withTempDir('graph', async (dir) => {
      const file = join(dir, 'g.txt');
      writeFileSync(file, input);
      const run = async (jobs: number) => {
        const parts: Buffer[] = [];
        const output = new Writable({ write(c: Buffer, _e, cb) { parts.push(Buffer.from(c)); cb(); } });
        await runTransform({ table: t, annotator: annotator as AnnotatorModule, annotatorModule: '@kallmod/trace-pipe/annotator',
          opts: { objname: 'ambiguous', refs: false }, input: { fd: openSync(file, 'r'), path: file }, output, jobs, chunkSize: 4096 });
        return Buffer.concat(parts).toString('latin1');
      };
      const inline = await run(1);
      expect(inline).toContain(' 1)   0.500 us    |    init_once [udf]();');
      expect(await run(2)).toBe(inline);
    });
  });
});
