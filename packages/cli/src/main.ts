import { printHelp } from './help-text.js';
import { KallmodError } from '@kallmod/core/errors';
import { nativeAddon } from '@kallmod/core/native';
import { exitQuietlyOnEpipe, ignoreStderrErrors } from '@kallmod/core/stream/quiet-exit';
import type { TransformerSpec } from '@kallmod/core/stream/spec';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  perf: { summary: 'annotate `perf script` text (stdin or FILE)', load: () => transformer(import('@kallmod/perf-script/command')) },
  json: { summary: 'annotate `perf data convert --to-json` output', load: () => transformer(import('@kallmod/perf-json/command')) },
  trace: { summary: 'annotate ftrace trace / trace_pipe text, live', load: () => transformer(import('@kallmod/trace-pipe/command')) },
  dmesg: { summary: 'annotate dmesg, journalctl -k, serial logs and oopses, live', load: () => transformer(import('@kallmod/dmesg/command')) },
  stack: {
    summary: 'annotate kernel stacks: bpftrace, bcc, /proc/PID/stack, crash bt, drgn, perf report',
    load: () => transformer(import('@kallmod/stack/command')),
  },
  report: { summary: 'samples by module, object file and symbol (perf script, perf JSON, folded)', load: () => import('./commands/report.js') },
  flame: { summary: 'a flame graph coloured by module: one HTML file (or --svg)', load: () => import('./commands/flame.js') },
  lookup: { summary: 'address or name[+off[/size]] → (name, module, objname)', load: () => import('./commands/lookup.js') },
  resolve: { summary: 'triplet → address, kprobe, ftrace filter index (trace one duplicate)', load: () => import('./commands/resolve.js') },
  sources: { summary: 'what was found and merged, coverage and consistency warnings', load: () => import('./commands/sources.js') },
  kallmodsyms: { summary: 'print the symbols as /proc/kallmodsyms (DTrace reads it)', load: () => import('./commands/kallmodsyms.js') },
  modules: { summary: 'every module the sources name: built-in, loadable, loaded', load: () => import('./commands/modules.js') },
  dups: { summary: 'duplicated names with their triplets', load: () => import('./commands/dups.js') },
  capture: { summary: 'save this kernel\'s sources into one snapshot file (--snapshot elsewhere)', load: () => import('./commands/capture.js') },
};

// literal import()s: the CLI bundle (scripts/bundle.mjs) follows them
async function transformer(command: Promise<{ spec: TransformerSpec }>) {
  const [{ spec }, { runTransformer }] = await Promise.all([command, import('./commands/transform.js')]);
  return { run: (argv: string[]) => runTransformer(spec, argv) };
}

export const VERSION = '0.1.0';

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `usage: kallmod COMMAND [OPTIONS] [ARGS]

Restores (name, module, objname) wherever kernel text names a function.

Commands:
${Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(w)}  ${v.summary}`).join('\n')}

\`kallmod COMMAND --help\` for its options. Sources default to the running kernel.
Environment: KALLMOD_NATIVE=0|1 (force the TypeScript path / require the native addon), NO_COLOR.
`;
}

/** An error of the system (EIO, EISDIR...) that no command turned into a KallmodError yet: still one line. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

export async function main(argv: string[]): Promise<void> {
  // one place for every command: `kallmod dups | head -1` ends as quietly as the transformers
  exitQuietlyOnEpipe(process.stdout);
  ignoreStderrErrors();
  let cmd = argv[0];
  if (cmd === 'help' && argv[1] !== undefined && !argv[1].startsWith('-')) {
    // `kallmod help perf` is `kallmod perf --help`
    if (!COMMANDS[argv[1]]) { process.stderr.write(`kallmod: unknown command '${argv[1]}'\n\n${usage()}`); process.exitCode = 2; return; }
    cmd = argv[1];
    argv = [cmd, '--help'];
  }
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') { printHelp(usage()); return; }
  if (cmd === '--version' || cmd === '-V') { process.stdout.write(`kallmod ${VERSION}\n`); return; }
  const c = COMMANDS[cmd];
  if (!c) { process.stderr.write(`kallmod: unknown command '${cmd}'\n\n${usage()}`); process.exitCode = 2; return; }
  try {
    // "require the addon": said at once, whichever command and input (a short run never loads it)
    if (process.env['KALLMOD_NATIVE'] === '1') nativeAddon();
    const m = await c.load();
    const code = await m.run(argv.slice(1));
    if (code) process.exitCode = code;
  } catch (e) {
    if (e instanceof KallmodError) {
      process.stderr.write(`kallmod ${cmd}: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    if (isSystemError(e)) {
      process.stderr.write(`kallmod ${cmd}: ${e.path ? `${e.path}: ` : ''}${e.message.replace(/\n[\s\S]*/, '')}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}
