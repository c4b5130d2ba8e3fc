import { printHelp } from '../help-text.js';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { applyWrites, describeWrite, instanceDir, readLiveFilterFunctions, tracefsForWrites, type PlannedWrite } from '@kallmod/core/resolve/apply';
import { checkEventIdent } from '@kallmod/core/resolve/outputs';
import { KallmodError } from '@kallmod/core/errors';
import { parseFilterFunctions, type FilterFunctions } from '@kallmod/core/resolve/filter-functions';
import { readSourceFile } from '@kallmod/core/sources/read-file';
import { resolveQueryText, type ResolveAnswer, type ResolveOptions } from '@kallmod/core/resolve/resolve';
import { sourceOptionsFromFlags, hasExplicitSources } from '@kallmod/core/sources/options';
import { checkStdin } from '../input.js';
import { loadFromFlags, parse, SOURCE_FLAGS_HELP } from '../common.js';

const HELP = `usage: kallmod resolve [SOURCES] [OUTPUTS] [--apply --instance NAME [--dry-run]] QUERY...

The reverse of every other command: a triplet → what the kernel's tracing interfaces accept,
so that exactly one copy of a duplicated name is traced. Without QUERY, one query per stdin line.

QUERY, in the notation kallmod prints (parts left out are not constraints; quote it):
  name, 'name [mod]', 'name [m1] [m2] {obj.o}', 'name {path/obj.o}', name+0xOFF,
  name+0xOFF/0xSIZE (as oopses print it: the kallsyms size picks the copy)
  {obj.o} matches by path suffix, whole components ({super.o} matches fs/ext4/super.o);
  * and ? are globs in the name and modules ('*_show [rapl]'). __pfx_ padding never counts.
A query that matches several symbols is an error listing every candidate with its full
triplet (exit 2); one that matches nothing says so (exit 1). When the sources hide addresses
(kptr_restrict: all zero) no address form is made (exit 2): only --bpftrace by name. Exit 0
only when every query resolved (and every output form asked for could be made).

Outputs (default: the address and the triplet):
  --address            kallsyms address (+offset), KASLR applied
  --kprobe[=[GROUP/]EVENT]   kprobe_events line 'p:GROUP/EVENT 0xADDR' (address form: a name
                       matching several symbols is refused since Linux 6.6). Default group
                       'kallmod', event derived from name and objname (event_show__rapl)
  --kretprobe[=[GROUP/]EVENT]   the same, 'r:GROUP/EVENT 0xADDR'
  --event NAME --group NAME   event / group for the probe forms
  --ftrace-index       1-based line of available_filter_functions: 'echo N > set_ftrace_filter'
                       selects that one function. Matched through the patch-site addresses of
                       available_filter_functions_addrs when given, else by the order of
                       duplicates (the n-th line of a name is the n-th function by address,
                       only when the counts agree); refused when it cannot be sure
  --filter-functions F  a saved available_filter_functions[_addrs] (.xz ok) instead of tracefs
                       (required when the sources are not the running kernel)
  --perf-probe         argument for 'perf probe -a': GROUP:EVENT=0xADDR
  --bpftrace           probe spec: kprobe:NAME when the name is unique in the kernel,
                       kprobe:MOD:NAME when unique in its loadable module, else kprobe:0xADDR
                       (needs a bpftrace with address kprobes, run with --unsafe; older
                       versions map the address back to the name and the kernel refuses it)
  --json               (alone: every output form) one object per query, in order: query,
                       address, name, modules, builtin, objname, objnameShort, the output forms asked for — or error, candidates

Applying (root; tracefs):
  --apply --instance NAME   append the --ftrace-index of every query to
                       instances/NAME/set_ftrace_filter; with --kprobe/--kretprobe append the
                       lines to kprobe_events (global) and enable them in the instance
  --dry-run            print the writes instead of making them

${SOURCE_FLAGS_HELP}
`;

const FLAGS = {
  address: { type: 'boolean' },
  kprobe: { type: 'boolean' },
  kretprobe: { type: 'boolean' },
  event: { type: 'string' },
  group: { type: 'string' },
  'ftrace-index': { type: 'boolean' },
  'filter-functions': { type: 'string' },
  'perf-probe': { type: 'boolean' },
  bpftrace: { type: 'boolean' },
  apply: { type: 'boolean' },
  instance: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

/** `--kprobe=EV` / `--kprobe=GRP/EV` → `--kprobe --event EV [--group GRP]` (parseArgs has no optional values). */
function expandProbeArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^--(kprobe|kretprobe)=(.*)$/.exec(a);
    if (!m) { out.push(a); continue; }
    out.push(`--${m[1]}`);
    const v = m[2]!;
    const slash = v.indexOf('/');
    if (slash >= 0) { out.push('--group', v.slice(0, slash)); if (v.slice(slash + 1)) out.push('--event', v.slice(slash + 1)); }
    else if (v) out.push('--event', v);
  }
  return out;
}

function candidateLines(a: ResolveAnswer): string {
  return (a.candidates ?? []).map((c) =>
    `  ${c.address ?? '(address hidden)'} ${c.type} ${c.name}${c.modules.map((m) => ` [${m}]`).join('')} {${c.objname ?? '?'}}    → ` +
    `${c.query ?? '(no triplet tells it apart: objname unknown; give --linker-map, --vmlinux or --ranges)'}`).join('\n');
}

function textLines(a: ResolveAnswer, forms: string[], several: boolean): string[] {
  const value = (f: string): string => {
    switch (f) {
      case 'address': return a.address!;
      case 'kprobe': return a.kprobe!;
      case 'kretprobe': return a.kretprobe!;
      case 'perf-probe': return a.perfProbe!;
      case 'bpftrace': return a.bpftrace!;
      case 'ftrace-index': return String(a.ftraceIndex);
      default: return '';
    }
  };
  const ok = forms.filter((f) => !(f === 'ftrace-index' && a.ftraceIndex == null) && !(f === 'kretprobe' && a.kretprobe === undefined));
  if (forms.length === 0) {
    return [`${a.address}\t${a.name}${(a.modules ?? []).map((m) => ` [${m}]`).join('')}${a.objname ? ` {${a.objname}}` : ''}`];
  }
  if (forms.length === 1) return ok.map(value);
  return ok.map((f) => `${several ? `${a.query}\t` : ''}${f}\t${value(f)}`);
}

export async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const seen: string[] = [];
  try {
    return await resolveCommand(argv, seen);
  } catch (e) {
    // --json: a reader of stdout gets the error too, as one object (the exit code is kept)
    if (json && e instanceof KallmodError) {
      process.stdout.write(JSON.stringify({ query: seen.length === 1 ? seen[0] : null, error: e.message, candidates: [] }) + '\n');
    }
    throw e;
  }
}

async function resolveCommand(argv: string[], seen: string[]): Promise<number> {
  const { values, positionals } = parse(expandProbeArgs(argv), FLAGS);
  seen.push(...positionals);
  if (values['help']) { printHelp(HELP); return 0; }
  const json = Boolean(values['json']);
  const forms = (['address', 'kprobe', 'kretprobe', 'ftrace-index', 'perf-probe', 'bpftrace'] as const).filter((f) => values[f]);
  const group = typeof values['group'] === 'string' ? values['group'] : 'kallmod';
  const event = typeof values['event'] === 'string' ? values['event'] : null;
  checkEventIdent('group', group);
  if (event !== null) checkEventIdent('event', event);
  const apply = Boolean(values['apply']);
  const dryRun = Boolean(values['dry-run']);
  const instance = typeof values['instance'] === 'string' ? values['instance'] : null;
  if ((dryRun || instance !== null) && !apply) throw new KallmodError('--dry-run and --instance go with --apply', { exitCode: 2 });
  if (apply && !values['ftrace-index'] && !values['kprobe'] && !values['kretprobe']) {
    throw new KallmodError('--apply needs --ftrace-index, --kprobe or --kretprobe (what to write)', { exitCode: 2 });
  }
  if (apply && values['ftrace-index'] && instance === null) {
    throw new KallmodError('--apply --ftrace-index needs --instance NAME (the global filter is left alone)', { exitCode: 2 });
  }

  const srcOpts = sourceOptionsFromFlags(values as never);
  const ffPath = typeof values['filter-functions'] === 'string' ? values['filter-functions'] : null;
  if (values['ftrace-index'] && !ffPath && (hasExplicitSources(srcOpts) || srcOpts.root !== undefined)) {
    throw new KallmodError(`--ftrace-index with ${srcOpts.root !== undefined ? '--root' : 'explicit sources'} needs --filter-functions F ` +
      '(tracefs belongs to the running kernel)', { exitCode: 2 });
  }
  // another tree's addresses must not go into this kernel's tracefs
  if (apply && srcOpts.root !== undefined) {
    throw new KallmodError('--apply writes into this machine\'s tracefs: not with --root (another tree\'s kernel)', { exitCode: 2 });
  }
  const { table } = await loadFromFlags(values);
  let ff: FilterFunctions | null = null;
  // --json alone gives every form (the ftrace index where a filter-function list was given)
  const all = json && forms.length === 0;
  const opts: ResolveOptions = {
    kprobe: all || Boolean(values['kprobe']), kretprobe: all || Boolean(values['kretprobe']), perfProbe: all || Boolean(values['perf-probe']),
    bpftrace: all || Boolean(values['bpftrace']), ftraceIndex: (all && ffPath !== null) || Boolean(values['ftrace-index']), event, group,
    filterFunctions: () => (ff ??= ffPath ? parseFilterFunctions(readSourceFile(ffPath), ffPath) : readLiveFilterFunctions()),
  };

  const queries: string[] = [];
  if (positionals.length) queries.push(...positionals);
  else {
    checkStdin();
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const l of rl) if (l.trim() && !l.trimStart().startsWith('#')) queries.push(l);
  }
  if (event !== null && queries.length > 1) throw new KallmodError('--event names one probe: give one query', { exitCode: 2 });

  const answers = queries.map((q) => resolveQueryText(table, q, opts));
  let status = 0;
  const out: string[] = [];
  for (const a of answers) {
    if (a.errorKind === 'ambiguous' || a.errorKind === 'invalid' || a.errorKind === 'hidden') status = 2;
    else if (a.errorKind && status === 0) status = 1;
    if (json) { out.push(JSON.stringify(a)); continue; }
    if (a.errorKind === 'ambiguous') process.stderr.write(`kallmod resolve: '${a.query}': ${a.error}:\n${candidateLines(a)}\n`);
    else if (a.errorKind && a.errorKind !== 'refused') process.stderr.write(`kallmod resolve: '${a.query}': ${a.error}\n`);
    else {
      if (a.errorKind === 'refused') process.stderr.write(`kallmod resolve: '${a.query}': ${a.error}\n`);
      out.push(...textLines(a, forms, answers.length > 1));
    }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');

  if (apply) {
    if (status !== 0) { process.stderr.write('kallmod resolve: not applying anything: not every query resolved\n'); return status; }
    const { root, mounted } = tracefsForWrites(dryRun);
    if (!mounted) process.stderr.write(`kallmod resolve: note: tracefs is not mounted: showing the writes under ${root} (mount -t tracefs nodev ${root})\n`);
    const dir = instanceDir(root, instance);
    if (mounted && instance !== null && !existsSync(dir)) {
      if (!dryRun) throw new KallmodError(`no tracefs instance '${instance}' (mkdir ${dir} creates one)`, { exitCode: 1 });
      process.stderr.write(`kallmod resolve: note: instance '${instance}' does not exist yet (mkdir ${dir})\n`);
    }
    const writes: PlannedWrite[] = [];
    for (const a of answers) {
      if (a.ftraceIndex != null) {
        writes.push({ path: join(dir, 'set_ftrace_filter'), text: String(a.ftraceIndex), why: `${a.query} (${a.name} at ${a.address})` });
      }
      for (const line of [a.kprobe, a.kretprobe]) {
        if (!line) continue;
        writes.push({ path: join(root, 'kprobe_events'), text: line, why: a.query });
        if (instance !== null) {
          const [, ge] = /^[pr]:(\S+)/.exec(line)!;
          writes.push({ path: join(dir, 'events', ge!, 'enable'), text: '1', why: `enable ${ge} in instance ${instance}` });
        }
      }
    }
    if (dryRun) { process.stdout.write(writes.map(describeWrite).join('\n') + (writes.length ? '\n' : '')); return status; }
    applyWrites(writes);
    process.stderr.write(`kallmod resolve: applied ${writes.length} write(s)\n`);
  }
  return status;
}
