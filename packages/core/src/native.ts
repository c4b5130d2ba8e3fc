/**
 * The one place that loads the optional native addon (@kallmod/native, native/src/lib.rs) and
 * the one switch between it and the TypeScript path. Callers get the same interface either way.
 *
 *   KALLMOD_NATIVE=0   always TypeScript
 *   KALLMOD_NATIVE=1   the addon or a one-line error (KallmodError) at first use
 *   unset              the addon when it loads, else TypeScript
 *
 * What the addon is for (shared/reference/native.md): batched lookups, and above all the
 * whole-chunk perf script rewrite — one call per chunk, never one call per line or address.
 */
import { createRequire } from 'node:module';
import { KallmodError } from './errors.js';
import type { SymbolTable } from './table/symbol-table.js';
import type { ObjnameMode } from './types.js';

// The addon's interface has one home, native/index.d.ts (type-only: core runs without the addon)
import type { KallmodNative, NativeLineMemo, NativeTable, NativePerfRewriter } from '@kallmod/native';
export type { NativeLineMemo, NativeTable, NativePerfRewriter };

export interface NativeStatus {
  path: 'native' | 'typescript';
  /** Why TypeScript (switch, or why the addon did not load); where the addon came from. */
  reason?: string;
}

let loaded: { addon: KallmodNative | null; status: NativeStatus } | null = null;

function load(): { addon: KallmodNative | null; status: NativeStatus } {
  if (loaded) return loaded;
  const want = process.env['KALLMOD_NATIVE'];
  if (want === '0') return (loaded = { addon: null, status: { path: 'typescript', reason: 'KALLMOD_NATIVE=0' } });
  let addon: KallmodNative | null = null;
  let reason: string;
  try {
    const m = createRequire(import.meta.url)('@kallmod/native') as { native: KallmodNative | null; loadError: Error | null; loadedFrom: string | null };
    addon = m.native;
    reason = addon ? `${m.loadedFrom ?? '@kallmod/native'}` : `native addon not loaded: ${firstLine(m.loadError?.message ?? 'absent')}`;
  } catch (e) {
    reason = `native addon not installed: ${firstLine((e as Error).message)}`;
  }
  return (loaded = { addon, status: addon ? { path: 'native', reason } : { path: 'typescript', reason } });
}

function firstLine(s: string): string { return s.split('\n')[0]!; }

/** Which path is in use, and why (for `kallmod sources`). */
export function nativeStatus(): NativeStatus { return load().status; }

/** The addon, or null for the TS path; throws the one-line error under KALLMOD_NATIVE=1. */
export function nativeAddon(): KallmodNative | null {
  const { addon, status } = load();
  if (!addon && process.env['KALLMOD_NATIVE'] === '1') {
    throw new KallmodError(`KALLMOD_NATIVE=1 but ${status.reason ?? 'the native addon is missing'}`);
  }
  return addon;
}

/**
 * Number of "\n" in buf: the addon's when it is already loaded (2-3× an indexOf loop, measured),
 * else an indexOf loop. Never loads the addon itself: a short live stream must not pay for it.
 */
export function countLines(buf: Uint8Array): number {
  const addon = loaded?.addon;
  if (addon) return addon.countLines(buf);
  let n = 0;
  for (let p = buf.indexOf(10); p >= 0; p = buf.indexOf(10, p + 1)) n++;
  return n;
}

const nativeTables = new WeakMap<SymbolTable, NativeTable>();

/** The addon's view of a table: over TableData's own typed arrays, made once per table. */
export function nativeTable(table: SymbolTable): NativeTable | null {
  const addon = nativeAddon();
  // hidden addresses (all zero): no address can be looked up, so the addon has nothing to do
  if (!addon || table.addressesHidden) return null;
  let t = nativeTables.get(table);
  if (!t) {
    const d = table.d;
    t = addon.createTable(d.keys, d.ksizes, d.flags, d.exactSizes, d.types);
    nativeTables.set(table, t);
  }
  return t;
}

/**
 * A whole-chunk perf script text rewriter: the addon rewrites the lines it knows (kernel frames
 * it resolves by address, lines nothing is added to) and hands every other run of lines to
 * `fallback` — the TS scan, so its output stays the reference — in order. Null on the TS path.
 */
export interface ChunkRewriter {
  /** As Annotator.chunk (stream/annotator.ts), `into` included. */
  chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer;
}

export function createPerfRewriter(
  table: SymbolTable,
  opts: { objname: ObjnameMode },
  fallback: (lines: Buffer, firstLine: number) => Buffer,
): ChunkRewriter | null {
  const t = nativeTable(table);
  if (!t) return null;
  const rw = t.createPerfRewriter();
  const io = new Float64Array(5);
  // a scratch output reused chunk after chunk (never handed out: warm memory, no page faults)
  let out: Buffer = Buffer.allocUnsafeSlow(1 << 16);
  return {
    chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer {
      if (out.length < buf.length + (buf.length >> 2) + 4096) out = Buffer.allocUnsafeSlow(buf.length + (buf.length >> 1) + 4096);
      let w = 0;
      let line = firstLine;
      io[0] = 0;
      for (;;) {
        const from = io[0]!;
        w += rw.rewriteInto(buf, w ? out.subarray(w) : out, io);
        line += io[3]!;
        // frames the addon settled itself: their printed names agreed, counted as the TS scan
        // counts them (io[3] counted every line, and made a mismatch warning's figures differ);
        // disagreeing frames come back to the TS scanner, which counts them
        table.consistency.checked += io[4]!;
        const stop = io[2]!;
        if (stop === 0) break;
        if (stop === 3) {
          // first time this symbol is met: name and text come from the one source of truth
          const i = io[1]!;
          rw.setSymbol(i, Buffer.from(table.name(i), 'latin1'), Buffer.from(table.annotation(i, opts.objname), 'utf8'));
        } else if (stop === 1) {
          const start = io[0]!, end = io[1]!;
          const ts = fallback(buf.subarray(start, end), line);
          if (w + ts.length > out.length) out = grow(out, w, ts.length + (buf.length - end) * 2);
          ts.copy(out, w);
          w += ts.length;
          for (let p = buf.indexOf(10, start); p >= 0 && p < end; p = buf.indexOf(10, p + 1)) line++;
          io[0] = end;
        } else {
          // out full: grow, or give up on a line that cannot fit even in an empty buffer
          if (io[0] === from && w === 0 && out.length > 2 * buf.length + 65536) throw new Error('native perf rewrite: no progress');
          out = grow(out, w, (buf.length - io[0]!) * 2 + 65536);
        }
      }
      // both paths only ever insert: as many bytes out as in means nothing changed
      if (w === buf.length) return buf;
      const res = into && into.length >= w ? into.subarray(0, w) : Buffer.allocUnsafeSlow(w);
      out.copy(res, 0, 0, w);
      return res;
    },
  };
}

/**
 * Input bytes after which the addon is loaded, when KALLMOD_NATIVE is unset. Loading it and
 * handing it the table costs ~5 ms of start-up (dlopen, createTable, the rewriter), more than
 * a live stream of a few lines or a small file ever gains from it: the TS scan runs at
 * ~470 MB/s, the addon at ~690 MB/s (BENCHMARKS.md), i.e. ~0.7 ms saved per MB.
 */
export const NATIVE_AFTER_BYTES = 8 << 20;

/**
 * The perf rewriter a transformer should use: null on the TS path (KALLMOD_NATIVE=0); the
 * addon's from the first byte under KALLMOD_NATIVE=1 (or its one-line error) or for an input
 * known to be large (a file: opts.inputSize; worker threads only ever see those); otherwise
 * `fallback` until NATIVE_AFTER_BYTES of input have gone by, then the addon's if it loads.
 * Switching between chunks is safe: both paths give the same bytes and keep no state across
 * lines (native/test/perf-rewrite.test.ts).
 */
export function createPerfRewriterWhenWorthIt(
  table: SymbolTable,
  opts: { objname: ObjnameMode; inputSize?: number },
  fallback: (lines: Buffer, firstLine: number, into?: Buffer) => Buffer,
): ChunkRewriter | null {
  const want = process.env['KALLMOD_NATIVE'];
  if (want === '0') return null;
  if (want === '1' || (opts.inputSize ?? 0) >= NATIVE_AFTER_BYTES) return createPerfRewriter(table, opts, fallback);
  let seen = 0;
  let rw: ChunkRewriter | null | undefined;
  return {
    chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer {
      if (rw === undefined && (seen += buf.length) >= NATIVE_AFTER_BYTES) rw = createPerfRewriter(table, opts, fallback);
      return rw ? rw.chunk(buf, firstLine, into) : fallback(buf, firstLine, into);
    },
  };
}

/**
 * The addon's line memo for a reader of `inputSize` bytes (unknown: a stream), when it is worth
 * loading, as the perf rewriter: null on the TS path; under KALLMOD_NATIVE=1 the memo (or the
 * one-line error); unset, for a file of NATIVE_AFTER_BYTES or more, else once that much has gone
 * by (`seen`: the caller's running byte count; null until then, and where it does not load).
 */
export function lineMemoWhenWorthIt(inputSize: number | undefined): (seen: number) => NativeLineMemo | null {
  const want = process.env['KALLMOD_NATIVE'];
  if (want === '0') return () => null;
  let memo: NativeLineMemo | null | undefined;
  const make = (): NativeLineMemo | null => (memo ??= nativeAddon()?.createLineMemo() ?? null);
  if (want === '1' || (inputSize ?? 0) >= NATIVE_AFTER_BYTES) make();
  return (seen) => memo !== undefined ? memo : seen >= NATIVE_AFTER_BYTES ? make() : null;
}

function grow(b: Buffer, used: number, more: number): Buffer {
  const nb = Buffer.allocUnsafeSlow(Math.max(b.length * 2, used + more));
  b.copy(nb, 0, 0, used);
  return nb;
}
