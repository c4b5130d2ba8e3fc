import { printHelp } from '../help-text.js';
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname, release } from 'node:os';
import { KallmodError, type Warning } from '@kallmod/core/errors';
import { fsErrorText } from '@kallmod/core/fs-error';
import { TABLE_FORMAT, writeSnapshot } from '@kallmod/core/table/snapshot';
import { kernelBuildIds } from '@kallmod/core/kernel/identity';
import { loadFromFlags, parse, SOURCE_FLAGS_HELP } from '../common.js';
import { VERSION } from '../main.js';

const HELP = `usage: kallmod capture -o FILE [SOURCES]

Save everything this kernel offers (kallsyms or kallmodsyms, /proc/modules, module section
bases, /lib/modules/$(uname -r)/modules.builtin*, and any files given as source flags) into
one versioned snapshot. Annotate elsewhere with --snapshot FILE. Needs real addresses: run as
root (or with kptr_restrict=0 and CAP_SYSLOG).

  -o, --output FILE   where to write the snapshot

${SOURCE_FLAGS_HELP}
`;

/** Said before the sources are read: the likely mistakes (-o DIR, a missing directory). */
function checkWritable(out: string): void {
  let st;
  try { st = statSync(out); } catch { st = null; }
  if (st?.isDirectory()) throw new KallmodError('cannot write: is a directory (-o takes the snapshot file\'s name)', { file: out });
  let dir;
  try { dir = statSync(dirname(out)); } catch { dir = null; }
  if (!dir?.isDirectory()) throw new KallmodError(`cannot write: no such directory: ${dirname(out)}`, { file: out });
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { output: { type: 'string', short: 'o' } });
  if (values['help']) { printHelp(HELP); return 0; }
  const out = values['output'];
  if (typeof out !== 'string') throw new KallmodError('-o FILE is required', { exitCode: 2 });
  if (values['snapshot']) throw new KallmodError('--snapshot cannot be captured again; copy the file instead', { exitCode: 2 });
  checkWritable(out);
  const warnings: Warning[] = [];
  const l = await loadFromFlags(values, (w) => { warnings.push(w); process.stderr.write(`kallmod: warning: ${w.source}: ${w.message}\n`); });
  if (l.table.addressesHidden) {
    const hidden = l.parsed?.kallmodsyms?.path ?? l.parsed?.kallsyms?.path;
    throw new KallmodError(`addresses are hidden (all zero): a snapshot without addresses is useless. Run as root, or lower kernel.kptr_restrict`,
      hidden ? { file: hidden } : {});
  }
  // named, not embedded: the debug vmlinux the defaults found is hundreds of MB (the table holds
  // what it gave; an explicit --vmlinux is embedded as asked), a per-kernel cache file is that same table
  const bulky = (s: { role: string; origin: string }) =>
    s.role === 'modules-dir' || s.role === 'cache' || (s.role === 'vmlinux' && s.origin === 'running-kernel');
  const named = l.loaded.flatMap((s) => s.path.split(',').map((p) => ({ role: s.role, path: p, skip: bulky(s) })));
  const files = named.filter((f) => !f.skip).map(({ role, path }) => ({ role, path }))
    .flatMap((f) => { try { return [{ ...f, data: readFileSync(f.path) }]; } catch { return []; } });
  let version: string | undefined;
  // --root: another machine's files, not this host's kernel
  const running = l.loaded.some((s) => s.origin === 'running-kernel');
  const here = running && !l.kernel?.root;
  try { version = here ? readFileSync('/proc/version', 'latin1').trim() : undefined; } catch { /* not linux */ }
  const meta = {
    format: TABLE_FORMAT, kallmodVersion: VERSION, created: new Date().toISOString(),
    ...(here ? { host: hostname() } : {}), ...(running ? { release: l.kernel?.release ?? release() } : {}), ...(version ? { version } : {}),
    // the module directories too: not embedded (bulky), but `--lines --snapshot` reads their DWARF where they are
    sources: named.filter((f) => f.role !== 'cache').map(({ role, path }) => ({ role, path })), warnings,
    notes: l.report.warnings.filter((w) => !warnings.includes(w)),
    ...(running && l.kernel ? { buildIds: kernelBuildIds(l.kernel) } : {}),
  };
  try {
    writeSnapshot(out, l.table, meta, files);
  } catch (e) {
    // a read-only file system, a full disk: still one line
    if (!(e instanceof Error && 'code' in e)) throw e;
    throw new KallmodError(`cannot write: ${fsErrorText(e)}`, { file: out });
  }
  process.stderr.write(`kallmod: wrote ${out}: ${l.table.length} symbols from ${files.length} source file(s)\n`);
  return 0;
}
