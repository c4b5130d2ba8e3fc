import { printHelp } from '../help-text.js';
import { HIDDEN_ADDRESSES } from '@kallmod/core/table/symbol-table';
import { copiesShare } from '@kallmod/core/table/duplicates';
import { loadFromFlags, parse, SOURCE_FLAGS_HELP } from '../common.js';

const HELP = `usage: kallmod dups [SOURCES] [--json]

Every duplicated text symbol name with its triplets (address, [modules], {objname}); names
whose triplets are still not unique come first, with the reason. A name is duplicated when
two or more addresses carry it: __pfx_/__cfi_ padding and aliases at one address do not count
(the same definition as \`kallmod sources\`).

${SOURCE_FLAGS_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv);
  if (values['help']) { printHelp(HELP); return 0; }
  const { table: t } = await loadFromFlags(values);
  const rows: { name: string; stillAmbiguous: boolean; reason: string | null; symbols: ReturnType<typeof t.symbolJson>[] }[] = [];
  for (const [name, uniq] of t.duplicateGroups()) {
    const still = copiesShare(t, uniq);
    const noObj = uniq.some((i) => t.d.objIds[i]! < 0);
    rows.push({
      name, stillAmbiguous: still,
      reason: !still ? null : noObj ? 'objname unknown for some copies (give --linker-map, --vmlinux or --modules-dir)'
        : 'same object and module (one object defines the name twice, or an ld -r pre-linked object)',
      symbols: uniq.map((i) => t.symbolJson(i)),
    });
  }
  rows.sort((a, b) => Number(b.stillAmbiguous) - Number(a.stillAmbiguous) || a.name.localeCompare(b.name));
  if (values['json']) { process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')); return 0; }
  const out: string[] = [];
  const amb = rows.filter((r) => r.stillAmbiguous).length;
  const syms = rows.reduce((n, r) => n + r.symbols.length, 0);
  out.push(`${rows.length} duplicated names (${syms} symbols; padding and aliases not counted); ${amb} still ambiguous with (name, module, objname)`);
  if (t.addressesHidden) out.push(`addresses hidden: ${HIDDEN_ADDRESSES}`);
  for (const r of rows) {
    out.push(`${r.name}${r.stillAmbiguous ? `  STILL AMBIGUOUS: ${r.reason}` : ''}`);
    for (const s of r.symbols) {
      out.push(`  ${s.address ?? '(hidden)'} ${s.type} ${s.name}${s.modules.map((m) => ` [${m}]`).join('')}${s.objname ? ` {${s.objname}}` : ''}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
