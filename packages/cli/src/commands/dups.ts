import { loadFromFlags, parse, SOURCE_FLAGS_HELP } from '../common.js';

const HELP = `usage: kallmod dups [SOURCES] [--json]

Every duplicated text symbol name with its triplets (address, [modules], {objname}); names
whose triplets are still not unique come first, with the reason.

${SOURCE_FLAGS_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv);
  if (values['help']) { process.stdout.write(HELP); return 0; }
  const { table: t } = await loadFromFlags(values);
  const rows: { name: string; stillAmbiguous: boolean; reason: string | null; symbols: ReturnType<typeof t.symbolJson>[] }[] = [];
  for (const [name, idx] of t.duplicatedNames()) {
    // aliases at one address are one symbol
    const uniq = idx.filter((i, k) => k === 0 || t.d.keys[i] !== t.d.keys[idx[k - 1]!]);
    if (uniq.length < 2) continue;
    const trip = new Map<string, number>();
    for (const i of uniq) { const k = t.d.modSetIds[i] + ':' + t.d.objIds[i]; trip.set(k, (trip.get(k) ?? 0) + 1); }
    const still = [...trip.values()].some((v) => v > 1);
    const noObj = uniq.some((i) => t.d.objIds[i]! < 0);
    rows.push({
      name, stillAmbiguous: still,
      reason: still ? (noObj ? 'objname unknown for some copies (give --linker-map, --vmlinux or --modules-dir)' : 'same object and module (one object defines the name twice, or an ld -r pre-linked object)') : null,
      symbols: uniq.map((i) => t.symbolJson(i)),
    });
  }
  rows.sort((a, b) => Number(b.stillAmbiguous) - Number(a.stillAmbiguous) || a.name.localeCompare(b.name));
  if (values['json']) { process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')); return 0; }
  const out: string[] = [];
  const amb = rows.filter((r) => r.stillAmbiguous).length;
  out.push(`${rows.length} duplicated names; ${amb} still ambiguous with (name, module, objname)`);
  for (const r of rows) {
    out.push(`${r.name}${r.stillAmbiguous ? `  STILL AMBIGUOUS: ${r.reason}` : ''}`);
    for (const s of r.symbols) out.push(`  ${s.address} ${s.type} ${s.name}${s.modules.map((m) => ` [${m}]`).join('')}${s.objname ? ` {${s.objname}}` : ''}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
