/**
 * kallmod report on real perf data: every per-module total equals a second count made here
 * from `kallmod perf --refs` (one JSON object per kernel frame, by the other path through the
 * resolver) and the perf text's own sample lines; the total equals the number of samples.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, k, sourceFlags } from './kernel-fixture.js';
import { perfTextFrom612Dmesg, perfTextFrom612Stacktraces } from './perf-from-stacktraces.js';
import { tempDir } from './temp-dir.js';
import { sharedSnapshot } from './shared-snapshot.js';

const dir = tempDir('report');
// this machine's capture's kallsyms, captured once per run (each CLI run then starts in milliseconds)
const perfSources = sharedSnapshot(['--kallsyms', join(k('..'), 'perf/kallsyms.xz')]);

function run(args: string[], input?: string | Buffer): { out: string; err: string; status: number | null } {
  const r = spawnSync(CLI, args, { input, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
  return { out: r.stdout, err: r.stderr, status: r.status };
}
function xz(rel: string): string {
  return spawnSync('xz', ['-dc', join(k('..'), rel)], { maxBuffer: 1 << 30 }).stdout.toString('latin1');
}

interface ModRow { kind: string; module: string; self: number; total: number }
interface ReportJson {
  samples: number; samplesRead: number; weight: number; kernelSamples: number; weighedBy: string;
  modules: ModRow[]; objects: ModRow[]; symbols: (ModRow & { name: string; label: string })[];
}

/**
 * The second count: samples split at blank lines (a header line first); a sample's kernel frames
 * are the --refs objects of its lines, each frame's module row the refs' `modules` (none: core
 * kernel; ambiguous or unresolved: their own rows), user frames from the text's dso. Self: the
 * first frame's row; total: every row the sample has, once.
 */
function independentCount(text: string, refs: string): { samples: number; kernelLeaf: number; self: Map<string, number>; total: Map<string, number> } {
  const byLine = new Map<number, { modules: string[]; builtin: boolean; ambiguous: boolean; name: string | null }>();
  for (const l of refs.split('\n')) if (l) { const o = JSON.parse(l); byLine.set(o.line, o); }
  const self = new Map<string, number>(), total = new Map<string, number>();
  const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
  let samples = 0, kernelLeaf = 0;
  let rows: string[] = [];
  const flush = () => {
    if (rows.length) { bump(self, rows[0]!); for (const r of new Set(rows)) bump(total, r); if (rows[0]!.startsWith('k:')) kernelLeaf++; }
    rows = [];
  };
  text.split('\n').forEach((l, i) => {
    if (l === '') { flush(); return; }
    if (!l.startsWith('\t')) { samples++; return; } // perf indents frames with a tab, headers with spaces
    const ref = byLine.get(i + 1);
    if (ref) {
      const kind = ref.ambiguous ? 'ambiguous' : ref.name === null ? 'unknown' : ref.modules.length === 0 ? 'core' : ref.builtin ? 'built-in' : 'loadable';
      rows.push(`k:${kind}:${kind === 'core' ? '(core kernel)' : kind === 'unknown' ? '(unresolved kernel)' : ref.modules.join(' ')}`);
    } else {
      // the dso: the last parenthesised group, which may hold one more (`/memfd:x (deleted)`)
      const dso = / \(((?:[^()]|\([^()]*\))*)\)$/.exec(l)?.[1] ?? '[unknown]';
      rows.push(`u:user:${dso.slice(dso.lastIndexOf('/') + 1)}`);
    }
  });
  flush();
  return { samples, kernelLeaf, self, total };
}

function reportCounts(r: ReportJson): { self: Map<string, number>; total: Map<string, number> } {
  const self = new Map<string, number>(), total = new Map<string, number>();
  for (const m of r.modules) {
    const key = `${m.kind === 'user' ? 'u' : 'k'}:${m.kind}:${m.module}`;
    if (m.self) self.set(key, m.self);
    total.set(key, m.total);
  }
  return { self, total };
}

const sorted = (m: Map<string, number>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('kallmod report: 6.12 kernel with built-in and loadable modules (its own ftrace stack traces as perf samples)', () => {
  const a = perfTextFrom612Stacktraces(), b = perfTextFrom612Dmesg();
  const text = a.text + b.text, samples = a.samples + b.samples, frames = a.frames + b.frames;
  // one capture of the 6.12 boot's sources per file: each run then starts from it in milliseconds
  const src = sharedSnapshot(sourceFlags('kaslr'));
  it('per-module self and total equal the count from kallmod perf --refs; the total is the sample count', () => {
    expect([a.samples, b.samples]).toEqual([9, 6]);
    expect(frames).toBeGreaterThan(100);
    const file = join(dir(), 'stacks-612.perf');
    writeFileSync(file, text);
    const rep = run(['report', '--json', ...src(), file]);
    expect(rep.err).toBe('');
    const r = JSON.parse(rep.out) as ReportJson;
    const refs = run(['perf', '--refs', ...src(), file]);
    expect(refs.status).toBe(0);
    const ind = independentCount(text, refs.out);
    expect(r.samples).toBe(ind.samples);
    expect(r.samples).toBe(samples);
    expect(r.kernelSamples).toBe(ind.kernelLeaf);
    const got = reportCounts(r);
    expect(sorted(got.self)).toEqual(sorted(ind.self));
    expect(sorted(got.total)).toEqual(sorted(ind.total));
    // what the issue is about: modules perf shows as [kernel.kallsyms] are told apart
    const kinds = new Set(r.modules.map((m) => m.kind));
    expect(kinds).toContain('loadable');
    expect(r.modules.find((m) => m.module === 'null_blk')?.kind).toBe('loadable');
    expect(kinds).toContain('built-in');
    expect(r.modules.reduce((s, m) => s + m.self, 0)).toBe(r.weight);
  });

  it('the terminal table fits 80 columns and names the built-in modules', () => {
    const file = join(dir(), 'stacks-612.perf');
    writeFileSync(file, text);
    const t = run(['report', ...src(), file]);
    expect(t.status).toBe(0);
    for (const l of t.out.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(t.out).toMatch(/built-in +\S/);
    expect(t.out).toMatch(/loadable +null_blk/);
    expect(t.out).not.toContain('\u001b['); // NO_COLOR, and not a terminal
  });
});

describe('kallmod report: this machine\'s real perf capture (fixtures/perf)', () => {
  const text = xz('perf/system-g.script.xz');
  const file = () => { const f = join(dir(), 'system-g.perf'); writeFileSync(f, text, 'latin1'); return f; };

  it('per-module counts equal the independent count, total = the samples perf wrote', () => {
    const f = file();
    const r = JSON.parse(run(['report', '--json', ...perfSources(), f]).out) as ReportJson;
    const ind = independentCount(text, run(['perf', '--refs', ...perfSources(), f]).out);
    expect(r.samples).toBe(2532); // the capture's "callchain" count in its JSON form, too
    expect(r.samples).toBe(ind.samples);
    expect(r.kernelSamples).toBe(ind.kernelLeaf);
    const got = reportCounts(r);
    expect(sorted(got.self)).toEqual(sorted(ind.self));
    expect(sorted(got.total)).toEqual(sorted(ind.total));
  });

  it('perf JSON of the same recording gives the same kernel modules, samples and kernel symbols', () => {
    const f = file();
    const jf = join(dir(), 'system-g.json');
    writeFileSync(jf, xz('perf/system-g.json.xz'), 'latin1');
    const a = JSON.parse(run(['report', '--json', '--kernel-only', ...perfSources(), f]).out) as ReportJson;
    const b = JSON.parse(run(['report', '--json', '--kernel-only', ...perfSources(), jf]).out) as ReportJson;
    expect(b.samples).toBe(a.samples);
    expect(b.samplesRead).toBe(2532);
    expect(b.modules).toEqual(a.modules);
    const syms = (r: ReportJson) => r.symbols.map((s) => `${s.label} ${s.self} ${s.total}`).sort();
    expect(syms(b)).toEqual(syms(a));
  });

  it('folded stacks from kallmod perf --fold give the --period weights of the text', () => {
    const f = file();
    const folded = run(['perf', '--fold', ...perfSources(), f]).out;
    const ff = join(dir(), 'system-g.folded');
    writeFileSync(ff, folded, 'latin1');
    const a = JSON.parse(run(['report', '--json', '--period', '--kernel-only', ...perfSources(), f]).out) as ReportJson;
    const b = JSON.parse(run(['report', '--json', '--kernel-only', ...perfSources(), ff]).out) as ReportJson;
    expect(a.weight).toBe(a.samples * 250000); // cpu-clock at 4 kHz: every sample printed 250000
    expect(b.weight).toBe(a.weight);
    expect(b.modules.map((m) => [m.module, m.self, m.total])).toEqual(a.modules.map((m) => [m.module, m.self, m.total]));
    // what the folded numbers are is not known (here periods): never called samples
    expect([a.weighedBy, b.weighedBy]).toEqual(['period', 'count']);
    const t = run(['report', ...perfSources(), ff]).out.split('\n');
    expect(t[0]).toMatch(/^\d+ counted in folded stacks \([\d.]+% with a kernel leaf\); % of them$/);
    expect(Number(t[0]!.split(' ')[0])).toBe(2532 * 250000); // every sample's period, user leaves too
    expect(t[1]).toMatch(/^\(folded counts: samples, or periods/);
    expect(t.join('\n')).not.toMatch(/\bsamples\)/);
  });

  it('--sort, --limit, --csv, --kernel-only; usage errors exit 2', () => {
    const f = file();
    const csv = run(['report', '--csv', '--kernel-only', '--sort', 'total', ...perfSources(), f]).out.trim().split('\n');
    expect(csv[0]).toBe('level,kind,module,objname,name,self,total,self_percent,total_percent');
    const sym = csv.filter((l) => l.startsWith('symbol,'));
    const totals = sym.map((l) => Number(l.split(',').at(-3)));
    expect(totals).toEqual([...totals].sort((x, y) => y - x));
    expect(sym.every((l) => l.split(',')[1] === 'core')).toBe(true); // --kernel-only: no user rows
    const top = run(['report', '--json', '--limit', '3', ...perfSources(), f]);
    expect((JSON.parse(top.out) as ReportJson).symbols).toHaveLength(3);
    expect(run(['report', '--sort', 'size', ...perfSources(), f]).status).toBe(2);
    expect(run(['report', '--input', 'xml', ...perfSources(), f]).status).toBe(2);
    const bad = run(['report', '--input', 'folded', ...perfSources(), f]);
    expect(bad.status).toBe(1);
    expect(bad.err).toMatch(/system-g\.perf:1: not a folded stack/);
  });

  it('another kernel\'s sources: the warning kallmod perf gives, with the same figures, and exit 0', () => {
    const other = ['--kallsyms', k('boot-kaslr/kallsyms.xz')];
    const r = run(['report', ...other, file()]), p = run(['perf', ...other, file()]);
    expect(r.status).toBe(0);
    expect(r.err).toMatch(/^kallmod report: warning: \d+ of \d+ printed symbols checked do not match the symbol sources/);
    expect(r.err.replace('kallmod report', 'kallmod perf')).toBe(p.err);
    expect(run(['report', ...perfSources(), file()]).err).toBe('');
  });

  it('reads stdin; -G one-line samples count the same kernel leaves', () => {
    const a = JSON.parse(run(['report', '--json', ...perfSources()], text).out) as ReportJson;
    expect(a.samples).toBe(2532);
    const g = JSON.parse(run(['report', '--json', ...perfSources()], xz('perf/system-G-oneline.script.xz')).out) as ReportJson;
    expect(g.samples).toBe(2532);
    expect(g.kernelSamples).toBe(a.kernelSamples);
    const selfOf = (r: ReportJson) => r.symbols.filter((s) => s.kind === 'core' && s.self).map((s) => `${s.label} ${s.self}`).sort();
    expect(selfOf(g)).toEqual(selfOf(a));
  });
});

const isRoot = process.getuid?.() === 0;
const perfWorks = isRoot && spawnSync('perf', ['record', '-q', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' }).status === 0;
const liveWhy = !isRoot ? 'not root' : !perfWorks ? 'perf record does not work here' : null;
if (liveWhy) console.log(`[report live perf] skipped: ${liveWhy}`);

describe.skipIf(liveWhy !== null)('kallmod report on a profile recorded now (perf record -a -g, the running kernel)', () => {
  it('the total is perf\'s own sample count, kernel leaves are the kernel-half leaf ips', () => {
    const data = join(dir(), 'live.data');
    const rec = spawnSync('perf', ['record', '-q', '-a', '-g', '-o', data, '--', 'sleep', '1'], { encoding: 'utf8' });
    expect(rec.status).toBe(0);
    const text = spawnSync('perf', ['script', '-i', data], { maxBuffer: 1 << 30 }).stdout;
    // perf's own counts, by other means: one line per sample with only the time; the leaf ip only (-G)
    const perfLines = (...a: string[]) => spawnSync('perf', ['script', '-i', data, ...a], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout.split('\n');
    const times = perfLines('-F', 'time').filter((l) => l.trim()).length;
    const leaves = perfLines('-G', '-F', 'ip').filter((l) => /^\s*ffff[0-9a-f]{12}\s*$/.test(l)).length;
    writeFileSync(join(dir(), 'live.perf'), text);
    const r = JSON.parse(run(['report', '--json', join(dir(), 'live.perf')]).out) as ReportJson;
    expect(times).toBeGreaterThan(0);
    expect(r.samples).toBe(times);
    expect(r.kernelSamples).toBe(leaves);
    const ind = independentCount(text.toString('latin1'), run(['perf', '--refs', join(dir(), 'live.perf')]).out);
    const got = reportCounts(r);
    expect(sorted(got.total)).toEqual(sorted(ind.total));
    expect(sorted(got.self)).toEqual(sorted(ind.self));
    // one line per sample with no dso (`comm  ffff... sym`): its frame is still the sample's
    const bare = join(dir(), 'live-comm-ip-sym.perf');
    writeFileSync(bare, perfLines('-G', '-F', 'comm,ip,sym').join('\n'));
    const b = JSON.parse(run(['report', '--json', bare]).out) as ReportJson;
    expect(b.samples).toBe(times);
    expect(b.kernelSamples).toBe(leaves);
  }, 60_000);
});
