import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { openElfAny, cuToObject, type CuRange, type ElfObject } from './index.js';
import { DwarfSections } from './dwarf-sections.js';
import { readUnitHeaders, readCompUnit } from './dwarf-units.js';
import { readAranges } from './aranges.js';
import { ElfFile } from './elf-file.js';
import { readSourceFile } from '../read-file.js';

const FIX = fileURLToPath(new URL('../../../../../fixtures/kernel-6.12/modules/', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../../../fixtures/kernel-6.12/', import.meta.url));
const SHARED_TRUTH = join(SHARED, 'ko-objname-truth.tsv.xz');
const SHARED_MODULES = join(SHARED, 'modules');

interface TruthRow { module: string; section: string; offset: number; size: number; nmType: string; name: string; cuName: string; cuSource: string }

function loadTruth(path: string): TruthRow[] {
  return readSourceFile(path).toString('utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split('\t');
    return { module: f[0]!, section: f[2]!, offset: parseInt(f[3]!, 16), size: Number(f[4]), nmType: f[5]!, name: f[7]!, cuName: f[8]!, cuSource: f[9]! };
  });
}

/** CU containing (section, offset), by binary search over the sorted ranges. */
function cuAt(ranges: CuRange[], section: string, off: number): string | null {
  let lo = 0, hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    const c = r.section! < section ? -1 : r.section! > section ? 1 : r.end <= off ? -1 : r.start > off ? 1 : 0;
    if (c === 0) return r.cu;
    if (c < 0) lo = mid + 1; else hi = mid - 1;
  }
  return null;
}

/** Check every t/T row of `module` against the ELF; returns the number of rows checked. */
function checkModule(o: ElfObject, rows: TruthRow[]): { checked: number; skipped: number } {
  const ranges = o.cuRanges();
  // sorted by (section, start), non-overlapping within a section
  for (let i = 1; i < ranges.length; i++) {
    const a = ranges[i - 1]!, b = ranges[i]!;
    expect(a.section! < b.section! || (a.section === b.section && a.end <= b.start), `${a.section}:${a.start} vs ${b.section}:${b.start}`).toBe(true);
  }
  const syms = o.symbols();
  const byKey = new Map(syms.map((s) => [`${s.name}\t${s.section}\t${s.value}`, s]));
  let checked = 0, skipped = 0;
  for (const r of rows) {
    // symbol table agrees with the truth (name, section, offset, size)
    const s = byKey.get(`${r.name}\t${r.section}\t${r.offset}`);
    expect(s, `symbol ${r.name} ${r.section}+${r.offset}`).toBeDefined();
    expect(s!.size).toBe(r.size);
    if (r.nmType !== 't' && r.nmType !== 'T') continue;
    if (r.cuSource !== 'aranges' && r.cuSource !== 'aranges(next)') { skipped++; continue; }
    const off = r.cuSource === 'aranges(next)' ? r.offset + r.size : r.offset;
    expect(cuAt(ranges, r.section, off), `${r.module} ${r.name} @ ${r.section}+0x${off.toString(16)}`).toBe(r.cuName);
    checked++;
  }
  return { checked, skipped };
}

describe('.ko CU ranges against ko-objname-truth.tsv (fixtures)', () => {
  const truth = loadTruth(SHARED_TRUTH);
  for (const [file, mod, minRows] of [['dummy.ko.xz', 'dummy', 20], ['null_blk.ko.xz', 'null_blk', 230], ['crc-itu-t.ko.xz', 'crc_itu_t', 2]] as const) {
    it(`${mod}: every t/T symbol lies in the truth CU`, () => {
      const o = openElfAny(join(FIX, file));
      try {
        expect(o.kind).toBe('rel');
        expect(o.hasDwarf()).toBe(true);
        const rows = truth.filter((r) => r.module === mod);
        const { checked, skipped } = checkModule(o, rows);
        expect(checked).toBeGreaterThanOrEqual(minRows);
        if (mod === 'null_blk') expect(skipped).toBe(2); // the two __SCT__ trampolines (nm-defining-object)
      } finally {
        o.close();
      }
    });
  }

  it('null_blk: three CUs, each a .c of the composite module, all mapped to objects', () => {
    const o = openElfAny(join(FIX, 'null_blk.ko.xz'));
    const cus = [...new Set(o.cuRanges().map((r) => r.cu))].sort();
    expect(cus).toEqual(['drivers/block/null_blk/main.c', 'drivers/block/null_blk/trace.c', 'drivers/block/null_blk/zoned.c']);
    expect(cus.map((c) => cuToObject(c))).toEqual(['drivers/block/null_blk/main.o', 'drivers/block/null_blk/trace.o', 'drivers/block/null_blk/zoned.o']);
    expect(o.cuRanges().every((r) => r.compDir === '/work/kbuild/linux-source-6.12')).toBe(true);
    // .init.text / .exit.text ranges exist (relocated against their own section symbols)
    expect(new Set(o.cuRanges().map((r) => r.section))).toEqual(new Set(['.text', '.init.text', '.exit.text']));
    o.close();
  });

  it('null_blk: STT_FILE groups of local symbols are basenames of the CU', () => {
    const o = openElfAny(join(FIX, 'null_blk.ko.xz'));
    const syms = o.symbols();
    const files = new Set(syms.filter((s) => s.type === 'file').map((s) => s.name));
    expect(files.has('main.c') && files.has('zoned.c') && files.has('trace.c')).toBe(true);
    const ranges = o.cuRanges();
    let n = 0;
    for (const s of syms) {
      // __pfx_ padding symbols are added by objtool after the FILE groups, so skip them
      if (s.type !== 'func' || s.bind !== 'local' || !s.section || !s.file || s.name.startsWith('__pfx_')) continue;
      const cu = cuAt(ranges, s.section, s.value);
      if (cu === null) continue;
      expect(cu.endsWith('/' + s.file), `${s.name}: ${cu} vs FILE ${s.file}`).toBe(true);
      n++;
    }
    expect(n).toBeGreaterThan(100);
    expect(syms.filter((s) => s.bind !== 'local').every((s) => s.file === null)).toBe(true);
    o.close();
  });

  it('null_blk: the DW_AT_ranges/rnglists fallback (relocated) gives the same ranges as .debug_aranges', () => {
    const elf = ElfFile.fromBuffer(readSourceFile(join(FIX, 'null_blk.ko.xz')), 'null_blk.ko');
    const ds = new DwarfSections(elf);
    const ar = readAranges(ds)!;
    const norm = (rs: { sec: number; start: number; end: number }[]) => rs.map((r) => `${r.sec}:${r.start}-${r.end}`).sort();
    const heads = readUnitHeaders(ds);
    // main.c, trace.c, zoned.c (code), null_blk.mod.c and scripts/module-common.c (data only)
    expect(heads.length).toBe(5);
    let compared = 0;
    for (const h of heads) {
      const cu = readCompUnit(ds, h, true)!;
      const set = ar.find((s) => s.cuOffset === h.offset);
      if (set && set.ranges.length > 0) {
        expect(cu.ranges.length, cu.name!).toBeGreaterThan(0);
        expect(norm(cu.ranges), cu.name!).toEqual(norm(set.ranges));
        compared++;
      } else {
        expect(cu.ranges, cu.name!).toEqual([]);
      }
    }
    expect(compared).toBe(3);
  });
});

describe('.ko CU ranges against the full shared truth (all 16 modules)', () => {
  const have = existsSync(SHARED_TRUTH) && existsSync(SHARED_MODULES);
  if (!have) console.log(`skipping: ${SHARED_TRUTH} or ${SHARED_MODULES} not present`);
  it.skipIf(!have)('every module in modules/ matches', () => {
    const truth = loadTruth(SHARED_TRUTH);
    const files = readdirSync(SHARED_MODULES).filter((f) => f.endsWith('.ko.xz'));
    expect(files.length).toBe(16);
    let total = 0;
    for (const f of files) {
      const mod = f.replace(/\.ko\.xz$/, '').replace(/-/g, '_');
      const rows = truth.filter((r) => r.module === mod);
      expect(rows.length, mod).toBeGreaterThan(0);
      const o = openElfAny(join(SHARED_MODULES, f));
      total += checkModule(o, rows).checked;
      o.close();
    }
    expect(total).toBeGreaterThan(1000);
  });
});
