/**
 * The kallmod command as users call it (built dist): the lookup --json contract, sources,
 * dups, capture + --snapshot, and one-line errors with the right exit status.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, k, sourceFlags } from './kernel-fixture.js';
import { tempDir } from './temp-dir.js';

const tmp = tempDir('cli');

function run(args: string[], input?: string) {
  const r = spawnSync(CLI, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const FIELDS = [
  'query', 'address', 'name', 'offset', 'size', 'sizeInferred', 'kallsymsSize', 'type', 'modules', 'builtin', 'objname', 'objnameShort',
  'ambiguous', 'candidates', 'resolvedBy',
];

describe('kallmod lookup', () => {
  it('answers one JSON object per query, in order, with the documented fields', () => {
    const qs = ['vfs_read', 'ffffffff812da8e5', 'init_once', 'init_once+0x0/0x110', 'no_such_symbol_x', 'ext4_fill_super+0x10', 'null_queue_rq'];
    const r = run(['lookup', '--json', ...sourceFlags('nokaslr')], qs.join('\n') + '\n');
    expect(r.code).toBe(0);
    const a = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(a.map((x) => x.query)).toEqual(qs);
    for (const x of a) for (const f of FIELDS) expect(x).toHaveProperty(f);
    expect(a[0]).toMatchObject({ name: 'vfs_read', address: '0xffffffff812da8e0', modules: [], builtin: false, objname: 'fs/read_write.o', ambiguous: false });
    expect(a[1]).toMatchObject({ name: 'vfs_read', offset: 5 });
    expect(a[2].ambiguous).toBe(true);
    expect(a[2].candidates.length).toBeGreaterThan(10);
    expect(a[3]).toMatchObject({ ambiguous: false, address: '0xffffffff81302020', kallsymsSize: 0x110 });
    expect(a[4]).toMatchObject({ name: null, ambiguous: false });
    expect(a[5])
      .toMatchObject({ name: 'ext4_fill_super', offset: 16, modules: ['ext4'], builtin: true, objname: 'fs/ext4/super.o', objnameShort: 'ext4/super.o' });
    expect(a[6]).toMatchObject({ modules: ['null_blk'], builtin: false, objname: 'drivers/block/null_blk/main.o' });
    expect(typeof a[5].size).toBe('number');
  });
  it('prints a readable line per query without --json, and exits 1 when nothing was found', () => {
    const r = run(['lookup', ...sourceFlags('kaslr', { modules: false }), 'ext4_fill_super']);
    expect(r.out).toMatch(/^ext4_fill_super\t0xffffffffb3[0-9a-f]+ t ext4_fill_super\/0x[0-9a-f]+ \[ext4\] \{ext4\/super.o\}  \(fs\/ext4\/super.o\)\n$/);
    expect(run(['lookup', '--kallsyms', k('boot-kaslr/kallsyms.xz'), 'no_such_symbol_x']).code).toBe(1);
  });
});

describe('kallmod sources and dups', () => {
  it('reports coverage, the slide and no warnings for matching sources', () => {
    const r = run(['sources', '--json', ...sourceFlags('kaslr')]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.kaslrSlide).toMatchObject({ slide: 0x31e00000, consistent: true });
    expect(s.coverage.objname).toBeGreaterThan(0.999);
    expect(s.duplicates.byName.keys).toBeGreaterThan(300);
    expect(s.duplicates.byTriplet.keys).toBe(0);
    expect(s.warnings).toEqual([]);
  });
  it('lists duplicated names, still-ambiguous ones first (none with every source)', () => {
    const all = run(['dups', '--json', ...sourceFlags('nokaslr')]).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(all.filter((d) => d.stillAmbiguous)).toEqual([]);
    const io = all.find((d) => d.name === 'init_once');
    expect(new Set(io.symbols.map((s: { objname: string }) => s.objname)).size).toBe(io.symbols.length);
    // kallsyms alone: no objnames, so the same names are listed first, with the reason
    const bare = run(['dups', '--json', '--kallsyms', k('boot-nokaslr/kallsyms.xz')]).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(bare[0].stillAmbiguous).toBe(true);
    expect(bare[0].reason).toMatch(/objname unknown/);
  });
});

describe('kallmod capture / --snapshot', () => {
  it('saves the sources of one kernel and annotates the same way from the snapshot', () => {
    const d = mkdtempSync(join(tmp(), 'snap-'));
    const snap = join(d, 'k.snap');
    const c = run(['capture', '-o', snap, ...sourceFlags('kaslr')]);
    expect(c.code, c.err).toBe(0);
    const qs = 'ext4_fill_super\nffffffffb3e00000\ninit_once+0x0/0x110\nnull_queue_rq\n';
    const a = run(['lookup', '--json', ...sourceFlags('kaslr')], qs).out;
    const b = run(['lookup', '--json', '--snapshot', snap], qs).out;
    expect(b.replace(/"resolvedBy":"[^"]*"/g, '')).toEqual(a.replace(/"resolvedBy":"[^"]*"/g, ''));
    const info = JSON.parse(run(['sources', '--json', '--snapshot', snap]).out);
    expect(info.sources[0].role).toBe('snapshot');
  });
  const root = process.getuid?.() === 0 && (() => {
    try { return /^ffff/.test(readFileSync('/proc/kallsyms', 'latin1').slice(0, 4)); } catch { return false; }
  })();
  it.skipIf(!root)('captures the running kernel as root', () => {
    const snap = join(mkdtempSync(join(tmp(), 'snap-')), 'here.snap');
    const c = run(['capture', '-o', snap]);
    expect(c.code, c.err).toBe(0);
    const r = JSON.parse(run(['lookup', '--json', '--snapshot', snap, 'vfs_read']).out);
    const want = readFileSync('/proc/kallsyms', 'latin1').split('\n').find((l) => / vfs_read$/.test(l))!.split(' ')[0];
    expect(r.address).toBe('0x' + want);
  });
  if (!root) console.warn('skipped: capture of the running kernel needs root and readable kallsyms addresses');
  it('refuses to capture hidden addresses', () => {
    const d = mkdtempSync(join(tmp(), 'snap-'));
    writeFileSync(join(d, 'ks'), '0000000000000000 T _text\n0000000000000000 t foo\n');
    const c = run(['capture', '-o', join(d, 'x'), '--kallsyms', join(d, 'ks')]);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/addresses are hidden/);
  });
});

describe('errors', () => {
  it('one line naming the file, no stack trace', () => {
    const r = run(['lookup', '--kallsyms', '/nonexistent/kallsyms', 'x']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('kallmod lookup: /nonexistent/kallsyms: cannot read: no such file\n');
    const b = run(['lookup', '--kallsyms', k('modules.builtin'), 'x']);
    expect(b.err.trim().split('\n')).toHaveLength(1);
    expect(b.err).toMatch(/modules.builtin:1: no symbols found/);
  });
  it('bad flags: usage error, exit 2', () => {
    const r = run(['lookup', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--no-such-flag'/);
    expect(run(['frobnicate']).code).toBe(2);
  });
  it('--help everywhere', () => {
    const commands = ['lookup', 'sources', 'dups', 'capture', 'perf', 'trace', 'dmesg', 'stack', 'json', 'resolve', 'report', 'flame',
      'kallmodsyms', 'modules'];
    for (const c of commands) {
      const r = run([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(/usage: kallmod/);
      // a default terminal's width, whatever width the source text was written at
      expect(r.out.split('\n').filter((l) => l.length > 80), c).toEqual([]);
    }
    expect(run(['--help']).out.split('\n').filter((l) => l.length > 80)).toEqual([]);
  });
});

describe('progress on a terminal', () => {
  const haveScript = spawnSync('script', ['--version']).status === 0;
  if (!haveScript) console.warn('skipped: no script(1) to give kallmod a terminal');
  it.skipIf(!haveScript)('draws a bar on stderr for a long file when stderr is a tty, and exits', () => {
    const d = mkdtempSync(join(tmp(), 'progress-'));
    const big = join(d, 'big.txt');
    // 70 MB of the real perf capture's first lines (the bar starts at 64 MB)
    const one = spawnSync('xz', ['-dc', join(k('..'), 'perf/system-g.script.xz')], { maxBuffer: 1 << 30 }).stdout;
    const chunk = one.subarray(0, one.lastIndexOf(10) + 1);
    const parts: Buffer[] = [];
    for (let n = 0; n < 70e6; n += chunk.length) parts.push(chunk);
    writeFileSync(big, Buffer.concat(parts));
    const log = join(d, 'tty.log');
    // CI=true turns the bar off (CI logs are not terminals): this test is about the tty case
    const env = { ...process.env };
    delete env['CI'];
    const r = spawnSync('script', ['-qec', `${CLI} perf --kallsyms ${join(k('..'), 'perf/kallsyms.xz')} ${big} > /dev/null`, log], { timeout: 60_000, env });
    expect(r.status).toBe(0);
    expect(readFileSync(log, 'latin1')).toMatch(/100% \d+\/\d+ MB/);
  });
});

describe('input from another kernel than the sources', () => {
  const perfText = spawnSync('xz', ['-dc', join(k('..'), 'perf/system-g.script.xz')], { maxBuffer: 1 << 30 }).stdout.toString('latin1');
  it('is reported once on stderr (perf text of this machine, sources of the 6.12 kernel)', () => {
    const r = run(['perf', '--kallsyms', k('boot-kaslr/kallsyms.xz')], perfText);
    expect(r.code).toBe(0);
    expect(r.err.match(/do not match the symbol sources/g)).toHaveLength(1);
  });
  it('says the same with a worker pool as with one thread: the figures and the first example (file order)', () => {
    const d = mkdtempSync(join(tmp(), 'pool-mismatch-'));
    const f = join(d, 'p.script');
    writeFileSync(f, perfText.repeat(3), 'latin1'); // 10 MB: ten 1 MiB chunks
    const one = run(['perf', '-j', '1', '--kallsyms', k('boot-kaslr/kallsyms.xz'), f]);
    expect(one.err).toMatch(/do not match the symbol sources \(e\.g\. 0x[0-9a-f]+ /);
    for (const j of ['2', '4']) expect(run(['perf', '-j', j, '--kallsyms', k('boot-kaslr/kallsyms.xz'), f]).err, `-j ${j}`).toBe(one.err);
  });
  it('is not reported when they match (same capture, its own kallsyms; a real oops, its own boot)', () => {
    expect(run(['perf', '--kallsyms', join(k('..'), 'perf/kallsyms.xz')], perfText).err).toBe('');
    const oops = readFileSync(k('boot-kaslr/dmesg.txt'), 'latin1');
    expect(run(['dmesg', ...sourceFlags('kaslr', { modules: false })], oops).err).toBe('');
    // another kernel's oops: the printed sizes give it away
    expect(run(['dmesg', '--kallsyms', join(k('..'), 'perf/kallsyms.xz')], oops).err).toMatch(/do not match the symbol sources/);
  });
});
