import { printHelp } from '../help-text.js';
import { keyFromHex, whyNoKey } from '@kallmod/core/address';
import { HIDDEN_ADDRESSES, SymbolTable } from '@kallmod/core/table/symbol-table';
import type { Resolution } from '@kallmod/core';
import { formatTriplet } from '@kallmod/core/notation';
import { createInterface } from 'node:readline';
import { checkStdin } from '../input.js';
import { loadFromFlags, parse, stderrWarn, LINES_HELP, SOURCE_FLAGS_HELP } from '../common.js';
import { addressDiscriminator, discriminatorSuffix, lineFields, type LineInfo } from '@kallmod/core/lines/line-source';

const HELP = `usage: kallmod lookup [SOURCES] [--json] [--lines] [QUERY...]

QUERY: an address (hex, 0x optional) or name, name+0xOFF, name+0xOFF/0xSIZE (the form oopses
print; SIZE is the kallsyms size and picks between same-named symbols), optionally followed by
[module]. Without QUERY, one query per stdin line. A printed module or size that no symbol of
that name has is noted on stderr (and in resolvedBy / "mismatch"). An address that is not a
canonical kernel address is "not a kernel address"; sources that hide addresses (kptr_restrict)
answer names without one and refuse addresses (exit 2).

  --json   one JSON object per query, in order: query, address, name, offset, size,
           sizeInferred, kallsymsSize, type, modules, builtin, objname, objnameShort,
           ambiguous, candidates, resolvedBy (with --lines: file, line, column, inlined;
           discriminator on the innermost frame when its line row has one)
${LINES_HELP}
           As faddr2line prints them, after each answer: NAME+0xOFF/0xSIZE:, then
           FUNC at FILE:LINE, innermost first, each inlining caller as (inlined by) FUNC at
           FILE:LINE; " (discriminator N)" after each when the address's line row has one
           (as binutils prints it). The exact address is looked up (an oops frame's return address is
           not moved back by one, as faddr2line does not)

${SOURCE_FLAGS_HELP}
`;

const NAME_Q = /^([^\s+/[]+)(?:\+(0x[0-9a-fA-F]+|\d+))?(?:\/(0x[0-9a-fA-F]+|\d+))?(?:\s+\[([^\]\s]+)\])?$/;

/** An address when it says 0x, or is all hex and at least 8 digits long; else a name. */
export function resolveQuery(table: SymbolTable, q: string): Resolution {
  const s = q.trim();
  if (/^0x[0-9a-f]+$/i.test(s) || /^[0-9a-f]{8,16}$/i.test(s)) {
    const key = keyFromHex(s);
    if (!Number.isNaN(key)) return table.resolveKey(key);
    return table.unresolvedBy([`address-unusable:${whyNoKey(s) ?? 'not a kernel address'}`], null);
  }
  const m = NAME_Q.exec(s);
  if (!m) return SymbolTable.unresolved('query: not an address or name[+off[/size]]');
  return table.resolveName({ name: m[1]!, offset: m[2] ? Number(m[2]) : null, size: m[3] ? Number(m[3]) : null, module: m[4] ?? null });
}

/** `/0xSIZE`, or nothing when the size is unknown (hidden addresses give no kallsyms size). */
function sizeText(table: SymbolTable, size: number | null): string {
  return table.addressesHidden || !size ? '' : `/0x${size.toString(16)}`;
}

function text(q: string, r: Resolution, table: SymbolTable): string {
  if (r.ambiguous) {
    return `${q}\tambiguous (${r.resolvedBy.split(';')[0]}):\n` + r.candidates.map((c) =>
      `\t${c.address ?? '(address hidden)'} ${c.type} ${c.name}${sizeText(table, c.kallsymsSize)}${formatTriplet(c.modules, c.objnameShort)}` +
      `${c.objname ? `  (${c.objname})` : ''}`).join('\n');
  }
  if (!r.name) return `${q}\tnot found (${r.resolvedBy})`;
  const off = r.offset != null ? `+0x${r.offset.toString(16)}` : '';
  return `${q}\t${r.address ?? '(address hidden)'} ${r.type} ${r.name}${off}${sizeText(table, r.kallsymsSize)}${table.annotationOf(r, 'always')}` +
    `${r.objname ? `  (${r.objname})` : ''}`;
}

/**
 * faddr2line's block for a resolved query: NAME+0xOFF/0xSIZE:, then FUNC at FILE:LINE lines,
 * innermost first; the address's ` (discriminator N)` after each, as binutils prints it.
 */
function faddr2line(r: Resolution, li: LineInfo): string {
  const disc = addressDiscriminator(li);
  const at = (name: string | null, file: string | null, line: number | null) =>
    `${name ?? '??'} at ${file ?? '??'}:${line ?? '?'}${discriminatorSuffix(disc, line)}`;
  const chain = [...li.inlined.map((f) => at(f.name, f.file, f.line)), at(r.name, li.file, li.line)];
  return `\n${r.name}+0x${(r.offset ?? 0).toString(16)}/0x${(r.size ?? 0).toString(16)}:\n` + chain.map((l, i) => (i ? `(inlined by) ${l}` : l)).join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { lines: { type: 'boolean' } });
  if (values['help']) { printHelp(HELP); return 0; }
  const loaded = await loadFromFlags(values);
  const { table } = loaded;
  const lines = values['lines'] ? (await import('../lines.js')).openLines(loaded, 'lookup', stderrWarn) : null;
  const json = Boolean(values['json']);
  let misses = 0;
  const out: string[] = [];
  const flush = () => { if (out.length) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; } };
  let refused = 0;
  const one = (q: string) => {
    const r = resolveQuery(table, q);
    if (!r.name) misses++;
    if (table.addressesHidden && r.reason.some((x) => x.startsWith('address-unusable:'))) refused++;
    const mm = r.mismatch ?? [];
    if (mm.length) {
      flush(); // the note next to its answer on a terminal
      process.stderr.write(`kallmod lookup: note: '${q.trim()}': no ${r.name ?? 'symbol'} has the printed ${mm.join(', the printed ')}; ` +
        `answered by name (${r.ambiguous ? 'ambiguous' : 'the only candidate'})\n`);
    }
    // reason is spelled by resolvedBy; the JSON keeps its fields
    const { reason: _reason, ...fields } = r;
    const li = lines ? lines.source.lines(r, false) : undefined;
    const lf = li === undefined ? {} : lineFields(li);
    out.push(json ? JSON.stringify({ query: q, ...fields, ...lf }) : text(q, r, table) + (li ? faddr2line(r, li) : ''));
    if (out.length >= 4096) flush();
  };
  if (positionals.length) positionals.forEach(one);
  else {
    checkStdin();
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const l of rl) one(l);
  }
  flush();
  lines?.done();
  // an address asked of sources that hide addresses: refused, as resolve refuses (exit 2)
  if (refused) {
    process.stderr.write(`kallmod lookup: ${refused} address quer${refused === 1 ? 'y' : 'ies'} refused: ${HIDDEN_ADDRESSES}; ` +
      'names still work (lookup NAME)\n');
    return 2;
  }
  return positionals.length && misses === positionals.length ? 1 : 0;
}
