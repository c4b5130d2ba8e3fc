/** Types of the optional native addon (native/src/lib.rs). Load through @kallmod/core's native.ts. */

export interface NativeTable {
  /** out[i] = SymbolTable.lookupKey(keys[i]) for every i (one call for the whole batch). */
  lookupBatch(keys: Float64Array, out: Int32Array): void;
  /** One address; for tests: a call per address is slower than the JS bucket index. */
  lookup(key: number): number;
  /** The perf script text rewriter over this table (symbols set lazily, see below). */
  createPerfRewriter(): NativePerfRewriter;
}

export interface NativePerfRewriter {
  /**
   * Rewrite whole lines of `chunk` into `out`; returns the bytes written.
   * Without io: the whole chunk, or -1 when the call could not finish alone.
   * With io (resumable): starts at line start io[0]; on return io[0] = where it stopped, and
   * io[2] says why: 0 done | 1 the lines [io[0], io[1]) are for the TS scan | 2 out is full |
   * 3 the line needs symbol io[1] (setSymbol, then call again);
   * io[3] = lines from the old io[0] to the new one; io[4] (io of 5) = kernel frames of them
   * whose printed name the address confirmed (what the TS scan counts as checked).
   */
  rewriteInto(chunk: Uint8Array, out: Uint8Array, io?: Float64Array): number;
  /**
   * What the rewriter knows of symbol i: its name (table.name(i), latin1: compared with the
   * printed name) and annotation (table.annotation(i, mode), UTF-8: inserted). Copied.
   */
  setSymbol(i: number, name: Uint8Array, annotation: Uint8Array): void;
}

/**
 * Whole lines remembered by their bytes (native/src/line_memo.rs), for `kallmod report` and
 * `kallmod flame`: what a line means is the caller's; the memo only gives back the value learnt.
 */
export interface NativeLineMemo {
  /**
   * One event per line of `chunk` from line start io[0] into `events`, until either ends;
   * returns how many. An event is the line's learnt value (>= 0), -1 for a blank line (empty,
   * or a lone CR), or -(line start + 2) for a line not learnt. io[0] = where it stopped.
   */
  scan(chunk: Uint8Array, events: Int32Array, io: Float64Array): number;
  /** Learn n lines of chunk: lines[3k] its start, lines[3k+1] its end (before "\n"), lines[3k+2] its value (>= 0). */
  learn(chunk: Uint8Array, lines: Int32Array, n: number): void;
}

export interface KallmodNative {
  /**
   * A lookup over TableData's own arrays (kept alive, never copied; they must not be modified
   * or transferred afterwards).
   * Same answer as SymbolTable.lookupKey.
   */
  createTable(keys: Float64Array, ksizes: Float64Array, flags: Uint8Array, exactSizes: Float64Array, types: Uint8Array): NativeTable;
  /** An empty line memo (bounded: cleared when it holds 2^19 lines or 64 MiB). */
  createLineMemo(): NativeLineMemo;
  /** Number of "\n" bytes in buf. */
  countLines(buf: Uint8Array): number;
  /**
   * The xz file `input` decoded by the system's liblzma (absent when the addon was built
   * without liblzma.a); undefined when liblzma refuses it: the caller's decoder says why.
   */
  xzDecode?(input: Uint8Array): Buffer | undefined;
}

export declare const native: KallmodNative | null;
export declare const loadError: Error | null;
export declare const loadedFrom: string | null;
