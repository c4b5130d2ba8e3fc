/**
 * Every module the sources name, and what each says of it: built-in (modules.builtin,
 * modules.builtin.ranges, a kallmodsyms `[mod]` of a symbol not in a loadable module),
 * loadable (modules.order, a .ko in --modules-dir) and loaded (/proc/modules, kallsyms'
 * `[mod]` column) — what modprobe and dracut go by. `kallmod modules` prints it.
 *
 * modules.builtin.modinfo is not a list of modules: it also names the parameter prefixes of
 * built-in code that is no module (`printk.time`, `random.trust_cpu`), so it names none here.
 */
import type { Warning } from '../errors.js';
import type { LoadedTable } from '../load.js';
import { decodeTable } from '../table/snapshot.js';
import { readFileSync } from 'node:fs';
import { KallmodError } from '../errors.js';
import { fsErrorText } from '../fs-error.js';
import { decompress, readSourceFile } from './read-file.js';
import { F_DYNAMIC, F_LOADABLE, type SymbolTable } from '../table/symbol-table.js';
import { parseBuiltinRanges } from './builtin-ranges.js';
import { parseModulesList } from './modules-list.js';
import { parseProcModules } from './proc-modules.js';
import { ModuleObjects } from './module-objects.js';

/** A source file's bytes (decompressed), by the role `kallmod sources` lists it under. */
export interface ModuleListFile { role: 'builtin' | 'modules-order' | 'proc-modules' | 'ranges'; path: string; data: Buffer }

export interface ModuleRow {
  name: string;
  builtin: boolean;
  loadable: boolean;
  loaded: boolean;
  /** Text symbols of the table in this module. */
  textSymbols: number;
  /** Where modules.builtin / modules.order put it (`kernel/fs/ext4/ext4.ko`), else its .ko file; null when no source says. */
  file: string | null;
  /** The sources that name it (roles as `kallmod sources` lists them), sorted. */
  namedBy: string[];
}

interface Acc { builtin: Set<string>; loadable: Set<string>; loaded: Set<string>; text: number; file: string | null }

const BUILTIN_ROLES = new Set(['builtin', 'ranges']);

/**
 * The rows, sorted by name, and the disagreements (a module both built-in and loadable: the
 * sources are of different builds or configurations; ranges naming modules modules.builtin
 * does not), one Warning each kind.
 */
export function moduleInventory(t: SymbolTable, files: readonly ModuleListFile[], koDirs: readonly string[],
  warn: (w: Warning) => void = () => {}): ModuleRow[] {
  const acc = new Map<string, Acc>();
  const get = (m: string): Acc => {
    let a = acc.get(m);
    if (!a) { a = { builtin: new Set(), loadable: new Set(), loaded: new Set(), text: 0, file: null }; acc.set(m, a); }
    return a;
  };
  const pathOf = new Map<string, string>();
  const builtinList = new Set<string>();
  const rangesList = new Set<string>();
  for (const f of files) {
    if (f.role === 'builtin' || f.role === 'modules-order') {
      const { names, paths } = parseModulesList(f.data);
      for (const m of names) {
        const a = get(m);
        (f.role === 'builtin' ? a.builtin : a.loadable).add(f.role);
        a.file ??= paths.get(m) ?? null;
        if (f.role === 'builtin') builtinList.add(m);
      }
    } else if (f.role === 'proc-modules') {
      for (const m of parseProcModules(f.data, f.path, warn)) get(m.name).loaded.add(f.role);
    } else {
      for (const s of parseBuiltinRanges(f.data, f.path, warn)) {
        for (const r of s.ranges) for (const m of r.modules) { get(m).builtin.add(f.role); rangesList.add(m); }
      }
    }
    pathOf.set(f.role, f.path);
  }
  // the table: what the runtime list and the merge said of each symbol's modules
  const { flags, modSetIds, modSrc, provenance } = t.d;
  for (let i = 0; i < t.length; i++) {
    if (modSetIds[i] === 0 || flags[i]! & F_DYNAMIC) continue;
    const loadable = (flags[i]! & F_LOADABLE) !== 0;
    const src = provenance[modSrc[i]!]!;
    const text = t.isText(i);
    for (const m of t.modules(i)) {
      const a = get(m);
      if (text) a.text++;
      // a runtime list (kallsyms, kallmodsyms) lists a loadable module's symbols only while it is loaded
      if (loadable) { a.loadable.add(src); a.loaded.add(src); } else a.builtin.add(src);
    }
  }
  if (koDirs.length) {
    for (const [m, p] of new ModuleObjects([...koDirs]).modules()) { const a = get(m); a.loadable.add('modules-dir'); a.file ??= p; }
  }

  const rows: ModuleRow[] = [];
  const both: string[] = [];
  for (const [name, a] of acc) {
    const row: ModuleRow = {
      name, builtin: a.builtin.size > 0, loadable: a.loadable.size > 0 || a.loaded.size > 0, loaded: a.loaded.size > 0,
      textSymbols: a.text, file: a.file, namedBy: [...new Set([...a.builtin, ...a.loadable, ...a.loaded])].sort(),
    };
    const roles = (...sets: Set<string>[]) => [...new Set(sets.flatMap((x) => [...x]))].sort().join(', ');
    if (row.builtin && row.loadable) both.push(`${name} (built-in: ${roles(a.builtin)}; loadable: ${roles(a.loadable, a.loaded)})`);
    rows.push(row);
  }
  rows.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  if (both.length) {
    const where = [...BUILTIN_ROLES].map((r) => pathOf.get(r)).find((p) => p !== undefined) ?? 'sources';
    const message = `the sources disagree: ${both.length} module(s) both built-in and loadable (another build or configuration?): ${listed(both.sort())}`;
    warn({ source: where, message });
  }
  if (builtinList.size && rangesList.size) {
    const extra = [...rangesList].filter((m) => !builtinList.has(m)).sort();
    const message = `names ${extra.length} module(s) that ${pathOf.get('builtin')} does not (another build?): ${listed(extra)}`;
    if (extra.length) warn({ source: pathOf.get('ranges')!, message });
  }
  return rows;
}

function listed(xs: string[]): string {
  return xs.length > 8 ? `${xs.slice(0, 8).join(', ')} and ${xs.length - 8} more` : xs.join(', ');
}

const LIST_ROLES = new Set<string>(['builtin', 'modules-order', 'proc-modules', 'ranges']);

/**
 * The module lists a load used, read again (they are small): the table keeps only the modules
 * that have symbols. A snapshot carries its own copies; a cached table names its files.
 */
export function moduleListsOf(l: LoadedTable): { files: ModuleListFile[]; koDirs: string[] } {
  const snap = l.loaded.find((s) => s.role === 'snapshot');
  if (snap) {
    const { files } = decodeTable(readWhole(snap.path), snap.path, { withFiles: true });
    // each copy is the file as it was read (.xz too), gzip'd by capture
    const data = (f: { path: string; data: Buffer }) => decompress(decompress(f.data, snap.path), `${snap.path} (its copy of ${f.path})`);
    const lists = files.filter((f) => LIST_ROLES.has(f.role)).map((f) => ({ role: f.role as ModuleListFile['role'], path: f.path, data: data(f) }));
    return { files: lists, koDirs: [] };
  }
  const files = l.loaded.filter((s) => LIST_ROLES.has(s.role))
    .map((s) => ({ role: s.role as ModuleListFile['role'], path: s.path, data: readSourceFile(s.path) }));
  return { files, koDirs: l.loaded.filter((s) => s.role === 'modules-dir').flatMap((s) => s.path.split(',')) };
}

/** The whole snapshot (its copies of the source files follow the table, which the loaders stop at). */
function readWhole(path: string): Buffer {
  try { return readFileSync(path); } catch (e) { throw new KallmodError(`cannot read snapshot: ${fsErrorText(e)}`, { file: path }); }
}
