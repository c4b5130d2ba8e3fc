/**
 * `kallmod modules` on the real 6.12 fixture kernel, through the built CLI: the module lists
 * are read here too (independently of kallmod) and every name checked against them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSourceFile } from '../packages/core/src/sources/read-file.js';
import { CLI, k, sourceFlags } from './kernel-fixture.js';

function run(args: string[]) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Row { name: string; builtin: boolean; loadable: boolean; loaded: boolean; textSymbols: number; file: string | null; namedBy: string[] }

const rowsOf = (out: string): Row[] => out.trim().split('\n').map((l) => JSON.parse(l) as Row);
/** `kernel/fs/ext4/ext4.ko`, `fs/udf/udf.o` → ext4, udf; `-` → `_` as the kernel names modules. */
const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1).replace(/\.(ko|o)$/, '').replace(/-/g, '_');
const listed = (f: string) => readFileSync(k(f), 'latin1').split('\n').filter(Boolean).map(nameOf);

const FLAGS = [...sourceFlags('nokaslr'), '--modules-order', k('modules.order')];
let dir = '';
let snap = '';
let rows: Row[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kallmod-modules-'));
  const r = run(['modules', '--json', ...FLAGS]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  rows = rowsOf(r.out);
  snap = join(dir, 'fixture.snap');
  expect(run(['capture', '-o', snap, ...FLAGS]).code).toBe(0);
});

afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('kallmod modules on the 6.12 fixture kernel', () => {
  it('lists every module of modules.builtin as built-in, of modules.order as loadable, of /proc/modules as loaded', () => {
    const builtin = listed('modules.builtin'), order = listed('modules.order');
    const loaded = readFileSync(k('boot-nokaslr/proc-modules'), 'latin1').split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
    expect(builtin).toHaveLength(364);
    expect(order).toHaveLength(16);
    expect(loaded).toHaveLength(15);
    expect(rows.map((r) => r.name)).toEqual([...new Set([...builtin, ...order])].sort());
    const by = new Map(rows.map((r) => [r.name, r]));
    for (const m of builtin) expect(by.get(m), m).toMatchObject({ builtin: true, loadable: false, loaded: false });
    for (const m of order) expect(by.get(m), m).toMatchObject({ builtin: false, loadable: true, loaded: loaded.includes(m) });
    // fails to load on QEMU's CPU (fixture README): loadable, never loaded
    expect(by.get('x86_pkg_temp_thermal'))
      .toMatchObject({ loadable: true, loaded: false, textSymbols: 0, file: 'drivers/thermal/intel/x86_pkg_temp_thermal.o' });
    expect(by.get('ext4')).toMatchObject({ file: 'kernel/fs/ext4/ext4.ko', namedBy: ['builtin', 'ranges'] });
    expect(by.get('null_blk')!.namedBy).toEqual(['kallsyms', 'modules-dir', 'modules-order', 'proc-modules']);
  });

  it('names every module of modules.builtin.ranges built-in, with its text symbols counted', () => {
    const ranges = new Set(readSourceFile(k('modules.builtin.ranges.xz')).toString('latin1').split('\n').filter((l) => l && !l.includes(' = '))
      .flatMap((l) => l.split(/\s+/).slice(2)));
    expect(ranges.size).toBeGreaterThan(300);
    const by = new Map(rows.map((r) => [r.name, r]));
    for (const m of ranges) expect(by.get(m)?.namedBy, m).toContain('ranges');
    // the three modules one object is linked into (fixture README): each has that object's symbols
    for (const m of ['ti_cpsw', 'ti_cpsw_new', 'ti_davinci_emac']) expect(by.get(m)!.textSymbols, m).toBeGreaterThan(100);
    const text = rows.reduce((n, r) => n + r.textSymbols, 0);
    expect(text).toBeGreaterThan(43_000);
  });

  it('prints one line per module after a summary, and ends quietly when its pipe closes', () => {
    // from the snapshot of the same sources (quicker; the next test shows it says the same)
    const r = run(['modules', '--snapshot', snap]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('380 modules: 364 built-in, 16 loadable (15 loaded)');
    expect(lines).toHaveLength(381);
    expect(lines.find((l) => l.startsWith('ext4 '))).toMatch(/^ext4 +built-in +\d+ +kernel\/fs\/ext4\/ext4\.ko$/);
    expect(lines.find((l) => l.startsWith('null_blk '))).toMatch(/^null_blk +loadable,loaded +236 +drivers\/block\/null_blk\/null_blk\.o$/);
    const sh = `"${CLI}" modules --kallsyms "${k('boot-nokaslr/kallsyms.xz')}" | head -1; echo "rc=\${PIPESTATUS[0]}"`;
    const h = spawnSync('bash', ['-c', sh], { encoding: 'utf8' });
    expect(h.stdout).toMatch(/^\d+ modules: .*\nrc=0\n$/);
    expect(h.stderr).toBe('');
  });

  it('says the same from a snapshot (its own copies of the lists), except the .ko files it does not carry', () => {
    const r = run(['modules', '--json', '--snapshot', snap]);
    expect(r.err).toBe('');
    const strip = (x: Row) => ({ ...x, namedBy: x.namedBy.filter((s) => s !== 'modules-dir') });
    expect(rowsOf(r.out)).toEqual(rows.map(strip));
  });

  it('reports on stderr a module that one source calls built-in and another loadable (hand-written modules.builtin)', () => {
    // edge case: a modules.builtin of another configuration, with udf (loadable here) built in
    const other = join(dir, 'modules.builtin');
    writeFileSync(other, readFileSync(k('modules.builtin'), 'latin1') + 'kernel/fs/udf/udf.ko\n');
    const flags = FLAGS.map((f) => (f === k('modules.builtin') ? other : f));
    const r = run(['modules', '--json', ...flags]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^kallmod: warning: [^\n]*modules\.builtin[^\n]*: the sources disagree: 1 module\(s\) both built-in and loadable /);
    expect(r.err).toMatch(/ udf \(built-in: builtin; loadable: kallsyms, modules-dir, modules-order, proc-modules\)\n$/);
    expect(r.err.split('\n')).toHaveLength(2);
    expect(rowsOf(r.out).find((x) => x.name === 'udf')).toMatchObject({ builtin: true, loadable: true, loaded: true });
  });
});
