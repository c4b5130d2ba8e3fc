/**
 * Why a file operation failed, in words, for a one-line KallmodError that names the file itself.
 * Its own module: the CLI's input checks need it without loading the source readers.
 */
export function fsErrorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EIO': return 'input/output error (EIO)';
    default: return String(err.message ?? e).split('\n')[0]!;
  }
}
