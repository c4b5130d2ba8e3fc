import { fstatSync } from 'node:fs';
import { runTransform } from '@kallmod/core/stream/run';
import { KallmodError } from '@kallmod/core/errors';
import type { TransformerSpec, TransformInput } from '@kallmod/core/stream/spec';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { checkStdin, namedReadError, openInputFile } from '../input.js';
import { mismatchWarning, mostlyDisagrees } from '../mismatch.js';
import { printHelp } from '../help-text.js';
import { jobsFlag, loadFromFlags, objnameMode, parse, stderrWarn, LINES_HELP, SOURCE_FLAGS_HELP } from '../common.js';

const TRANSFORM_FLAGS = {
  refs: { type: 'boolean' },
  objname: { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  verbose: { type: 'boolean', short: 'v' },
  lines: { type: 'boolean' },
} as const;

/** The shared --lines entry, for a transformer whose own help does not describe the flag. */
function genericLinesHelp(spec: { name: string; help: string }): string {
  if (!LINES_COMMANDS.has(spec.name) || /^ {2}--lines /m.test(spec.help)) return '';
  const entry = LINES_HELP.replace(/^ {2}--lines {2}/, '  --lines            ').replace(/\n {11}/g, '\n                     ');
  return `${entry} The form it takes: above; no worker pool.\n`;
}

/** The transformers that take --lines. */
const LINES_COMMANDS = new Set(['dmesg', 'perf', 'trace', 'json', 'stack']);
/** ... and --lines=fold (inline frames as frames of their own). */
const LINES_FOLD_COMMANDS = new Set(['perf']);

/**
 * `--lines=fold` is `--lines` plus `lines-fold` (parseArgs has no flag with an optional value);
 * another value is a usage error.
 */
function linesValue(name: string, argv: string[]): { argv: string[]; fold: boolean } {
  let fold = false;
  const dd = argv.indexOf('--');
  const end = dd < 0 ? argv.length : dd; // after `--`: file names, as given
  const out = argv.map((a, n) => {
    if (n >= end || !a.startsWith('--lines=')) return a;
    if (a === '--lines=fold' && LINES_FOLD_COMMANDS.has(name)) { fold = true; return '--lines'; }
    throw new KallmodError(`${a}: ${LINES_FOLD_COMMANDS.has(name) ? '--lines takes no value but =fold' : `${name} takes --lines without a value`} (see --help)`,
      { exitCode: 2 });
  });
  return { argv: out, fold };
}

/** The one driver of every transformer command: sources, input, output, --refs, --jobs. */
export async function runTransformer(spec: TransformerSpec, argv: string[]): Promise<number> {
  const lv = linesValue(spec.name, argv);
  const { values, positionals } = parse(lv.argv, { ...TRANSFORM_FLAGS, ...spec.flags });
  if (lv.fold) values['lines-fold'] = true;
  if (values['help']) {
    printHelp(`usage: kallmod ${spec.name} [OPTIONS] [FILE]

${spec.summary}. Reads FILE or stdin, writes stdout; every byte it does not annotate passes
through unchanged, line for line.

${spec.help}

Output:
  --objname MODE     when to print {obj.o}: always, ambiguous (default: only when name+module
                     is not unique), never
  --refs             instead of text, one JSON object per symbol reference (fields of
                     \`kallmod lookup --json\`, plus line, text and what was printed)
  -j, --jobs N       worker threads for large files (default: inline on < 4 cores, where a
                     pool was measured slower; else up to 4 for files >= 16 MB); never more
                     than the cores, nor than the file has 1 MiB chunks
${genericLinesHelp(spec)}  -v, --verbose      say on stderr what the sources lack (built-in modules, object names) and
                     what would add it (said anyway when stderr is a terminal)

${SOURCE_FLAGS_HELP}
`);
    return 0;
  }
  if (positionals.length > 1) throw new KallmodError('at most one FILE', { exitCode: 2 });
  if (values['lines'] && !LINES_COMMANDS.has(spec.name)) {
    throw new KallmodError(`--lines: not available for ${spec.name}`, { exitCode: 2 });
  }
  const loaded = await loadFromFlags(values);
  const { table } = loaded;
  const lines = values['lines'] ? (await import('../lines.js')).openLines(loaded, spec.name, stderrWarn) : null;
  // scripts read stderr as "something is wrong": only asked for, or for a person at a terminal
  if (values['verbose'] || process.stderr.isTTY) {
    const { coverage, missingSources } = await import('@kallmod/core/table/coverage');
    const lacks = missingSources(coverage(table));
    if (lacks) process.stderr.write(`kallmod ${spec.name}: note: ${lacks}\n`);
  }
  const opts = { objname: objnameMode(values), refs: Boolean(values['refs']), extra: spec.extraOptions?.(values) ?? {},
    ...(lines ? { lines: lines.source } : {}) };
  let input: TransformInput | null = (await spec.openInput?.(values)) ?? null;
  const file = positionals[0];
  const inputName = input ? 'the input' : file && file !== '-' ? file : 'stdin';
  if (!input) {
    if (file && file !== '-') input = openInputFile(file);
    else { checkStdin(); input = { fd: 0 }; }
  }
  // a LineSource cannot cross into worker threads
  const jobs = lines ? 1 : jobsFlag(values);
  // the input's own evidence that it comes from another kernel or boot than the sources, with
  // real figures (both counts are of printed references, the same on the TS and native paths):
  // a file's once at the end; a live stream's as soon as it is clear, and its totals at the end
  let live = true;
  try { live = !('fd' in input) || Boolean(input.blocking) || !fstatSync(input.fd).isFile(); } catch { /* not a file descriptor we can stat: live */ }
  let warnedAt: { checked: number; disagreed: number } | null = null;
  const mismatch = (c: SymbolTable['consistency'], soFar: boolean) => {
    warnedAt = { checked: c.checked, disagreed: c.disagreed };
    process.stderr.write(mismatchWarning(spec.name, c, soFar));
  };
  if (live) table.watchConsistency((c) => mismatch(c, true));
  const atEnd = () => {
    const c = table.consistency;
    if (!warnedAt) { if (mostlyDisagrees(c)) mismatch(c, false); }
    else if (c.checked !== warnedAt.checked) {
      process.stderr.write(`kallmod ${spec.name}: in all, ${c.disagreed} of ${c.checked} printed symbols checked disagree with the symbol sources\n`);
    }
  };
  if (spec.run) {
    await spec.run({ table, opts, values, input, output: process.stdout, jobs }).catch((e) => { throw namedReadError(e, inputName); });
    atEnd();
    lines?.done();
    return 0;
  }
  if (!spec.loadAnnotator || !spec.annotatorModule) throw new Error(`${spec.name}: a transformer needs run or an annotator`);
  const annotator = await spec.loadAnnotator();
  await runTransform({ table, annotator, annotatorModule: spec.annotatorModule, opts, input, output: process.stdout, ...(jobs !== undefined ? { jobs } : {}) })
    .catch((e) => { throw namedReadError(e, inputName); });
  atEnd();
  lines?.done();
  return 0;
}
