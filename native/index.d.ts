/** Types of the optional native addon (native/src/lib.rs). Load through @kallmod/core's native.ts. */

export interface NativeTable {
  /** out[i] = SymbolTable.lookupKey(keys[i]) for every i (one call for the whole batch). */
  lookupBatch(keys: Float64Array, out: Int32Array): void;
  /** One address; for tests: a call per address is slower than the JS bucket index. */
  lookup(key: number): number;
  /**
   * The perf script rewriter. annOffsets has table length + 1 entries; the annotation of symbol
   * i is annBlob[annOffsets[i], annOffsets[i+1]) (table.annotation(i, mode) as UTF-8).
   */
  createPerfRewriter(annBlob: Uint8Array, annOffsets: Uint32Array): NativePerfRewriter;
}

export interface NativePerfRewriter {
  /**
   * Rewrite whole lines of `chunk` into `out`; returns the bytes written.
   * Without io: the whole chunk, or -1 when a line needs the TS scan or out is too small.
   * With io (resumable): starts at line start io[0]; on return io[0] = where it stopped,
   * io[1] = end of the consecutive lines for the TS scan (after the last "\n"),
   * io[2] = 0 done | 1 lines for the TS scan | 2 out full, io[3] = lines from the old io[0] to the new.
   */
  rewriteInto(chunk: Uint8Array, out: Uint8Array, io?: Float64Array): number;
}

export interface KallmodNative {
  /**
   * A lookup over TableData's own arrays (kept alive, never copied; do not modify them after).
   * Same answer as SymbolTable.lookupKey.
   */
  createTable(keys: Float64Array, ksizes: Float64Array, flags: Uint8Array, exactSizes: Float64Array, types: Uint8Array): NativeTable;
}

export declare const native: KallmodNative | null;
export declare const loadError: Error | null;
export declare const loadedFrom: string | null;
