import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRange, normaliseObjectPath, parseLinkerMaps, type LinkerMap } from './linker-map.js';
import { readSourceFile } from './read-file.js';
import { keyFromHex, keyToHex } from '../address.js';
import { KallmodError, type Warning } from '../errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../../..');
const fixtures = resolve(repo, 'fixtures/linker-map');
const kernel = resolve(repo, 'fixtures/kernel-6.12');

function fixture(name: string): { path: string; data: Buffer } {
  const path = resolve(fixtures, name);
  return { path, data: readFileSync(path) };
}

function objectAt(map: LinkerMap, hex: string): string | null {
  const i = findRange(map.ranges, keyFromHex(hex));
  return i < 0 ? null : map.ranges[i]!.object;
}

function checkSortedDisjoint(map: LinkerMap): void {
  for (let i = 0; i < map.ranges.length; i++) {
    const r = map.ranges[i]!;
    expect(r.end).toBeGreaterThan(r.start);
    if (i > 0) expect(r.start).toBeGreaterThanOrEqual(map.ranges[i - 1]!.end);
  }
}

describe('normaliseObjectPath', () => {
  it('maps archive members to tree paths', () => {
    expect(normaliseObjectPath('lib/lib.a(sort.o)')).toBe('lib/sort.o');
    expect(normaliseObjectPath('vmlinux.a(arch/x86/kernel/head_64.o)')).toBe('arch/x86/kernel/head_64.o');
    expect(normaliseObjectPath('arch/x86/lib/lib.a(memcpy_64.o)')).toBe('arch/x86/lib/memcpy_64.o');
    expect(normaliseObjectPath('drivers/built-in.a(drivers/foo/x.o)')).toBe('drivers/foo/x.o');
    expect(normaliseObjectPath('./init/main.o')).toBe('init/main.o');
    expect(normaliseObjectPath('fs/ext4/inode.o')).toBe('fs/ext4/inode.o');
  });
});

describe('parseLinkerMaps: two-stage synthetic example (formats.md §5.3)', () => {
  const files = [fixture('two-stage-vmlinux.map'), fixture('two-stage-vmlinux.o.map')];

  it('places vmlinux.o objects at final address + offset', () => {
    const map = parseLinkerMaps(files);
    checkSortedDisjoint(map);
    expect(objectAt(map, 'ffffffff81000000')).toBe('start.o');
    expect(objectAt(map, 'ffffffff8100001b')).toBeNull(); // *fill*
    expect(objectAt(map, 'ffffffff81000020')).toBe('x.o'); // static helper of x.o
    expect(objectAt(map, 'ffffffff81000030')).toBe('x.o');
    expect(objectAt(map, 'ffffffff81000040')).toBe('drivers/foo/y.o'); // the other helper
    expect(objectAt(map, 'ffffffff81000050')).toBe('drivers/foo/y.o');
    expect(objectAt(map, 'ffffffff81000059')).toBe('x.o'); // .text.unlikely (wrapped names)
    expect(objectAt(map, 'ffffffff8100005b')).toBeNull();
    const cold = map.ranges[findRange(map.ranges, keyFromHex('ffffffff81000059'))]!;
    expect(cold.section).toBe('.text.unlikely');
    expect(map.sections).toEqual([{ name: '.text', start: keyFromHex('ffffffff81000000'), size: 0x5b }]);
  });

  it('does not depend on the order of the files', () => {
    expect(parseLinkerMaps([files[1]!, files[0]!])).toEqual(parseLinkerMaps(files));
  });

  it('warns when vmlinux.o.map is missing and gives no object for vmlinux.o pieces', () => {
    const warnings: Warning[] = [];
    const map = parseLinkerMaps([files[0]!], (w) => warnings.push(w));
    expect(objectAt(map, 'ffffffff81000000')).toBe('start.o');
    expect(objectAt(map, 'ffffffff81000030')).toBeNull();
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/no vmlinux\.o\.map was given/);
  });

  it('refuses a vmlinux.o.map alone', () => {
    expect(() => parseLinkerMaps([files[1]!])).toThrow(/relocatable vmlinux\.o link/);
  });
});

describe('parseLinkerMaps: edge cases (hand-written fixture)', () => {
  it('handles archives, wrapped names, discards, zero sizes, fill and over-stated sizes', () => {
    const warnings: Warning[] = [];
    const map = parseLinkerMaps([fixture('edge-cases.map')], (w) => warnings.push(w));
    checkSortedDisjoint(map);
    // "Discarded input sections" block and /DISCARD/ give nothing.
    expect(map.ranges.some((r) => r.object === 'drivers/discarded.o')).toBe(false);
    expect(map.ranges.some((r) => r.object === 'kernel/discard2.o')).toBe(false);
    // Archive members.
    expect(objectAt(map, 'ffffffff81000000')).toBe('arch/x86/kernel/head_64.o');
    expect(objectAt(map, 'ffffffff81000100')).toBe('lib/sort.o');
    expect(objectAt(map, 'ffffffff81000200')).toBe('arch/x86/lib/memcpy_64.o');
    // Zero-size record at the same address does not hide the real owner.
    expect(objectAt(map, 'ffffffff81000210')).toBe('arch/x86/lib/memcpy_64.o');
    // Wrapped long input name and wrapped long output section name.
    expect(objectAt(map, 'ffffffff81000300')).toBe('fs/ext4/inode.o');
    expect(map.ranges[findRange(map.ranges, keyFromHex('ffffffff81000300'))]!.section)
      .toBe('.text.a_really_long_input_section_name');
    expect(objectAt(map, 'ffffffff81001000')).toBe('kernel/long.o');
    expect(map.sections.map((s) => s.name)).toEqual([
      '.text', '.a_really_long_output_section_name', '.rodata', '.data..percpu',
    ]);
    // Over-stated size (merged strings) is clipped at the next object.
    expect(objectAt(map, 'ffffffff82000010')).toBe('a.o');
    expect(objectAt(map, 'ffffffff82000020')).toBe('b.o');
    // Per-CPU section at 0 (has a load address) is kept; .debug_* at 0 is not.
    expect(objectAt(map, '0000000000000010')).toBe('kernel/sched/core.o');
    expect(map.ranges.some((r) => r.section.startsWith('.debug'))).toBe(false);
    // The junk record gives a warning naming its line.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/^line \d+: input section record/);
  });

  it('rejects non-map input with a one-line error', () => {
    const junk = { path: 'junk.map', data: Buffer.from('hello\nworld\n') };
    expect(() => parseLinkerMaps([junk])).toThrow(KallmodError);
    expect(() => parseLinkerMaps([junk])).toThrow(/^junk\.map: not a GNU ld linker map/);
    const lld = { path: 'lld.map', data: Buffer.from('             VMA              LMA     Size Align Out     In      Symbol\n') };
    expect(() => parseLinkerMaps([lld])).toThrow(/lld/);
    expect(() => parseLinkerMaps([])).toThrow(KallmodError);
  });

  it('survives random bytes after the marker', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const parts: string[] = ['Linker script and memory map\n'];
    const alphabet = ' \n\t.0x1f*(){}/abcDISCARD';
    for (let i = 0; i < 20000; i++) parts.push(alphabet[Math.floor(rnd() * alphabet.length)]!);
    const map = parseLinkerMaps([{ path: 'rand.map', data: Buffer.from(parts.join('')) }]);
    checkSortedDisjoint(map);
  });
});

// ---- real kernel data (fixtures/kernel-6.12, Linux 6.12 x86-64 build) ----

const mapPath = resolve(kernel, 'vmlinux.map.xz');
const oMapPath = resolve(kernel, 'vmlinux.o.map.xz');
const truthPath = resolve(kernel, 'objname-truth.tsv.xz');

/**
 * readSourceFile, or `xz -dc` when the xz binding of the install is broken (the
 * @napi-rs/lzma platform package can be missing: npm optional-dependency bug). null = skip.
 */
function readXz(path: string): Buffer | null {
  try {
    return readSourceFile(path);
  } catch (e) {
    if (!(e instanceof KallmodError) || !/cannot decompress/.test(e.message)) throw e;
    try {
      return execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
    } catch {
      console.warn(`linker-map real-data test skipped: ${e.message.split('\n')[0]} (and no xz binary)`);
      return null;
    }
  }
}

describe('parseLinkerMaps: real 6.12 vmlinux.map + vmlinux.o.map', () => {
  it('agrees with the DWARF truth table for >= 99.9% of text symbols', (ctx) => {
    const mapData = readXz(mapPath), oMapData = readXz(oMapPath), truthData = readXz(truthPath);
    if (mapData === null || oMapData === null || truthData === null) return ctx.skip();
    const files = [
      { path: mapPath, data: mapData },
      { path: oMapPath, data: oMapData },
    ];
    const warnings: Warning[] = [];
    const t0 = performance.now();
    const map = parseLinkerMaps(files, (w) => warnings.push(w));
    const ms = performance.now() - t0;
    checkSortedDisjoint(map);
    expect(warnings).toEqual([]);

    const truth = truthData.toString('utf8').split('\n');
    let total = 0, ok = 0;
    const misses = new Map<string, string[]>();
    const noTruth = new Map<string, number>();
    for (const line of truth) {
      if (line === '' || line.startsWith('#')) continue;
      const f = line.split('\t');
      if (f[2] !== 't' && f[2] !== 'T') continue;
      if (f[6] === '-') {
        // No object in the truth table (linker-script symbols, GEN-for-each-reg.h thunks).
        const i = findRange(map.ranges, keyFromHex(f[0]!));
        const k = i < 0 ? '(none)' : map.ranges[i]!.object;
        noTruth.set(k, (noTruth.get(k) ?? 0) + 1);
        continue;
      }
      total++;
      const i = findRange(map.ranges, keyFromHex(f[0]!));
      const got = i < 0 ? null : map.ranges[i]!.object;
      if (got === f[6]) { ok++; continue; }
      const name = f[3]!;
      const kind = i < 0 ? 'no range'
        : name.startsWith('__pfx_') ? '__pfx_'
        : f[8] === '0' ? 'linker/objtool symbol (nm_defs 0)'
        : /\.cold(\.|$)/.test(name) ? '.cold'
        : 'other';
      const list = misses.get(kind) ?? [];
      list.push(`${f[0]} ${name} want ${f[6]} got ${got ?? '-'}${i < 0 ? '' : ` [${map.ranges[i]!.section} ${keyToHex(map.ranges[i]!.start)}]`}`);
      misses.set(kind, list);
    }
    const pct = (100 * ok) / total;
    console.log(`linker-map: ${map.ranges.length} ranges, ${map.sections.length} sections, parse ${ms.toFixed(0)} ms`);
    console.log(`linker-map vs objname-truth: ${ok}/${total} = ${pct.toFixed(3)}% agree`);
    console.log(`  rows without a truth object: ${[...noTruth].map(([o, n]) => `${n} → ${o}`).join(', ')}`);
    for (const [kind, list] of misses) console.log(`  miss ${kind}: ${list.length}\n    ${list.slice(0, 8).join('\n    ')}`);
    expect(pct).toBeGreaterThanOrEqual(99.9);
    expect(objectAt(map, 'ffffffff81000000')).toBe('arch/x86/kernel/head_64.o');
  });
});
