/**
 * The shared front of `kallmod report` and `kallmod flame`: sources, the input (FILE or stdin)
 * and its format, read into one Profile.
 */
import { KallmodError } from '@kallmod/core/errors';
import type { FlagValues } from '@kallmod/core';
import type { TransformInput } from '@kallmod/core/stream/spec';
import { Profile, type ProfileOptions } from '@kallmod/report/profile';
import { readProfile, type InputFormat } from '@kallmod/report/readers';
import { checkStdin, namedReadError, openInputFile } from '../input.js';
import { mismatchWarning, mostlyDisagrees } from '../mismatch.js';
import { loadFromFlags, objnameMode } from '../common.js';

export const PROFILE_FLAGS = {
  input: { type: 'string' },
  'kernel-only': { type: 'boolean' },
  period: { type: 'boolean' },
  objname: { type: 'string' },
} as const;

export const PROFILE_FLAGS_HELP = `Input: FILE or stdin, its format told by its first bytes: \`perf script\` text
(any -F fields, -g callchains, -G one-line samples), perf JSON (\`perf data
convert --to-json\`), or folded stacks (\`kallmod perf --fold\`,
stackcollapse-perf.pl: the first frame is the comm, the count the weight).
  --input FORMAT     perf, json or folded: say it instead
  --kernel-only      only samples with a kernel leaf; user frames left out
  --period           weigh samples by the period perf printed (default: 1 each)
  --objname MODE     {obj.o} in symbol names: always, ambiguous (default), never`;

export async function readProfileFromFlags(
  command: 'report' | 'flame', values: FlagValues, positionals: string[], opts: Pick<ProfileOptions, 'paths'> = {},
): Promise<{ profile: Profile; format: InputFormat }> {
  const fmt = values['input'];
  if (fmt !== undefined && fmt !== 'perf' && fmt !== 'json' && fmt !== 'folded') {
    throw new KallmodError(`--input must be perf, json or folded (got ${String(fmt)})`, { exitCode: 2 });
  }
  if (positionals.length > 1) throw new KallmodError('at most one FILE', { exitCode: 2 });
  const objname = objnameMode(values);
  const file = positionals[0];
  let input: TransformInput;
  let name = 'stdin';
  if (file && file !== '-') { input = openInputFile(file); name = file; }
  else { checkStdin(); input = { stream: process.stdin }; }
  const { table } = await loadFromFlags(values);
  const profile = new Profile(table, { kernelOnly: Boolean(values['kernel-only']), period: Boolean(values['period']), objname, ...opts });
  const format = await readProfile(profile, table, { objname, refs: false }, input, (fmt as InputFormat | undefined) ?? null, name)
    .catch((e) => { throw namedReadError(e, name); });
  // the output comes at the end: so does the word that the input disagrees with the sources
  if (mostlyDisagrees(table.consistency)) process.stderr.write(mismatchWarning(command, table.consistency, false));
  return { profile, format };
}

/** NO_COLOR, or not a terminal: no colour. */
export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'];
}
