import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { keyFromHex } from '../address.js';
import { F_LOADABLE, F_PADDING, SymbolTable, type TableData } from '../table/symbol-table.js';
import { NameStore } from '../table/name-store.js';
import { KallmodError } from '../errors.js';
import { parseResolveQuery } from './query.js';
import { matchQuery, objnameMatches } from './match.js';
import { ftraceIndex, parseFilterFunctions } from './filter-functions.js';
import { bpftraceSpec, eventName, MAX_EVENT_NAME } from './outputs.js';
import { resolveQueryText, uniqueQueryFor } from './resolve.js';
import { applyWrites, describeWrite, instanceDir, tracefsForWrites } from './apply.js';
import { join } from 'node:path';
import { withTempDir } from '../../../../test/temp-dir.js';

const FIX = fileURLToPath(new URL('../../../../fixtures/resolve/', import.meta.url));

type Row = [string, string, string, string[], string | null, boolean];

/** A SymbolTable straight from rows (no source parsing involved). */
function tableFrom(rows: Row[]): SymbolTable {
  const n = rows.length;
  const modSets: string[][] = [[]];
  const modIdx = new Map<string, number>([['', 0]]);
  const objnames: string[] = [];
  const objIdx = new Map<string, number>();
  const d: TableData = {
    keys: new Float64Array(n), ksizes: new Float64Array(n), exactSizes: new Float64Array(n),
    names: NameStore.fromArray(rows.map((r) => r[2])), types: new Uint8Array(n), modSetIds: new Uint32Array(n), modSets,
    objIds: new Int32Array(n), objnames, flags: new Uint8Array(n), modSrc: new Uint8Array(n), objSrc: new Uint8Array(n),
    provenance: ['test'],
  };
  rows.forEach(([addr, type, name, mods, obj, loadable], i) => {
    d.keys[i] = keyFromHex(addr);
    d.types[i] = type.charCodeAt(0);
    const mk = mods.join(' ');
    if (!modIdx.has(mk)) { modIdx.set(mk, modSets.length); modSets.push(mods); }
    d.modSetIds[i] = modIdx.get(mk)!;
    if (obj === null) d.objIds[i] = -1;
    else { if (!objIdx.has(obj)) { objIdx.set(obj, objnames.length); objnames.push(obj); } d.objIds[i] = objIdx.get(obj)!; }
    d.flags[i] = (loadable ? F_LOADABLE : 0) | (name.startsWith('__pfx_') ? F_PADDING : 0);
  });
  for (let i = 0; i < n; i++) {
    let j = i + 1;
    while (j < n && d.keys[j] === d.keys[i]) j++;
    d.ksizes[i] = j < n ? d.keys[j]! - d.keys[i]! : 0;
  }
  return new SymbolTable(d);
}

const fixture = JSON.parse(readFileSync(FIX + 'table.json', 'utf8')) as { rows: Row[] };
const t = tableFrom(fixture.rows);
const plain = parseFilterFunctions(readFileSync(FIX + 'available_filter_functions'), 'available_filter_functions');
const addrs = parseFilterFunctions(readFileSync(FIX + 'available_filter_functions_addrs'), 'available_filter_functions_addrs');
const one = (q: string) => { const m = matchQuery(t, parseResolveQuery(q)); return m.indices.map((i) => t.symbolJson(i).address); };
const idx = (q: string) => { const m = matchQuery(t, parseResolveQuery(q)); expect(m.indices).toHaveLength(1); return m.indices[0]!; };

describe('query syntax', () => {
  it('reads the notation kallmod prints', () => {
    expect(parseResolveQuery('init_once+0x10 [fat] [vfat] {fs/fat/inode.o}'))
      .toMatchObject({ name: 'init_once', offset: 16, modules: ['fat', 'vfat'], objname: 'fs/fat/inode.o', nameGlob: null });
    expect(parseResolveQuery('  event_show {rapl.o} ')).toMatchObject({ name: 'event_show', offset: null, modules: null, objname: 'rapl.o' });
    expect(parseResolveQuery('*_show [rapl]').nameGlob).toBeInstanceOf(RegExp);
  });
  it('refuses what it cannot read (exit 2)', () => {
    for (const bad of ['', 'a b', '[mod]', 'x {a.o} [m]']) {
      expect(() => parseResolveQuery(bad)).toThrow(KallmodError);
    }
    expect(resolveQueryText(t, 'a b').errorKind).toBe('invalid');
  });
});

describe('matching', () => {
  it('a bare duplicated name is ambiguous; __pfx_ padding never counts', () => {
    expect(one('event_show')).toEqual(['0xffffffff81001060', '0xffffffff810010a0', '0xffffffff81001160']);
    const a = resolveQueryText(t, 'event_show');
    expect(a.errorKind).toBe('ambiguous');
    expect(a.candidates!.map((c) => c.query)).toEqual(['event_show [rapl]', 'event_show {amd/core.o}', 'event_show {intel/core.o}']);
    expect(a.candidates!.every((c) => c.objname !== null && !c.name.startsWith('__pfx_'))).toBe(true);
    expect(one('__pfx_event_show')).toEqual(['0xffffffff81001050']);
  });
  it('module and objname narrow; objname by whole path components', () => {
    expect(one('event_show [rapl]')).toEqual(['0xffffffff81001060']);
    expect(one('event_show {core.o}')).toHaveLength(2);
    expect(one('event_show {intel/core.o}')).toEqual(['0xffffffff81001160']);
    expect(one('event_show {arch/x86/events/intel/core.o}')).toEqual(['0xffffffff81001160']);
    expect(one('event_show {tel/core.o}')).toEqual([]);
    expect(objnameMatches('fs/ext4/super.o', 'super.o')).toBe(true);
    expect(objnameMatches('fs/ext4/super.o', 'uper.o')).toBe(false);
    expect(one('init_once [fat]')).toEqual(['0xffffffff810010f0']);
    expect(one('init_once [vfat] [fat] {inode.o}')).toEqual(['0xffffffff810010f0']);
    expect(one('init_once [nosuch]')).toEqual([]);
    expect(resolveQueryText(t, 'init_once [nosuch]').errorKind).toBe('not-found');
  });
  it('globs in name and module; aliases are one function', () => {
    expect(one('*_show [udf]')).toEqual(['0xffffffffc0001060']);
    expect(one('mod_show [i*]')).toEqual(['0xffffffffc0002050']);
    expect(one('*_show')).toHaveLength(5);
    expect(one('alias_*')).toEqual(['0xffffffffc0002100']);
  });
  it('+offset adds to the address and must lie inside the symbol', () => {
    expect(resolveQueryText(t, 'event_show+0x8 [rapl]').address).toBe('0xffffffff81001068');
    expect(one('unique_fn+0x1000')).toEqual([]);
  });
  it('the suggested query of each candidate resolves to it', () => {
    for (const name of ['init_once', 'event_show', 'mod_show', 'notraced']) {
      for (const i of t.indicesByName(name)) expect(idx(uniqueQueryFor(t, i)!)).toBe(i);
    }
  });
});

describe('ftrace index', () => {
  it('by the order of duplicates when the counts agree', () => {
    expect(ftraceIndex(t, plain, idx('init_once [ext4]'))).toMatchObject({ ok: true, index: 1, by: 'order' });
    expect(ftraceIndex(t, plain, idx('event_show {amd/core.o}'))).toMatchObject({ ok: true, index: 3 });
    expect(ftraceIndex(t, plain, idx('event_show {intel/core.o}'))).toMatchObject({ ok: true, index: 5 });
    expect(ftraceIndex(t, plain, idx('init_once [fat]'))).toMatchObject({ ok: true, index: 4 });
    expect(ftraceIndex(t, plain, idx('unique_fn'))).toMatchObject({ ok: true, index: 6 });
    expect(ftraceIndex(t, plain, idx('tail_fn'))).toMatchObject({ ok: true, index: 7 });
    expect(ftraceIndex(t, plain, idx('init_once [udf]'))).toMatchObject({ ok: true, index: 9 });
    expect(ftraceIndex(t, plain, idx('mod_show [isofs]'))).toMatchObject({ ok: true, index: 12 });
  });
  it('by the neighbouring unique lines when one copy has no line', () => {
    expect(ftraceIndex(t, plain, idx('notraced {b.o}'))).toMatchObject({ ok: true, index: 8, by: 'neighbours' });
  });
  it('refuses when it cannot be sure', () => {
    const r = ftraceIndex(t, plain, idx('notraced {a.o}'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/1 line.*2 function/);
    // without tail_fn between the copies nothing tells them apart
    const noTail = parseFilterFunctions(readFileSync(FIX + 'available_filter_functions', 'latin1').replace('tail_fn\n', ''), 'no-tail');
    expect(ftraceIndex(t, noTail, idx('notraced {b.o}'))).toMatchObject({ ok: false });
    expect(ftraceIndex(t, plain, idx('init_once {init/main.o}'))).toMatchObject({ ok: false, reason: expect.stringMatching(/init text/) });
    expect(ftraceIndex(t, plain, idx('cleanup_module'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not in/) });
    const a = resolveQueryText(t, 'notraced {a.o}', { ftraceIndex: true, filterFunctions: () => plain });
    expect(a).toMatchObject({ errorKind: 'refused', ftraceIndex: null, address: '0xffffffff81001210' });
  });
  it('through patch-site addresses when available', () => {
    expect(addrs.hasAddrs).toBe(true);
    expect(ftraceIndex(t, addrs, idx('notraced {b.o}'))).toMatchObject({ ok: true, index: 8, by: 'addrs' });
    expect(ftraceIndex(t, addrs, idx('notraced {a.o}'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not traceable/) });
    expect(ftraceIndex(t, addrs, idx('event_show {amd/core.o}'))).toMatchObject({ ok: true, index: 3 });
    expect(ftraceIndex(t, addrs, idx('mod_show [udf]'))).toMatchObject({ ok: true, index: 10 });
    // a list saved from another boot (every address shifted) is refused, not guessed
    const other = parseFilterFunctions(readFileSync(FIX + 'available_filter_functions_addrs', 'latin1').replace(/^ffffffff81/gm, 'ffffffff91'), 'other');
    expect(ftraceIndex(t, other, idx('event_show {amd/core.o}'))).toMatchObject({ ok: false, reason: expect.stringMatching(/another boot/) });
  });
  it('parses names that look like hex, and refuses mixed files', () => {
    const f = parseFilterFunctions('dead [mod]\nface\n', 'x');
    expect(f.hasAddrs).toBe(false);
    expect(f.names).toEqual(['dead', 'face']);
    expect(f.modules).toEqual(['mod', null]);
    expect(() => parseFilterFunctions('ffffffff81000000 a\nb\n', 'x')).toThrow(/mixed/);
  });
  it('an offset is refused for the ftrace index', () => {
    expect(resolveQueryText(t, 'unique_fn+0x4', { ftraceIndex: true, filterFunctions: () => plain }))
      .toMatchObject({ errorKind: 'refused', ftraceIndex: null });
  });
});

describe('output forms', () => {
  it('kprobe, kretprobe, perf probe in the address form', () => {
    const a = resolveQueryText(t, 'event_show {intel/core.o}', { kprobe: true, kretprobe: true, perfProbe: true, bpftrace: true });
    expect(a.kprobe).toBe('p:kallmod/event_show__intel_core 0xffffffff81001160');
    expect(a.kretprobe).toBe('r:kallmod/event_show__intel_core__ret 0xffffffff81001160');
    expect(a.perfProbe).toBe('kallmod:event_show__intel_core=0xffffffff81001160');
    expect(a.bpftrace).toBe('kprobe:0xffffffff81001160');
    expect(a.error).toBeUndefined();
    const g = resolveQueryText(t, 'unique_fn+0x4', { kprobe: true, kretprobe: true, group: 'g', event: 'e' });
    expect(g.kprobe).toBe('p:g/e 0xffffffff810011b4');
    expect(g.errorKind).toBe('refused');
  });
  it('event names are valid and unique for every text symbol', () => {
    const seen = new Set<string>();
    for (let i = 0; i < t.length; i++) {
      if (!t.isText(i) || t.d.flags[i]! & F_PADDING || t.name(i).startsWith('alias_b')) continue;
      const e = eventName(t, i, 0);
      expect(e).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(e.length).toBeLessThanOrEqual(MAX_EVENT_NAME);
      expect(seen.has(e)).toBe(false);
      seen.add(e);
    }
  });
  it('bpftrace: name when unique, MOD:NAME when unique in its module, else the address', () => {
    expect(bpftraceSpec(t, idx('unique_fn'), 0).spec).toBe('kprobe:unique_fn');
    expect(bpftraceSpec(t, idx('mod_show [udf]'), 0).spec).toBe('kprobe:udf:mod_show');
    expect(bpftraceSpec(t, idx('init_once [ext4]'), 0)).toMatchObject({ spec: 'kprobe:0xffffffff81001010', note: expect.stringMatching(/--unsafe/) });
  });
  it('apply plans: instance paths and the dry-run text', () => {
    expect(instanceDir('/sys/kernel/tracing', 'x')).toBe('/sys/kernel/tracing/instances/x');
    expect(() => instanceDir('/t', '../x')).toThrow(KallmodError);
    expect(describeWrite({ path: '/t/set_ftrace_filter', text: '12', why: 'q' })).toBe("echo '12' >> /t/set_ftrace_filter    # q");
  });
  it('a dry run needs no tracefs: it shows the writes at the conventional mount point; a real run refuses', () => {
    const none = ['/nonexistent/kallmod/tracing', '/nonexistent/kallmod/debug/tracing'];
    expect(tracefsForWrites(true, none)).toEqual({ root: '/nonexistent/kallmod/tracing', mounted: false });
    expect(() => tracefsForWrites(false, none)).toThrow(/tracefs is not mounted \(mount -t tracefs nodev \/nonexistent\/kallmod\/tracing\)/);
    withTempDir('tracefs', (d) => {
      writeFileSync(join(d, 'trace'), '');
      for (const dry of [true, false]) expect(tracefsForWrites(dry, [...none, d])).toEqual({ root: d, mounted: true });
    });
  });
  it('apply appends each write (root), or says root is needed', () => {
    withTempDir('apply', (d) => {
      const f = join(d, 'set_ftrace_filter');
      writeFileSync(f, '');
      const w = [{ path: f, text: '12', why: 'a' }, { path: f, text: '34', why: 'b' }];
      if (process.getuid?.() === 0) {
        applyWrites(w);
        expect(readFileSync(f, 'utf8')).toBe('12\n34\n');
        const writes = [{ path: join(d, 'kprobe_events'), text: 'p:a/b 0x1', why: '' }].map((x) => ({ ...x, path: join(d, 'no/kprobe_events') }));
        expect(() => applyWrites(writes)).toThrow(/CONFIG_KPROBE_EVENTS/);
      } else {
        expect(() => applyWrites(w)).toThrow(/needs root/);
      }
    });
  });
});
