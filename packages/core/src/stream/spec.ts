import type { Readable, Writable } from 'node:stream';
import type { SymbolTable } from '../table/symbol-table.js';
import type { AnnotatorModule, AnnotatorOptions } from './annotator.js';

/** Flag definitions in node:util parseArgs form. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * Where a transformer reads: a file descriptor (regular files are read in chunks, pipes and ttys
 * live), a stream, or a file that stats as regular but blocks like a pipe (trace_pipe:
 * `blocking`), read live by blocking reads on the main thread.
 */
export type TransformInput = { fd: number; path?: string; blocking?: true } | { stream: Readable };

/**
 * What a transformer package tells the CLI: its command name, help, own flags, and the module
 * that exports createAnnotator. The CLI adds the shared source flags, --refs, --objname,
 * --jobs, --help.
 */
export interface TransformerSpec {
  name: string;
  summary: string;
  /** Extra help text: what the command reads and how it annotates (shown by --help). */
  help: string;
  flags?: FlagSpec;
  /**
   * The module exporting createAnnotator, twice: imported here on the main thread (a literal
   * import(), which the CLI bundle follows), and by package specifier for worker threads (they
   * load dist/). Both absent with `run`.
   */
  loadAnnotator?(): Promise<AnnotatorModule>;
  annotatorModule?: `@kallmod/${string}`;
  /** Transformer-specific options for the annotator, from the parsed flags. */
  extraOptions?(values: FlagValues): Record<string, unknown>;
  /** Open the input when a flag says where (--follow); null means stdin / the FILE argument. */
  openInput?(values: FlagValues): Promise<TransformInput | null>;
  /** Replace the line driver entirely (perf JSON is one document, not lines). */
  run?(ctx: {
    table: SymbolTable; opts: AnnotatorOptions; values: FlagValues; input: TransformInput; output: Writable; jobs: number | undefined;
  }): Promise<void>;
}
