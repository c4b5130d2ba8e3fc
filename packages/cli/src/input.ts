import { closeSync, fstatSync, openSync, readlinkSync } from 'node:fs';
import { KallmodError } from '@kallmod/core/errors';
import { fsErrorText } from '@kallmod/core/fs-error';

/**
 * FILE opened for reading. A directory opens fine and fails at the first read, deep in a stream:
 * refused here, where the path is still known.
 */
export function openInputFile(path: string): { fd: number; path: string } {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) { throw new KallmodError(`cannot read: ${fsErrorText(e)}`, { file: path }); }
  if (fstatSync(fd).isDirectory()) { closeSync(fd); throw new KallmodError('cannot read: is a directory', { file: path }); }
  return { fd, path };
}

/** `kallmod perf < DIR` reads nothing and would end as if the input were empty. */
export function checkStdin(): void {
  let dir: boolean;
  try { dir = fstatSync(0).isDirectory(); } catch { return; /* closed stdin reads as empty */ }
  if (!dir) return;
  let name = 'stdin';
  try { name = `stdin (${readlinkSync('/proc/self/fd/0')})`; } catch { /* not linux */ }
  throw new KallmodError('cannot read: is a directory', { file: name });
}

/**
 * A read that fails mid-stream (EIO: a bad disk, /proc/self/mem) surfaces as a bare system error
 * without the path: named here.
 */
export function namedReadError(e: unknown, name: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || err.syscall !== 'read' || typeof err.code !== 'string') return e;
  return new KallmodError(`cannot read: ${fsErrorText(e)}`, { file: name, cause: e });
}
