/**
 * `kallmod resolve` against the real 6.12 kernel in fixtures/kernel-6.12 (both boots): every
 * duplicated text name resolves by its full triplet to the truth address, the bare name is
 * refused with every copy listed, and the ftrace index agrees with the boot's own
 * available_filter_functions.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadTable } from '../load.js';
import { readSourceFile } from '../sources/read-file.js';
import { F_DYNAMIC, F_PADDING, type SymbolTable } from '../table/symbol-table.js';
import { keyFromHex, keyToHex } from '../address.js';
import { resolveQueryText } from './resolve.js';
import { ftraceIndex, ftraceModuleTag, parseFilterFunctions, type FilterFunctions } from './filter-functions.js';
import { eventName } from './outputs.js';
import { KDIR, sourceOptions } from '../../../../test/kernel-fixture.js';

const K = KDIR;

type Boot = 'nokaslr' | 'kaslr';

function load(boot: Boot): SymbolTable {
  return loadTable(sourceOptions(boot), () => {}).table;
}

interface Expect { query: string; name: string; addr: Record<Boot, number> }

/** Every duplicated t/T name (vmlinux and loadable modules, __pfx_ aside) with its full triplet. */
function truthQueries(slide: number): Expect[] {
  const vm = readSourceFile(join(K, 'objname-truth.tsv.xz')).toString('latin1').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  const ko = readSourceFile(join(K, 'ko-objname-truth.tsv.xz')).toString('latin1').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'))
    .filter((r) => (r[5] === 't' || r[5] === 'T') && r[10] !== '-' && r[11] !== '-' && !r[2]!.startsWith('.init'));
  const cnt = new Map<string, number>();
  const add = (n: string) => { if (!n.startsWith('__pfx_')) cnt.set(n, (cnt.get(n) ?? 0) + 1); };
  vm.forEach((r) => add(r[3]!));
  ko.forEach((r) => add(r[7]!));
  const out: Expect[] = [];
  for (const r of vm) {
    if ((cnt.get(r[3]!) ?? 0) < 2 || r[6] === '-') continue;
    const mods = r[7] === '-' ? '' : r[7]!.split(',').map((m) => ` [${m}]`).join('');
    const a = keyFromHex(r[0]!);
    out.push({ query: `${r[3]}${mods} {${r[6]}}`, name: r[3]!, addr: { nokaslr: a, kaslr: a + slide } });
  }
  for (const r of ko) {
    if ((cnt.get(r[7]!) ?? 0) < 2 || r[8] === '-') continue;
    out.push({ query: `${r[7]} [${r[0]}] {${r[8]!.replace(/\.[cS]$/, '.o')}}`, name: r[7]!, addr: { nokaslr: keyFromHex(r[10]!), kaslr: keyFromHex(r[11]!) } });
  }
  return out;
}

describe('resolve on the real 6.12 kernel', () => {
  const tables = new Map<Boot, SymbolTable>();
  const table = (b: Boot) => { let t = tables.get(b); if (!t) { t = load(b); tables.set(b, t); } return t; };
  let expects: Expect[] = [];

  for (const boot of ['nokaslr', 'kaslr'] as const) {
    it(`${boot}: every duplicated name resolves by its full triplet to the truth address`, () => {
      const t = table(boot);
      const text = t.indicesByName('_text')[0]!;
      const slide = t.d.keys[text]! - keyFromHex('ffffffff81000000');
      if (boot === 'kaslr') expect(slide).toBe(0x31e00000);
      expects = truthQueries(slide);
      expect(expects.length).toBeGreaterThan(850);
      const wrong: string[] = [];
      for (const e of expects) {
        const a = resolveQueryText(t, e.query);
        if (!a.address || keyFromHex(a.address) !== e.addr[boot]) wrong.push(`${e.query}: ${a.address ?? a.error}`);
      }
      console.log(`${boot}: ${expects.length - wrong.length}/${expects.length} duplicated-name triplets resolved to the truth address`);
      expect(wrong).toEqual([]);
    }, 60_000);

    it(`${boot}: a bare duplicated name is refused, listing every copy`, () => {
      const t = table(boot);
      const byName = new Map<string, Set<number>>();
      for (const e of expects) { let s = byName.get(e.name); if (!s) byName.set(e.name, (s = new Set())); s.add(e.addr[boot]); }
      let refused = 0;
      for (const [name, addrs] of byName) {
        const a = resolveQueryText(t, name);
        expect(a.errorKind, name).toBe('ambiguous');
        const listed = new Set(a.candidates!.map((c) => keyFromHex(c.address)));
        for (const x of addrs) expect(listed.has(x), `${name} lists ${keyToHex(x)}`).toBe(true);
        expect(a.candidates!.every((c) => !c.name.startsWith('__pfx_'))).toBe(true);
        // each candidate's suggested query picks exactly it
        for (const c of a.candidates!) expect(resolveQueryText(t, c.query!).address, c.query!).toBe(c.address);
        refused++;
      }
      expect(refused).toBeGreaterThan(300);
    }, 60_000);
  }

  it('kaslr: event names are valid and unique over every duplicated name', () => {
    const t = table('kaslr');
    const seen = new Map<string, string>();
    for (const [, idx] of t.duplicatedNames()) {
      for (const i of idx) {
        if (t.d.flags[i]! & (F_PADDING | F_DYNAMIC)) continue;
        const e = eventName(t, i, 0);
        expect(e).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/);
        const at = t.symbolJson(i).address;
        if (seen.has(e)) expect(seen.get(e), e).toBe(at);
        seen.set(e, at);
      }
    }
  });

  for (const boot of ['nokaslr', 'kaslr'] as const) {
    it(`${boot}: ftrace index of duplicated names, checked against the boot's available_filter_functions`, () => {
      const f = join(K, `boot-${boot}/available_filter_functions.xz`);
      const t = table(boot);
      const ff = parseFilterFunctions(readSourceFile(f), f);
      expect(ff.hasAddrs).toBe(false); // 6.12 guest saved the plain list: the order rule is what is tested
      const anchors = anchorAddresses(t, ff);
      let ok = 0, refused = 0, checkedByNeighbours = 0;
      const contradictions: string[] = [];
      for (const [name, idx] of t.duplicatedNames()) {
        for (const i of idx) {
          if (t.d.flags[i]! & (F_PADDING | F_DYNAMIC)) continue;
          const r = ftraceIndex(t, ff, i);
          if (!r.ok) { refused++; expect(r.reason).toMatch(/cannot tell|init text|is not in/); continue; }
          ok++;
          const n = r.index - 1;
          const tag = ftraceModuleTag(t, i);
          // line N of the file is this name, with this module tag
          expect(ff.names[n], `line ${r.index}`).toBe(name);
          expect(ff.modules[n]).toBe(tag);
          // and it sits between the lines of unique functions whose addresses bracket this copy
          const key = t.d.keys[i]!;
          let p = n - 1; while (p >= 0 && !(anchors.has(p) && ff.modules[p] === tag)) p--;
          let q = n + 1; while (q < ff.names.length && !(anchors.has(q) && ff.modules[q] === tag)) q++;
          const lo = p >= 0 ? anchors.get(p)! : -Infinity, hi = q < ff.names.length ? anchors.get(q)! : Infinity;
          if (lo < key && key < hi) checkedByNeighbours++;
          else {
            contradictions.push(`${name} line ${r.index}: ${keyToHex(key)} not between ${Number.isFinite(lo) ? keyToHex(lo) : '-'} ` +
              `and ${Number.isFinite(hi) ? keyToHex(hi) : '-'}`);
          }
        }
      }
      console.log(`${boot}: ftrace index for ${ok} copies of duplicated names ` +
        `(${checkedByNeighbours} confirmed by the addresses of the neighbouring unique lines), ${refused} refused`);
      expect(contradictions).toEqual([]);
      expect(ok).toBeGreaterThan(600);
      expect(checkedByNeighbours).toBe(ok);
    }, 60_000);
  }

  it('kaslr: a duplicated name whose copies are not all in the list is refused', () => {
    const t = table('kaslr');
    const f = join(K, 'boot-kaslr/available_filter_functions.xz');
    const ff = parseFilterFunctions(readSourceFile(f), f);
    let found = 0;
    for (const [, idx] of t.duplicatedNames()) {
      for (const i of idx) {
        const r = ftraceIndex(t, ff, i);
        if (!r.ok && /cannot tell/.test(r.reason)) found++;
      }
    }
    console.log(`kaslr: ${found} copies refused because the list and the table disagree on the count`);
    expect(found).toBeGreaterThan(0);
  });
});

/** Lines of names that occur once in the file and once (one function) in the table: their address. */
function anchorAddresses(t: SymbolTable, ff: FilterFunctions): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, lines] of ff.byName) {
    if (lines.length !== 1) continue;
    const [name, mod] = k.split('\0') as [string, string];
    const fns = t.indicesByName(name).filter((i) => t.isText(i) && !(t.d.flags[i]! & (F_PADDING | F_DYNAMIC)) && (ftraceModuleTag(t, i) ?? '') === mod);
    const keys = new Set(fns.map((i) => t.d.keys[i]!));
    if (keys.size === 1) out.set(lines[0]!, [...keys][0]!);
  }
  return out;
}
