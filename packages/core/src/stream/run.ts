/**
 * The stream driver every transformer shares.
 *
 * - live: a pipe or a tty (trace_pipe, dmesg -w, perf script |): every complete line that has
 *   arrived is annotated and written at once, no batching delay;
 * - batch: a regular file: read in 1 MiB chunks cut at record boundaries, annotated in a
 *   piscina pool (or inline with --jobs 1) and written in input order.
 * Bytes are never decoded: lines are split on "\n" only, so CR, invalid UTF-8 and NULs pass.
 */
import { closeSync, fstatSync, readSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { createRequire } from 'node:module';
import type { SymbolTable } from '../table/symbol-table.js';
import { encodeTable, TABLE_FORMAT } from '../table/snapshot.js';
import type { Annotator, AnnotatorModule, AnnotatorOptions } from './annotator.js';
import type { PoolResult, PoolTask } from './pool-worker.js';
import type { TransformInput } from './spec.js';
import { createProgress, type Progress } from './progress.js';
import { exitQuietlyOnEpipe } from './quiet-exit.js';
// newline count per chunk: the addon's when loaded (the indexOf loop cost ~10% of a native run)
import { countLines } from '../native.js';

export interface RunOptions {
  table: SymbolTable;
  annotator: AnnotatorModule;
  /** Package specifier of the module exporting createAnnotator, for worker threads. */
  annotatorModule: string;
  opts: AnnotatorOptions;
  input: TransformInput;
  output: Writable;
  /** undefined: choose (pool for large regular files); 1: inline; N: N workers. */
  jobs?: number;
  /** Force live (line-at-a-time) or batch reading. */
  mode?: 'auto' | 'live' | 'batch';
  chunkSize?: number;
}

const CHUNK = 1 << 20;
/** Below this a file is annotated inline: a worker pool costs ~50 ms to start. */
const POOL_MIN_BYTES = 16 << 20;

/**
 * Write, and when the stream asks, wait for 'drain' (or 'close': the reader went away).
 * `written` runs once the bytes are out (their buffer may then be reused).
 */
export function writeAsync(out: Writable, b: Buffer, written?: () => void): Promise<void> | void {
  if (b.length === 0) { written?.(); return; }
  // drop both listeners once either fires: a 'close' listener per drain would pile up
  if (!out.write(b, written)) return new Promise((res) => {
    const done = () => { out.off('drain', done); out.off('close', done); res(); };
    out.on('drain', done); out.on('close', done);
  });
}

export async function runTransform(o: RunOptions): Promise<void> {
  exitQuietlyOnEpipe(o.output);
  let st: Stats | null = null;
  if ('fd' in o.input) { try { st = fstatSync(o.input.fd); } catch { st = null; } }
  const regular = st?.isFile() ?? false;
  if ('fd' in o.input && o.input.blocking) return runBlocking(o, o.input.fd);
  const mode = o.mode && o.mode !== 'auto' ? o.mode : regular ? 'batch' : 'live';
  if (mode === 'batch' && 'fd' in o.input && regular) return runBatch(o, o.input.fd, st!.size);
  return runLive(o);
}

/**
 * Complete lines out of arbitrary reads: each read's lines annotated and written at once, a
 * partial last line kept until its newline (or the end) arrives.
 */
function liveFeeder(o: RunOptions): { feed(chunk: Buffer): Promise<void> | void; end(): Promise<void> | void } {
  const ann = o.annotator.createAnnotator(o.table, o.opts);
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let line = 1;
  const emit = (buf: Buffer) => {
    const out = ann.chunk(buf, line);
    line = ann.nextLine ?? line + countLines(buf);
    return writeAsync(o.output, out);
  };
  return {
    feed(chunk) {
      const last = chunk.lastIndexOf(10);
      if (last < 0) { pending.push(chunk); pendingLen += chunk.length; return; }
      let head = chunk.subarray(0, last + 1);
      if (pendingLen) { head = Buffer.concat([...pending, head], pendingLen + head.length); pending = []; pendingLen = 0; }
      const w = emit(head);
      if (last + 1 < chunk.length) { pending.push(chunk.subarray(last + 1)); pendingLen += chunk.length - last - 1; }
      return w;
    },
    async end() {
      if (pendingLen) await emit(Buffer.concat(pending, pendingLen));
      if (ann.end) await writeAsync(o.output, ann.end());
    },
  };
}

/** Line-at-a-time: annotate every complete line as soon as it has arrived. */
async function runLive(o: RunOptions): Promise<void> {
  const feeder = liveFeeder(o);
  const { createReadStream } = await import('node:fs');
  // stdin as a pipe or tty: process.stdin is polled by the event loop; an fs stream would read
  // through the thread pool, which added ~1.5 ms at p99 to every line (bench/trace-latency)
  const input: Readable = 'stream' in o.input ? o.input.stream
    : o.input.fd === 0 ? process.stdin
    : createReadStream('', { fd: o.input.fd, highWaterMark: 1 << 16, autoClose: false });
  for await (const c of input as AsyncIterable<Buffer>) await feeder.feed(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  await feeder.end();
}

/** trace_pipe: read by a thread of its own (blocking-reader.ts says why). */
async function runBlocking(o: RunOptions, fd: number): Promise<void> {
  const feeder = liveFeeder(o);
  const { blockingReads } = await import('./blocking-reader.js');
  for await (const chunk of blockingReads(fd)) {
    const w = feeder.feed(chunk);
    if (w) await w;
    // a write error (EPIPE from `| head`) is reported on a later tick, which this loop must reach
    else await new Promise(setImmediate);
  }
  await feeder.end();
}

/**
 * Chunks of whole records from a regular file of `size` bytes, each with its first line number
 * (unless not `count`: the caller then knows them);
 * `last` on the one that ends the file (a worker then ends its annotator: Annotator.end).
 */
function* fileChunks(
  fd: number, size: number, chunkSize: number, cut: AnnotatorModule['cutPoint'], progress: Progress | null,
  alloc: (n: number) => Buffer = Buffer.allocUnsafeSlow, count = true,
): Generator<FileChunk> {
  let carry: Buffer | null = null;
  let line = 1;
  let read = 0;
  for (;;) {
    // read after the carried tail, in place: concatenating would copy every chunk once more
    const keep = carry ? carry.length : 0;
    // a line longer than a chunk: read as much again as is carried, so a huge line is copied
    // O(its length) times in total, not O(length² / chunk)
    const want = Math.max(chunkSize, keep);
    const fresh = alloc(keep + want);
    if (carry) carry.copy(fresh, 0);
    const n = readSync(fd, fresh, keep, want, null);
    read += n;
    progress?.update(read);
    const data: Buffer = fresh.subarray(0, keep + n);
    carry = null;
    if (n === 0) {
      if (data.length) yield { buf: data, firstLine: line, last: true };
      return;
    }
    let end = data.lastIndexOf(10) + 1;
    if (end > 0 && cut) {
      const c = cut(data, end);
      if (c > 0) end = c;
    }
    if (end <= 0) { carry = data; continue; } // a line longer than the chunk: keep reading
    const buf = data.subarray(0, end);
    // copy the tail first: the chunk's memory may be transferred to a worker
    if (end < data.length) carry = Buffer.from(data.subarray(end));
    const lines = count ? countLines(buf) : 0;
    yield { buf, firstLine: line, last: carry === null && read >= size };
    line += lines;
  }
}

/**
 * Workers worth starting for `wanted` (-j N): no more than the cores, which more threads only
 * share, nor than the file has chunks, which is all there is to hand out (`-j 1000` on a
 * 7-line file started 1000 workers: 27 s, 5 GB).
 */
export function poolSize(wanted: number, cores: number, size: number, chunkSize: number): number {
  return Math.max(1, Math.min(wanted, cores, Math.ceil(size / chunkSize)));
}

async function runBatch(ro: RunOptions, fd: number, size: number): Promise<void> {
  const o = { ...ro, opts: { ...ro.opts, inputSize: size } };
  const chunkSize = o.chunkSize ?? CHUNK;
  const progress = createProgress(size, o.output);
  try {
    const cores = availableParallelism();
    // Measured on 2 cores (BENCHMARKS.md): a pool loses to inline work there, because the main
    // thread (read, cut, post, write) is the bottleneck. Use one only where cores are left over.
    const wanted = o.annotator.inlineOnly ? 1 : o.jobs ?? (cores >= 4 && size >= (o.annotator.poolMinBytes?.() ?? POOL_MIN_BYTES) ? Math.min(cores - 1, 4) : 1);
    const jobs = poolSize(wanted, cores, size, chunkSize);
    if (jobs <= 1) {
      const ann = o.annotator.createAnnotator(o.table, o.opts);
      // the annotator counts the lines it went through (nextLine) when it can: not again here
      const counted = ann.nextLine === undefined;
      let line = 1;
      // results go into buffers written out already: one made per chunk cost its page faults
      // (~10% of a trace or dmesg run, in take()'s copy)
      const spares = new Spares(3, 2 * chunkSize + 65536);
      let writing = 0;
      const written = (spare: ArrayBuffer) => () => { writing--; spares.give([spare]); };
      for (const { buf, firstLine } of fileChunks(fd, size, chunkSize, o.annotator.cutPoint, progress, undefined, counted)) {
        let spare = spares.take(buf.length + 65536);
        // a write done at once (a file, /dev/null) says so on the next tick, which a loop that
        // never waits would not reach
        if (!spare && writing) { await new Promise(setImmediate); spare = spares.take(buf.length + 65536); }
        spare ??= new ArrayBuffer(2 * chunkSize + 65536);
        const out = ann.chunk(buf, counted ? firstLine : line, Buffer.from(spare));
        if (!counted) line = ann.nextLine!;
        if (out.buffer !== spare) { spares.give([spare]); await writeAsync(o.output, out); continue; } // not used: free at once
        writing++;
        await writeAsync(o.output, out, written(spare));
      }
      if (ann.end) await writeAsync(o.output, ann.end());
      return;
    }
    const spares = new Spares(4 * jobs + 4, chunkSize + (chunkSize >> 1) + 65536);
    await runPool(o, jobs, fileChunks(fd, size, chunkSize, o.annotator.cutPoint, progress, (n) => spares.alloc(n)), spares);
  } finally {
    progress?.stop();
    if ('path' in o.input && o.input.path) closeSync(fd);
  }
}

/** Shared table bytes for workers: encoded once per process. */
let sharedTable: { table: SymbolTable; sab: SharedArrayBuffer } | null = null;
function tableForWorkers(t: SymbolTable): SharedArrayBuffer {
  if (sharedTable?.table === t) return sharedTable.sab;
  // with the table's indexes, so that no worker builds them again
  const enc = encodeTable(t, { format: TABLE_FORMAT, kallmodVersion: '', created: '', sources: [], warnings: [] }, [], true);
  const sab = enc.buffer as SharedArrayBuffer;
  sharedTable = { table: t, sab };
  return sab;
}

/**
 * Buffers going round between the main thread and the workers, instead of one made per chunk
 * on each side (pool-worker.ts says why): chunks are read into them, results written into them.
 */
class Spares {
  private readonly free: ArrayBuffer[] = [];
  /** At most `max` kept, each with room for a chunk and what annotation adds (`size`). */
  constructor(private readonly max: number, private readonly size: number) {}

  /** A free buffer of at least n bytes, or null. */
  take(n: number): ArrayBuffer | null {
    for (let i = this.free.length - 1; i >= 0; i--) if (this.free[i]!.byteLength >= n) return this.free.splice(i, 1)[0]!;
    return null;
  }

  /** n bytes to read a chunk into. */
  alloc(n: number): Buffer {
    const ab = this.take(n) ?? new ArrayBuffer(Math.max(n, this.size));
    return Buffer.from(ab, 0, n);
  }

  give(bufs: ArrayBuffer[]): void {
    // a result made to measure (no spare was free) is too small to go round: dropped
    for (const b of bufs) if (this.free.length < this.max && b.byteLength >= this.size) this.free.push(b);
  }
}

interface FileChunk { buf: Buffer; firstLine: number; last: boolean }

async function runPool(o: RunOptions, jobs: number, chunks: Iterable<FileChunk>, spares: Spares): Promise<void> {
  const { Piscina } = await import('piscina');
  const counters = new SharedArrayBuffer(8);
  const pool = new Piscina({
    // by package, not beside this file: this code may run from the CLI bundle (lazy.ts)
    filename: createRequire(import.meta.url).resolve('@kallmod/core/stream/pool-worker'),
    // started as chunks arrive: a short file does not wait for threads it never uses
    minThreads: 1, maxThreads: jobs, idleTimeout: 1000,
    workerData: { table: tableForWorkers(o.table), annotatorModule: o.annotatorModule, opts: o.opts, counters },
  });
  // the result's bytes out; its buffers back to the spares once written
  const write = (r: PoolResult) => {
    if (r.example && !o.table.consistency.example) o.table.consistency.example = r.example;
    return writeAsync(o.output, Buffer.from(r.out.buffer, r.out.byteOffset, r.out.byteLength), () => spares.give(r.buffers));
  };
  try {
    const inflight: Promise<PoolResult>[] = [];
    const maxInflight = 2 * jobs;
    for (const c of chunks) {
      // the result is at least as long as the chunk (annotation only inserts)
      const spare = spares.take(c.buf.length);
      const task: PoolTask = { buf: c.buf, firstLine: c.firstLine, spare, last: c.last };
      inflight.push(pool.run(task, { transferList: spare ? [c.buf.buffer as ArrayBuffer, spare] : [c.buf.buffer as ArrayBuffer] }) as Promise<PoolResult>);
      if (inflight.length >= maxInflight) await write(await inflight.shift()!);
    }
    while (inflight.length) await write(await inflight.shift()!);
  } finally {
    await pool.destroy();
    const c = new Int32Array(counters), t = o.table.consistency;
    t.checked += c[0]!;
    t.disagreed += c[1]!;
  }
}

export type { Annotator };
