import { printHelp } from '../help-text.js';
import { writeKallmodsyms } from '@kallmod/core/kallmodsyms-format';
import { KallmodError } from '@kallmod/core/errors';
import { loadFromFlags, objnameMode, parse, SOURCE_FLAGS_HELP } from '../common.js';

const HELP = `usage: kallmod kallmodsyms [SOURCES] [--objname=MODE] [--no-size] [--text]

Prints the symbol table as /proc/kallmodsyms, for kernels that have none (all
mainline ones), one line per symbol in address order (the core kernel up to
_end, then the loadable modules):
  ADDRESS SIZE TYPE NAME[<TAB>[mod] [mod2]... {obj.o}]
[mod]: the built-in or loadable module (several for an object linked into
several built-in modules); {obj.o}: the object file, where name and modules
do not tell the symbol apart. SIZE: the exact ELF size where the sources have
it (--vmlinux, .ko files), else the distance to the next symbol. Dynamic code
(kallsyms' [bpf], [__builtin__ftrace], [__builtin__kprobes]) is left out.
kallmod reads it back with --kallmodsyms (and --proc-modules: the file does not
say which modules are loadable).

DTrace for Linux reads the fixed path /proc/kallmodsyms before /proc/kallsyms.
Where the kernel has that file:
  kallmod kallmodsyms > /run/kallmodsyms
  mount --bind /run/kallmodsyms /proc/kallmodsyms
procfs cannot gain a file: on a mainline kernel DTrace >= 2.0.0-1.13.2 reads
kallsyms and modules.builtin.ranges itself; point other readers at the file.

  --objname MODE   when to print {obj.o}: ambiguous (default), always, never
  --no-size        no size column: the layout of the last kernel patches (v10)
  --text           text symbols (t T w W) only

${SOURCE_FLAGS_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { objname: { type: 'string' }, 'no-size': { type: 'boolean' }, text: { type: 'boolean' } });
  if (values['help']) { printHelp(HELP); return 0; }
  if (positionals.length) throw new KallmodError(`takes no arguments (got ${positionals[0]}; see --help)`, { exitCode: 2 });
  // the shared flags include --json: this command has one format, the file's
  if (values['json']) throw new KallmodError('--json: prints /proc/kallmodsyms text only (`kallmod lookup --json` answers per symbol)', { exitCode: 2 });
  const mode = objnameMode(values);
  const { table } = await loadFromFlags(values);
  await writeKallmodsyms(table, process.stdout, { mode, size: !values['no-size'], textOnly: values['text'] === true });
  return 0;
}
