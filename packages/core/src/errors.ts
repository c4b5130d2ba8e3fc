/**
 * One error type for everything a user can cause (bad file, bad flag, bad query). The CLI prints
 * its message on one line without a stack; anything else is a bug and keeps its stack.
 */
export class KallmodError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** Exit status the CLI uses when this error ends the command. */
  readonly exitCode: number;

  constructor(message: string, opts: { file?: string; line?: number; exitCode?: number; cause?: unknown } = {}) {
    const where = opts.file ? `${opts.file}${opts.line ? `:${opts.line}` : ''}: ` : '';
    super(where + message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KallmodError';
    this.file = opts.file;
    this.line = opts.line;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** A warning about a source: printed on stderr by the CLI, listed by `kallmod sources`. */
export interface Warning {
  source: string;
  message: string;
}

export type WarnFn = (w: Warning) => void;
