/**
 * The line memo (core stream/line-memo.ts) of `kallmod trace` and `kallmod dmesg`: a line met
 * again, or met with other digits in its prefix (timestamp, pid, CPU), gets from the memo what
 * resolving it would give, and the consistency checks are counted as if it had been resolved.
 * On the real captures of both boots (fixtures/kernel-6.12), and hand-written edge cases.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readdirSync } from 'node:fs';
// the annotators' own copy of core (the package's build), whose LineMemo they call
import { LineMemo } from '@kallmod/core/stream/line-memo';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import * as trace from '../packages/trace-pipe/src/annotator.js';
import * as dmesg from '../packages/dmesg/src/annotator.js';
import { BOOTS, captures, kernelTable, readFixture } from '../packages/trace-pipe/src/kernel.test-util.js';

type Mod = typeof trace | typeof dmesg;
const OPTS = { objname: 'ambiguous' as const, refs: false, extra: {} };

/** Annotate `input` with a fresh annotator: the output and the checks counted meanwhile. */
function annotate(mod: Mod, table: SymbolTable, input: Buffer): { out: Buffer; checked: number; disagreed: number } {
  const c0 = { ...table.consistency };
  const out = mod.createAnnotator(table, OPTS).chunk(input, 1);
  return { out, checked: table.consistency.checked - c0.checked, disagreed: table.consistency.disagreed - c0.disagreed };
}

/** Every digit of the prefixes the memo masks changed (ftrace: up to the first `: `; dmesg: a leading `[...]`). */
function otherDigits(input: Buffer, kind: 'trace' | 'dmesg'): Buffer {
  const bump = (s: string) => s.replace(/\d/g, (d) => String((Number(d) + 3) % 10));
  const lines = input.toString('latin1').split('\n').map((l) => {
    if (kind === 'dmesg') return l.replace(/^\[[ 0-9.]*\]/, bump);
    if (/^\s*(=|\d|#|CPU:)/.test(l) || l.includes('| ') || l.includes('==========')) return l;
    const c = l.indexOf(': ');
    return c < 0 ? l : bump(l.slice(0, c + 2)) + l.slice(c + 2);
  });
  return Buffer.from(lines.join('\n'), 'latin1');
}

let writes = 0;
afterEach(() => { vi.restoreAllMocks(); });
function countHits(): void {
  writes = 0;
  const orig = LineMemo.write;
  vi.spyOn(LineMemo, 'write').mockImplementation((...a) => { const ok = orig(...a); if (ok) writes++; return ok; });
}

for (const boot of BOOTS) {
  describe(`line memo, boot-${boot}`, () => {
    const table = kernelTable(boot);
    const files = readdirSync(`${captures}/boot-${boot}`).filter((f) => f.startsWith('trace')).sort();
    const traceIn = Buffer.concat(files.map((f) => readFixture(`boot-${boot}/${f}`)));
    const cases: [string, Mod, Buffer, 'trace' | 'dmesg'][] = [
      ['trace', trace, traceIn, 'trace'],
      ['dmesg', dmesg, readFixture(`boot-${boot}/dmesg.txt`), 'dmesg'],
    ];
    for (const [name, mod, input, kind] of cases) {
      it(`${name}: the captures again, and with other prefix digits, come out as annotated on their own`, () => {
        const again = otherDigits(input, kind);
        expect(again.equals(input)).toBe(false);
        const one = annotate(mod, table, input), two = annotate(mod, table, again);
        countHits();
        const both = annotate(mod, table, Buffer.concat([input, Buffer.from('\n'), input, Buffer.from('\n'), again]));
        expect(writes).toBeGreaterThan(50);
        expect(both.out.equals(Buffer.concat([one.out, Buffer.from('\n'), one.out, Buffer.from('\n'), two.out]))).toBe(true);
        expect(both.checked).toBe(2 * one.checked + two.checked);
        expect(both.disagreed).toBe(2 * one.disagreed + two.disagreed);
        expect(one.checked).toBeGreaterThan(0);
      });
    }
  });
}

describe('line memo, hand-written edge cases', () => {
  const table = kernelTable('nokaslr');
  // lines whose digits before the first `: ` are read by value: no entry prefix, a CPU column, a
  // stack-tracer row, function_graph; each must come out as it does alone
  const lines = [
    // names that differ in a digit only, in different modules
    'nfs3_create_server+0x5/0x30: x', 'nfs4_create_server+0x5/0x30: x', 'x nfs3_create_server+0x5/0x30: x', 'x nfs4_create_server+0x5/0x30: x',
    ' 0)               |  vfs_read() {', ' 1)               |  vfs_read() {',
    '  7)     1624     176   vfs_read+0x208/0x370', '  7)     1624     176   vfs_read+0x207/0x370',
    '              dd-898     [000] .....     8.700498: ksys_read+0x4/0xf0 <-do_syscall_64+0x9e/0x1c0',
    '              dd-898     [000] .....     8.700498: ksys_read+0x5/0xf0 <-do_syscall_64+0x9e/0x1c0',
    '              dd-898     [000] .....     8.700498: nfs3_create_server <-vfs_read',
    '              dd-899     [001] .....     8.700499: nfs4_create_server <-vfs_read',
  ];
  it('trace: each line as it comes out alone', () => {
    const alone = lines.map((l) => annotate(trace, table, Buffer.from(l + '\n')).out.toString('latin1'));
    const ann = trace.createAnnotator(table, OPTS);
    const out = lines.map((l) => ann.chunk(Buffer.from(l + '\n'), 1).toString('latin1'));
    // the graph lines keep state: only the stateless ones are compared one by one
    for (const i of [0, 1, 2, 3, 6, 7, 8, 9, 10, 11]) expect(out[i]).toBe(alone[i]);
    expect(new Set(out.slice(0, 4)).size).toBe(4);
    expect(new Set(out.slice(10, 12)).size).toBe(2);
  });
  it('dmesg: timestamps masked, other bracketed digits not', () => {
    const d = [
      '[    5.123456] ? vfs_read+0x5/0x370', '[    6.654321] ? vfs_read+0x5/0x370', '[12] nfs3_create_server+0x5/0x30', '[13] nfs4_create_server+0x5/0x30',
      '[    5.1] nfs3_create_server+0x5/0x30', '[    5.1] nfs4_create_server+0x5/0x30', '<4>[    5.1] vfs_read+0x5/0x370',
    ];
    const alone = d.map((l) => annotate(dmesg, table, Buffer.from(l + '\n')).out.toString('latin1'));
    const ann = dmesg.createAnnotator(table, OPTS);
    expect(d.map((l) => ann.chunk(Buffer.from(l + '\n'), 1).toString('latin1'))).toEqual(alone);
    expect(alone[2]!.replace('3', '4')).not.toBe(alone[3]);
  });
  it('trace: the line that followed last time is tried first, and a longer line that starts with it is not it', () => {
    // A B seen three times (B stored, and linked after A), then A B' with B a prefix of B', then A
    // and B' cut where B ends (the chunk's end is no line's end), and A B once more
    const a = ' => null_queue_rqs', b = ' => null_queue_rq', b2 = ' => null_queue_rq+0x5/0x320', c = ' => null_complete_rq';
    const seq = [a, b, a, b, a, b, a, b2, a, c, a, b, b, b, a, b2];
    const alone = (l: string) => annotate(trace, table, Buffer.from(l + '\n')).out.toString('latin1');
    const ann = trace.createAnnotator(table, OPTS);
    const text = seq.join('\n') + '\n';
    expect(ann.chunk(Buffer.from(text), 1).toString('latin1')).toBe(seq.map(alone).join(''));
    const cut = text.lastIndexOf(b2) + b.length;
    const ann2 = trace.createAnnotator(table, OPTS);
    const parts = [ann2.chunk(Buffer.from(text.slice(0, cut)), 1), ann2.chunk(Buffer.from(text.slice(cut)), 1)];
    // the chunk ends inside the line: no annotator sees it whole, each part is annotated as a line
    expect(Buffer.concat(parts).toString('latin1')).toBe(seq.slice(0, -1).map(alone).join('') + alone(b).slice(0, -1) + alone('+0x5/0x320'));
    expect(alone(b)).toBe(' => null_queue_rq [null_blk]\n'); // annotated: a wrong line end would show
  });
});
