/**
 * `kallmod resolve` through the built CLI: exit statuses, JSON order, stdin, dry runs on the
 * real 6.12 kernel of fixtures/kernel-6.12 (also without tracefs), and a live `--apply` into a
 * tracefs instance of this machine (skipped, with the reason printed, where tracefs does not allow it).
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI as BIN, k, ROOT, sourceFlags } from '../../../../test/kernel-fixture.js';
import { tempDir } from '../../../../test/temp-dir.js';

function km(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const tracefsMounted = () => TRACEFS.some((d) => existsSync(join(d, 'available_tracers')) || existsSync(join(d, 'trace')));

const haveBuild = existsSync(join(ROOT, 'packages/cli/dist/commands/resolve.js'));
if (!haveBuild) console.log('skipping the resolve CLI tests: no build (run npx tsc -b)');

const tmp = tempDir('resolve');

describe.skipIf(!haveBuild)('kallmod resolve on the 6.12 kernel', () => {
  // the boot's sources captured once: a snapshot loads in milliseconds, the raw files in seconds per run
  const S: string[] = [];
  beforeAll(() => {
    const snap = join(tmp(), 'kaslr.snap');
    const c = km(['capture', '-o', snap, ...sourceFlags('kaslr')]);
    expect(c.status, c.stderr).toBe(0);
    S.push('--snapshot', snap);
  }, 120_000);
  const AFF = k('boot-kaslr/available_filter_functions.xz');

  it('a unique triplet → its address (exit 0); a bare duplicate → every candidate (exit 2); nothing → exit 1', () => {
    const ok = km(['resolve', '--address', ...S, 'event_show [rapl]']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('0xffffffffb2e0bb00\n');
    const amb = km(['resolve', '--address', ...S, 'event_show']);
    expect(amb.status).toBe(2);
    expect(amb.stdout).toBe('');
    expect(amb.stderr).toMatch(/ambiguous: 9 symbols/);
    expect(amb.stderr).toContain('0xffffffffb2e13a30 t event_show {arch/x86/events/intel/core.o}    → event_show {intel/core.o}');
    const none = km(['resolve', '--address', ...S, 'no_such_function_at_all']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no symbol matches/);
    expect(km(['resolve', '--address', ...S, 'event_show [rapl]', 'no_such_function_at_all']).status).toBe(1);
    expect(km(['resolve', '--address', ...S, 'bad query {x.o} [m]']).status).toBe(2);
  });

  it('--json: one object per query, in order, from stdin; globs', () => {
    const r = km(['resolve', '--json', '--kprobe', '--ftrace-index', '--filter-functions', AFF, ...S],
      'init_once [udf]\n\n*_show [rapl]\ninit_once\ninit_once {ext4/super.o}\nevent_show {intel/core.o}\nnull_queue_rq+0x5\n');
    expect(r.status).toBe(2);
    const a = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a.map((x) => x['query'])).toEqual(
      ['init_once [udf]', '*_show [rapl]', 'init_once', 'init_once {ext4/super.o}', 'event_show {intel/core.o}', 'null_queue_rq+0x5']);
    expect(a[0]).toMatchObject({
      name: 'init_once', modules: ['udf'], builtin: false, objname: 'fs/udf/super.o',
      kprobe: expect.stringMatching(/^p:kallmod\/init_once__udf_super 0xffffffffc/),
    });
    expect(a[1]).toMatchObject({ name: 'event_show', address: '0xffffffffb2e0bb00' });
    expect(a[2]).toMatchObject({ error: expect.stringMatching(/ambiguous/), candidates: expect.any(Array) });
    expect((a[2]!['candidates'] as unknown[]).length).toBe(14);
    expect(a[2]!['address']).toBeUndefined();
    expect(a[3]).toMatchObject(
      { address: '0xffffffffb31fbaf0', modules: ['ext4'], builtin: true, objnameShort: 'ext4/super.o', ftraceIndex: expect.any(Number) });
    expect(a[4]).toMatchObject({ address: '0xffffffffb2e13a30', ftraceIndex: 313, kprobe: 'p:kallmod/event_show__intel_core 0xffffffffb2e13a30' });
    // line 313 of the boot's list is event_show
    const lines = spawnSync('xz', ['-dc', AFF], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout.split('\n');
    expect(lines[312]).toBe('event_show');
    expect(a[5]).toMatchObject({ address: '0xffffffffc02c28d5', offset: 5, ftraceIndex: null, ftraceIndexError: expect.stringMatching(/offset/) });
  });

  it('output forms in text; --kprobe=GROUP/EVENT', () => {
    const r = km(['resolve', '--perf-probe', '--bpftrace', '--kretprobe', ...S, 'null_queue_rq']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('kretprobe\tr:kallmod/null_queue_rq__null_blk_main 0xffffffffc02c28d0\n' +
      'perf-probe\tkallmod:null_queue_rq__null_blk_main=0xffffffffc02c28d0\nbpftrace\tkprobe:null_queue_rq\n');
    const e = km(['resolve', '--kprobe=grp/ev', ...S, 'event_show {p6.o}']);
    expect(e.stdout).toBe('p:grp/ev 0xffffffffb2e20000\n');
    expect(km(['resolve', '--kprobe=9bad', ...S, 'event_show {p6.o}']).status).toBe(2);
  });

  it('--ftrace-index with another kernel\'s sources needs --filter-functions', () => {
    const r = km(['resolve', '--ftrace-index', ...S, 'event_show {p6.o}']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/needs --filter-functions/);
  });

  const dryRun = () => ['resolve', '--ftrace-index', '--kprobe', '--filter-functions', AFF, '--apply', '--dry-run',
    '--instance', `kallmod-dry-${process.pid}`, ...S, 'event_show {intel/core.o}'];
  it('--apply --dry-run prints the writes, touches nothing', () => {
    const r = km(dryRun());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`echo '313' >> `);
    expect(r.stdout).toMatch(new RegExp(`instances/kallmod-dry-${process.pid}/set_ftrace_filter`));
    expect(r.stdout).toMatch(/echo 'p:kallmod\/event_show__intel_core 0xffffffffb2e13a30' >> \S+\/kprobe_events/);
    expect(existsSync(`/sys/kernel/tracing/instances/kallmod-dry-${process.pid}`)).toBe(false);
    const amb = km(['resolve', '--ftrace-index', '--filter-functions', AFF, '--apply', '--dry-run', '--instance', 'x', ...S, 'event_show']);
    expect(amb.status).toBe(2);
    expect(amb.stderr).toMatch(/not applying anything/);
  });

  /** The CLI where no tracefs is mounted: here, or as root in a private mount namespace that unmounts it (the host keeps its mounts). */
  function withoutTracefs(args: string[]): ReturnType<typeof km> | string {
    if (!tracefsMounted()) return km(args);
    if (process.getuid?.() !== 0) return 'tracefs is mounted here, and only root can hide it (unshare -m)';
    const sh = `for d in ${TRACEFS.join(' ')}; do umount "$d" 2>/dev/null; done; ` +
      `for d in ${TRACEFS.join(' ')}; do [ -e "$d/trace" ] && { echo "still mounted: $d" >&2; exit 99; }; done; exec "$@"`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, 'sh', process.execPath, BIN, ...args],
      { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.error || r.status === 99 || /unshare:/.test(r.stderr)) return `cannot hide tracefs in a mount namespace: ${(r.error?.message ?? r.stderr).trim()}`;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('a dry run needs no tracefs: the same writes, under /sys/kernel/tracing, and a note', (ctx) => {
    const r = withoutTracefs(dryRun());
    if (typeof r === 'string') { console.log(`[resolve --dry-run without tracefs] skipped: ${r}`); ctx.skip(); return; }
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(km(dryRun()).stdout.replace(/\/sys\/kernel\/debug\/tracing\//g, '/sys/kernel/tracing/'));
    expect(r.stdout).toContain(`echo '313' >> /sys/kernel/tracing/instances/kallmod-dry-${process.pid}/set_ftrace_filter`);
    expect(r.stderr).toMatch(/note: tracefs is not mounted: showing the writes under \/sys\/kernel\/tracing/);
    // without --dry-run it still refuses, in one line
    const real = withoutTracefs(dryRun().filter((a) => a !== '--dry-run'));
    expect(typeof real === 'string' ? real : [real.status, real.stderr])
      .toEqual([1, 'kallmod resolve: tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)\n']);
  });
});

/** What this file mounted, unmounted after its tests: the host is left as it was found. */
let mountedHere: string | null = null;
afterAll(() => {
  if (!mountedHere) return;
  const u = spawnSync('umount', [mountedHere], { encoding: 'utf8' });
  if (u.status !== 0) console.log(`could not unmount ${mountedHere}, which this test mounted: ${u.stderr.trim()}`);
  mountedHere = null;
});

/** tracefs of this machine: mounted (mounting it if needed, as root, to unmount it afterwards), or why not. */
function liveTracefs(): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'not root' };
  for (const d of TRACEFS) if (existsSync(join(d, 'available_tracers'))) return { dir: d };
  if (existsSync('/sys/kernel/tracing')) {
    const m = spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { encoding: 'utf8' });
    if (m.status === 0) mountedHere = '/sys/kernel/tracing';
    if (m.status === 0 && existsSync('/sys/kernel/tracing/available_tracers')) return { dir: '/sys/kernel/tracing' };
    return { skip: `tracefs not mounted and mounting it failed: ${(m.stderr || m.error?.message || '').trim()}` };
  }
  return { skip: 'no /sys/kernel/tracing' };
}

describe.skipIf(!haveBuild)('kallmod resolve --apply, live on this machine', () => {
  it('--ftrace-index of a duplicated name into an own instance', (ctx) => {
    const skip = (why: string) => { console.log(`skipping the live --apply test: ${why}`); ctx.skip(); };
    if (!existsSync('/proc/kallsyms')) return skip('no /proc/kallsyms');
    const live = liveTracefs();
    if ('skip' in live) return skip(live.skip);
    const name = `kallmod-resolve-${process.pid}`;
    const inst = join(live.dir, 'instances', name);
    try { mkdirSync(inst); } catch (e) { return skip(`cannot create ${inst}: ${(e as Error).message}`); }
    try {
      const aff = join(live.dir, 'available_filter_functions');
      try {
        readFileSync(aff).subarray(0, 0);
      } catch (e) {
        return skip(`${aff} is unreadable here (${(e as NodeJS.ErrnoException).code}: sandbox or lockdown)`);
      }
      // a duplicated name of this kernel, each copy named by its own triplet
      const dups = km(['dups', '--json']);
      expect(dups.status).toBe(0);
      const queries: string[] = [];
      for (const l of dups.stdout.split('\n')) {
        if (!l) continue;
        const r = JSON.parse(l) as { name: string; stillAmbiguous: boolean; symbols: { modules: string[]; objname: string | null }[] };
        if (r.stillAmbiguous || r.name.startsWith('__pfx_')) continue;
        for (const s of r.symbols) queries.push(`${r.name}${s.modules.map((m) => ` [${m}]`).join('')}${s.objname ? ` {${s.objname}}` : ''}`);
      }
      if (!queries.length) {
        console.log('note: no duplicated name of this kernel can be told apart (no objname source here): applying a unique name instead');
        queries.push('vfs_read', 'schedule', 'do_sys_open');
      }
      const probe = km(['resolve', '--json', '--ftrace-index'], queries.slice(0, 300).join('\n') + '\n');
      const answers = probe.stdout.trim() ? probe.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      const good = answers.find((a) => typeof a['ftraceIndex'] === 'number');
      if (!good) return skip(`no ftrace index could be made here: ${probe.stderr.trim().split('\n').pop() ?? ''}`);
      const r = km(['resolve', '--ftrace-index', '--apply', '--instance', name, String(good['query'])]);
      expect(r.status, r.stderr).toBe(0);
      const filter = readFileSync(join(inst, 'set_ftrace_filter'), 'utf8');
      expect(filter.split('\n').map((l) => l.split(' ')[0])).toContain(good['name']);
      writeFileSync(join(inst, 'set_ftrace_filter'), '');
    } finally {
      try { rmdirSync(inst); } catch (e) { console.log(`could not remove ${inst}: ${(e as Error).message}`); }
    }
    expect(existsSync(inst)).toBe(false);
  }, 120_000);

  it('an unreadable or absent tracefs gives a clear error, not a crash', () => {
    const r = km(['resolve', '--ftrace-index', '--apply', '--instance', `kallmod-none-${process.pid}`, 'vfs_read']);
    // it says why, with exit 1; or, not root, the running kernel's hidden addresses come first (exit 2)
    const hidden = /the symbol sources hide every address/.test(r.stderr);
    expect(r.status, r.stderr).toBe(hidden ? 2 : 1);
    expect(r.stderr)
      .toMatch(/kallmod resolve: .*(no tracefs instance|cannot read the running kernel's filter functions|not mounted|not in|needs root|hide every address)/);
    for (const l of r.stderr.trimEnd().split('\n')) expect(l).toMatch(/^kallmod( resolve)?: /);
  });
});
