import type { Writable } from 'node:stream';

const installed = new WeakSet<Writable>();

/**
 * `| head` closes the pipe early: end quietly with status 0, as the transformers always have
 * (`set -o pipefail` scripts accept it), instead of Node's unhandled 'error' stack. Another write
 * error (ENOSPC, EIO) ends the run with one line and status 1.
 */
export function exitQuietlyOnEpipe(out: Writable): void {
  if (installed.has(out)) return;
  installed.add(out);
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    process.stderr.write(`kallmod: cannot write the output: ${e.code ?? e.message}\n`);
    process.exit(1);
  });
}

/**
 * A closed stderr (`2>&-`, `2> >(head -1)`) must not end a run whose stdout is fine: the warnings
 * are lost, the output is not.
 */
export function ignoreStderrErrors(): void {
  if (installed.has(process.stderr)) return;
  installed.add(process.stderr);
  process.stderr.on('error', () => {});
}
