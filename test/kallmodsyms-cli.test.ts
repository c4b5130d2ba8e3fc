/**
 * `kallmod kallmodsyms` on the real 6.12 fixture kernel, through the built CLI: every symbol of
 * kallsyms once, modules as modules.builtin.ranges says (parsed here, independently of kallmod),
 * read back by kallmod's own reader to the same lookups, and read by DTrace's sscanf pattern.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSourceFile } from '../packages/core/src/sources/read-file.js';
import { CLI, k, sourceFlags } from './kernel-fixture.js';

function runAsync(args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res, rej) => {
    const p = spawn(CLI, args);
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', rej);
    p.on('close', (code) => res({ code, out: Buffer.concat(out).toString('latin1'), err: Buffer.concat(err).toString('utf8') }));
    p.stdin.end(input ?? '');
  });
}

/** One /proc/kallsyms line of the fixture boot. */
interface KLine { addr: bigint; type: string; name: string; mod: string | null }

function kallsymsLines(): KLine[] {
  const out: KLine[] = [];
  for (const l of readSourceFile(k('boot-nokaslr/kallsyms.xz')).toString('latin1').split('\n')) {
    if (!l) continue;
    const [head, mod] = l.split('\t');
    const [a, t, n] = head!.split(' ');
    out.push({ addr: BigInt('0x' + a), type: t!, name: n!, mod: mod ? mod.slice(1, -1) : null });
  }
  return out;
}

/**
 * modules.builtin.ranges read here, not by kallmod: per section an anchor `SECT A-A = SYMBOL`
 * and ranges `SECT START-END MOD [MOD...]` (offsets from the section base, END exclusive). A
 * section's base is its anchor symbol's kallsyms address less the anchor offset; sections
 * without an anchor line cannot be placed (the fixture README: .altinstr_aux/_replacement).
 */
function rangesModules(byName: Map<string, bigint>): { start: bigint; end: bigint; modules: string[] }[] {
  const lines = readSourceFile(k('modules.builtin.ranges.xz')).toString('latin1').split('\n').filter(Boolean).map((l) => l.split(/\s+/));
  const base = new Map<string, bigint>();
  for (const f of lines) if (f[2] === '=') base.set(f[0]!, byName.get(f[3]!)! - BigInt('0x' + f[1]!.split('-')[0]));
  const out: { start: bigint; end: bigint; modules: string[] }[] = [];
  for (const f of lines) {
    if (f[2] === '=' || !base.has(f[0]!)) continue;
    const [s, e] = f[1]!.split('-').map((x) => BigInt('0x' + x));
    out.push({ start: base.get(f[0]!)! + s!, end: base.get(f[0]!)! + e!, modules: f.slice(2) });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** A printed line: `addr size type name[\tannotation]`. */
interface Printed { addr: bigint; size: bigint; type: string; name: string; modules: string[]; obj: string | null; raw: string }

function parsePrinted(text: string): Printed[] {
  return text.split('\n').filter(Boolean).map((raw) => {
    const [head, ann] = raw.split('\t');
    const [a, s, t, n] = head!.split(' ');
    const modules = ann ? [...ann.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!) : [];
    const obj = ann ? (/\{([^}]+)\}/.exec(ann)?.[1] ?? null) : null;
    return { addr: BigInt('0x' + a), size: BigInt('0x' + s), type: t!, name: n!, modules, obj, raw };
  });
}

const isText = (t: string) => 'tTwW'.includes(t);

/** Per-line checks collect what differs (an expect() per line of 160k costs seconds), asserted once. */
class Mismatches {
  readonly seen: string[] = [];
  count = 0;
  check(ok: boolean, what: () => string): void { if (!ok) { this.count++; if (this.seen.length < 5) this.seen.push(what()); } }
  equal(a: unknown, b: unknown, what: string): void {
    this.check(JSON.stringify(a) === JSON.stringify(b), () => `${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
  }
  none(): void { expect(this.seen, `${this.count} mismatches`).toEqual([]); }
}

/**
 * glibc's sscanf(line, "%llx %llx %c %s [%s", &addr, &size, &type, name, mod), as DTrace for
 * Linux reads /proc/kallmodsyms: oracle/dtrace-utils libdtrace/dt_module.c, dt_modsym_update(),
 * lines 1332-1341 (branch devel, 8a1264bf0e81, 2024-10-11). A whitespace directive skips any run
 * of white space (TAB included); %llx skips white space, takes an optional 0x and hex digits;
 * %c takes one character as it is; %s skips white space and takes a run of non-white space; a
 * literal `[` must be the next character. Returns the conversions assigned (EOF: -1).
 */
function dtraceScan(line: string): { n: number; addr?: bigint; size?: bigint; type?: string; name?: string; mod?: string } {
  let p = 0;
  const ws = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
  const skip = () => { while (p < line.length && ws(line[p])) p++; };
  const r: ReturnType<typeof dtraceScan> = { n: 0 };
  const hex = (): bigint | null => {
    skip();
    if (p >= line.length) return null;
    if (line[p] === '0' && (line[p + 1] === 'x' || line[p + 1] === 'X') && /[0-9a-fA-F]/.test(line[p + 2] ?? '')) p += 2;
    const s = p;
    while (p < line.length && /[0-9a-fA-F]/.test(line[p]!)) p++;
    return p > s ? BigInt('0x' + line.slice(s, p)) : null;
  };
  const str = (): string | null => {
    skip();
    const s = p;
    while (p < line.length && !ws(line[p])) p++;
    return p > s ? line.slice(s, p) : null;
  };
  const addr = hex(); if (addr === null) return { n: p >= line.length ? -1 : 0 };
  r.addr = addr; r.n = 1;
  skip();
  const size = hex(); if (size === null) return r;
  r.size = size; r.n = 2;
  skip();
  if (p >= line.length) return r;
  r.type = line[p++]; r.n = 3;
  skip();
  const name = str(); if (name === null) return r;
  r.name = name; r.n = 4;
  skip();
  if (line[p] !== '[') return r;
  p++;
  const mod = str(); if (mod === null) return r;
  r.mod = mod; r.n = 5;
  return r;
}

/** dt_module.c's KSYM_NAME_MAX (line 32): sym.name is char[128], written by that %s. */
const DTRACE_KSYM_NAME_MAX = 128;

let dir = '';
let printed: Printed[] = [];
let printedText = '';
let always = '';
let ks: KLine[] = [];
const P_MODULES = k('boot-nokaslr/proc-modules');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kallmod-kms-'));
  ks = kallsymsLines();
  const [a, b] = await Promise.all([
    runAsync(['kallmodsyms', ...sourceFlags('nokaslr')]), runAsync(['kallmodsyms', '--objname=always', ...sourceFlags('nokaslr')])]);
  expect(a.err).toBe('');
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
  printedText = a.out;
  always = b.out;
  printed = parsePrinted(a.out);
}, 120_000);

afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('kallmod kallmodsyms on the 6.12 fixture kernel', () => {
  it('prints every kallsyms symbol once, text symbols included, in address order', () => {
    const key = (x: { addr: bigint; type: string; name: string }) => `${x.addr.toString(16)} ${x.type} ${x.name}`;
    expect(printed.map(key).sort()).toEqual(ks.map(key).sort());
    const text = printed.filter((p) => isText(p.type));
    expect(text.length).toBe(ks.filter((x) => isText(x.type)).length);
    expect(text.length).toBeGreaterThan(109_000);
    expect(new Set(text.map(key)).size).toBe(text.length);
    const bad = new Mismatches();
    for (let i = 1; i < printed.length; i++) bad.check(printed[i]!.addr >= printed[i - 1]!.addr, () => printed[i]!.raw);
    bad.none();
    // the bytes of a line: address (16 digits), size (%lx), type, name, then a TAB before the annotation
    expect(printedText.split('\n').filter(Boolean).every((l) => /^[0-9a-f]{16} [0-9a-f]+ [A-Za-z] \S+(\t\S.*)?$/.test(l))).toBe(true);
    expect(printedText).toMatch(/\n0000000000000000 1000 A fixed_percpu_data\n|^0000000000000000 1000 A fixed_percpu_data\n/);
    expect(printedText).toContain('\nffffffff818b99f0 290 T cpdma_ctlr_create\t[ti_cpsw] [ti_cpsw_new] [ti_davinci_emac]\n');
  });

  it('gives each symbol the modules modules.builtin.ranges gives its address, and loadable ones kallsyms\' [mod]', () => {
    const byName = new Map<string, bigint>();
    for (const x of ks) if (x.mod === null && !byName.has(x.name)) byName.set(x.name, x.addr);
    const ranges = rangesModules(byName);
    const modOf = new Map(ks.map((x) => [`${x.addr.toString(16)} ${x.name}`, x.mod]));
    let lo = 0, withModule = 0, multi = 0, textChecked = 0;
    const bad = new Mismatches();
    for (const p of printed) {
      const loadable = modOf.get(`${p.addr.toString(16)} ${p.name}`);
      let want: string[];
      if (loadable) want = [loadable];
      else {
        // printed lines come in address order: walk the sorted ranges along
        while (lo < ranges.length && ranges[lo]!.end <= p.addr) lo++;
        want = ranges.slice(lo, lo + 4).filter((r) => r.start <= p.addr && p.addr < r.end).flatMap((r) => r.modules);
      }
      bad.equal(p.modules, want, p.raw);
      if (isText(p.type)) textChecked++;
      if (p.type === 't' || p.type === 'T') { if (want.length) withModule++; if (want.length > 1) multi++; }
    }
    bad.none();
    expect(textChecked).toBeGreaterThan(109_000);
    // fixture README: of the t/T symbols, 42200 of System.map's are in built-in ranges (276 in multi-module ones), 1052 loadable
    expect(withModule).toBe(42_200 + 1_052);
    expect(multi).toBe(276);
  });

  it('reads back (kallmod --kallmodsyms) to the same lookup answers, on every other text symbol', async () => {
    const kms = join(dir, 'kallmodsyms'), kmsAlways = join(dir, 'kallmodsyms-always');
    writeFileSync(kms, printedText, 'latin1');
    writeFileSync(kmsAlways, always, 'latin1');
    // half of them (every other one, so every module and object is in): the three lookups take ~10 s for all on 2 cores
    const queries = printed.filter((p) => isText(p.type)).filter((_, i) => i % 2 === 0).map((p) => p.addr.toString(16)).join('\n') + '\n';
    const [orig, back, backAlways] = await Promise.all([
      runAsync(['lookup', '--json', ...sourceFlags('nokaslr')], queries),
      // the file does not say which modules are loadable: /proc/modules does, as on the machine
      runAsync(['lookup', '--json', '--kallmodsyms', kms, '--proc-modules', P_MODULES], queries),
      runAsync(['lookup', '--json', '--kallmodsyms', kmsAlways, '--proc-modules', P_MODULES], queries),
    ]);
    for (const r of [orig, back, backAlways]) { expect(r.err).toBe(''); expect(r.code).toBe(0); }
    const o = orig.out.trim().split('\n'), b = back.out.trim().split('\n'), ba = backAlways.out.trim().split('\n');
    expect(b.length).toBe(o.length);
    expect(ba.length).toBe(o.length);
    expect(o.length).toBeGreaterThan(54_000);
    // resolvedBy names the sources; every size reads back as exact (the format has no "inferred")
    const same = (x: Record<string, unknown>, omit: string[]) =>
      Object.fromEntries(Object.entries(x).filter(([f]) => !['resolvedBy', 'sizeInferred', ...omit].includes(f)));
    let withObj = 0;
    const bad = new Mismatches();
    for (let i = 0; i < o.length; i++) {
      const x = JSON.parse(o[i]!), y = JSON.parse(b[i]!), z = JSON.parse(ba[i]!);
      bad.check(x.name !== null, () => o[i]!);
      // --objname=always: the objname as the file spells it (the shortest unique suffix), and everything else
      bad.equal(same(z, ['objname']), same(x, ['objname']), o[i]!);
      bad.equal(z.objname, x.objnameShort, o[i]!);
      bad.equal(z.sizeInferred, false, o[i]!);
      // the default prints {obj.o} only where name and modules do not tell the symbol apart
      bad.equal(same(y, ['objname', 'objnameShort']), same(x, ['objname', 'objnameShort']), o[i]!);
      if (y.objname !== null) { withObj++; bad.equal(y.objname, x.objnameShort, o[i]!); }
    }
    bad.none();
    // the fixture README: 820 text symbols whose (name, module) is shared, each needing its objname (about half asked)
    expect(withObj).toBeGreaterThan(350);
  }, 120_000);

  it("is read by DTrace's sscanf pattern: every field, the first module, core kernel up to _end then the loadable modules", () => {
    const loadable = new Set(ks.filter((x) => x.mod).map((x) => `${x.addr.toString(16)} ${x.name}`));
    // dt_modsym_update(): KERNEL_FLAG_KERNEL_END at _end/__brk_limit (line 1397), LOADABLE at the next symbol (1399)
    let flag: 'kernel' | 'end' | 'loadable' = 'kernel';
    // dt_modsym_addsym() (lines 1250-1300): address ranges per module, from the sizes
    const textRanges: { mod: string; start: bigint; end: bigint }[] = [];
    const perLoadable = new Map<string, { mod: string; start: bigint; end: bigint }>();
    let last: { mod: string; text: boolean; range: { end: bigint } | null } | null = null;
    let scratch = false;
    const bad = new Mismatches();
    const skipped = new Set<Printed>();
    for (const p of printed) {
      const r = dtraceScan(p.raw + '\n');
      bad.check(r.n >= 4, () => `malformed for DTrace: ${p.raw}`);
      bad.check(r.addr === p.addr && r.size === p.size && r.type === p.type && r.name === p.name, () => p.raw);
      const mod = r.n === 5 ? r.mod!.slice(0, -1) : 'vmlinux';
      // "[%s" stops at the space: of `[m1] [m2]` DTrace keeps m1
      bad.equal(mod, p.modules[0] ?? 'vmlinux', p.raw);
      bad.check(p.name.length < DTRACE_KSYM_NAME_MAX, () => `name too long for DTrace: ${p.raw}`);
      // dropped before any module sees them: absolute symbols, the .init.scratch section (lines 1379-1394)
      if (p.type === 'a' || p.type === 'A' || p.name === '__init_scratch_begin' || p.name === '__init_scratch_end' || scratch) {
        if (p.name === '__init_scratch_begin') scratch = true;
        if (p.name === '__init_scratch_end') scratch = false;
        skipped.add(p);
        continue;
      }
      if (p.name === '_end' || p.name === '__brk_limit') flag = 'end';
      else if (flag === 'end') flag = 'loadable';
      bad.equal(flag === 'loadable', loadable.has(`${p.addr.toString(16)} ${p.name}`), p.raw);
      if (p.size === 0n) continue;
      const text = isText(p.type);
      if (flag !== 'loadable') {
        if (last && last.mod === mod && last.text === text) { if (last.range) last.range.end = p.addr + p.size; }
        else {
          const range = { mod, start: p.addr, end: p.addr + p.size };
          if (text) textRanges.push(range);
          last = { mod, text, range: text ? range : null };
        }
      } else if (text) {
        const range = perLoadable.get(mod);
        if (range) { if (p.addr < range.start) range.start = p.addr; if (p.addr + p.size > range.end) range.end = p.addr + p.size; }
        else perLoadable.set(mod, { mod, start: p.addr, end: p.addr + p.size });
      }
    }
    bad.none();
    expect(flag).toBe('loadable');
    // every text address lies in the text range of the module its line names first, and in no other
    const all = [...textRanges, ...perLoadable.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
    const overlap = new Mismatches();
    for (let i = 1; i < all.length; i++) overlap.check(all[i]!.start >= all[i - 1]!.end, () => `${all[i - 1]!.mod} overlaps ${all[i]!.mod}`);
    overlap.none();
    let j = 0, inRange = 0;
    for (const p of printed) {
      if (!isText(p.type) || p.size === 0n || skipped.has(p)) continue;
      while (j < all.length && all[j]!.end <= p.addr) j++;
      overlap.equal(all[j] && all[j]!.start <= p.addr ? all[j]!.mod : null, p.modules[0] ?? 'vmlinux', p.raw);
      inRange++;
    }
    overlap.none();
    expect(inRange).toBeGreaterThan(109_000);
  });

  it('ends quietly when its pipe closes (| head), and refuses bad flags in one line', () => {
    const sh = `"${CLI}" kallmodsyms --kallsyms "${k('boot-nokaslr/kallsyms.xz')}" | head -1; echo "rc=\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', sh], { encoding: 'utf8' });
    expect(r.stdout).toBe('0000000000000000 1000 A fixed_percpu_data\nrc=0\n');
    expect(r.stderr).toBe('');
    for (const args of [['--objname=sometimes'], ['extra-argument'], ['--sized'], ['--json']]) {
      const e = spawnSync(CLI, ['kallmodsyms', '--kallsyms', k('boot-nokaslr/kallsyms.xz'), ...args], { encoding: 'utf8' });
      expect(e.status, args.join(' ')).toBe(2);
      expect(e.stdout).toBe('');
      expect(e.stderr).toMatch(/^kallmod kallmodsyms: [^\n]+\n$/);
    }
    const missing = spawnSync(CLI, ['kallmodsyms', '--kallsyms', join(dir, 'no-such-file')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^kallmod kallmodsyms: [^\n]*no-such-file[^\n]*\n$/);
  });
});
