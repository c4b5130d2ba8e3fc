import { printHelp } from '../help-text.js';
import { KallmodError } from '@kallmod/core/errors';
import { csv, json, rows, SORT_KEYS, table, type SortKey } from '@kallmod/report/format';
import { parse, SOURCE_FLAGS_HELP } from '../common.js';
import { PROFILE_FLAGS, PROFILE_FLAGS_HELP, readProfileFromFlags, useColor } from './profile-input.js';

const HELP = `usage: kallmod report [OPTIONS] [FILE]

Where the samples of a profile are, by module: perf lumps every built-in module
into [kernel.kallsyms]; kallmod resolves each kernel frame to its (name, module,
objname). Three views: by module (core kernel, built-in, loadable, each user
space dso), by module and object file, by symbol; self (the leaf) and total
(anywhere in the stack, once per sample) counts, and their share of all counted.

${PROFILE_FLAGS_HELP}

Output (a table within 80 columns by default):
  --sort KEY         self (default), total or name
  --limit N          rows per view (table: 20, --json/--csv: all; 0: all)
  --json             one object: samples, samplesRead, weight, weighedBy,
                     kernelSamples, kernelWeight, and rows of modules, objects,
                     symbols: kind, module, modules, builtin, objname,
                     objnameShort, name, label, self, total, selfPercent,
                     totalPercent
  --csv              one table: level,kind,module,objname,name,self,total,
                     self_percent,total_percent

${SOURCE_FLAGS_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...PROFILE_FLAGS, sort: { type: 'string' }, limit: { type: 'string' }, csv: { type: 'boolean' } });
  if (values['help']) { printHelp(HELP); return 0; }
  const sort = (values['sort'] ?? 'self') as SortKey;
  if (!SORT_KEYS.includes(sort)) throw new KallmodError(`--sort must be ${SORT_KEYS.join(', ')} (got ${String(values['sort'])})`, { exitCode: 2 });
  const lim = values['limit'];
  if (lim !== undefined && (typeof lim !== 'string' || !/^[0-9]+$/.test(lim))) {
    throw new KallmodError(`--limit must be a number of rows (got ${String(lim)})`, { exitCode: 2 });
  }
  if (values['json'] && values['csv']) throw new KallmodError('--json or --csv, not both', { exitCode: 2 });
  const { profile } = await readProfileFromFlags('report', values, positionals);
  if (values['period'] && profile.periodsSeen === 0 && profile.samples > 0) {
    process.stderr.write('kallmod report: note: --period: no sample printed a period other than 1 (perf script -F ...,period prints it)\n');
  }
  const r = rows(profile, sort);
  const limit = lim !== undefined ? Number(lim) : values['json'] || values['csv'] ? 0 : 20;
  process.stdout.write(values['json'] ? json(r, limit) : values['csv'] ? csv(r, limit) : table(r, { limit, color: useColor() }));
  return 0;
}
