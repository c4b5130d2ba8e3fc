import { printHelp } from '../help-text.js';
import { KallmodError } from '@kallmod/core/errors';
import { moduleInventory, moduleListsOf, type ModuleRow } from '@kallmod/core/sources/module-inventory';
import { loadFromFlags, parse, SOURCE_FLAGS_HELP, stderrWarn } from '../common.js';

const HELP = `usage: kallmod modules [SOURCES] [--json]

Every module the sources name, one line each, sorted by name, after a summary:
  NAME  STATE  TEXT-SYMBOLS  FILE
STATE: built-in (modules.builtin, modules.builtin.ranges, a kallmodsyms [mod]),
loadable (modules.order, a .ko under --modules-dir), loaded (/proc/modules,
kallsyms' [mod]). A module both built-in and loadable is reported on stderr
(sources of two builds). FILE: its path in modules.builtin / modules.order,
else its .ko. modules.builtin.modinfo names none: it also lists parameter
prefixes of built-in code that is no module (printk).

  --json   one object per module: name, builtin, loadable, loaded, textSymbols,
           file, namedBy (the sources that name it)

${SOURCE_FLAGS_HELP}
`;

function state(r: ModuleRow): string {
  return [r.builtin && 'built-in', r.loadable && 'loadable', r.loaded && 'loaded'].filter(Boolean).join(',') || '-';
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values['help']) { printHelp(HELP); return 0; }
  if (positionals.length) throw new KallmodError(`takes no arguments (got ${positionals[0]}; see --help)`, { exitCode: 2 });
  const l = await loadFromFlags(values);
  const { files, koDirs } = moduleListsOf(l);
  const rows = moduleInventory(l.table, files, koDirs, stderrWarn);
  if (values['json']) { process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')); return 0; }
  const count = (p: (r: ModuleRow) => boolean) => rows.filter(p).length;
  const w = Math.max(0, ...rows.map((r) => r.name.length));
  const sw = Math.max(0, ...rows.map((r) => state(r).length));
  const out = [`${rows.length} modules: ${count((r) => r.builtin)} built-in, ${count((r) => r.loadable)} loadable (${count((r) => r.loaded)} loaded)`];
  for (const r of rows) out.push(`${r.name.padEnd(w)}  ${state(r).padEnd(sw)}  ${String(r.textSymbols).padStart(6)}  ${r.file ?? '-'}`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
