/** Piscina worker: decodes the shared table once, then annotates chunks with the same code as inline. */
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { decodeTable } from '../table/snapshot.js';
import { SymbolTable } from '../table/symbol-table.js';
import type { AnnotatorModule, AnnotatorOptions } from './annotator.js';

const wd = workerData as { table: SharedArrayBuffer; annotatorModule: string; opts: AnnotatorOptions; counters: SharedArrayBuffer };
// this thread's checks of printed text against the table, summed into the main thread's
const counters = new Int32Array(wd.counters);
let sentChecked = 0, sentDisagreed = 0;
const table = new SymbolTable(decodeTable(new Uint8Array(wd.table), '(worker copy)', { trusted: true }).data);
const mod = (await import(wd.annotatorModule)) as AnnotatorModule;
const ann = mod.createAnnotator(table, wd.opts);

/** A chunk to annotate, and a buffer of an earlier result (written out by now) to reuse. */
export interface PoolTask { buf: Uint8Array; firstLine: number; spare: ArrayBuffer | null; last: boolean }
/** The output (a view of one of `buffers`) and every buffer this task had: all go back to main. */
export interface PoolResult {
  out: Uint8Array; buffers: ArrayBuffer[];
  /** This chunk's first disagreeing reference: main keeps the first in file order, as one thread would. */
  example?: string;
}

export default function annotate(task: PoolTask): unknown {
  const input = Buffer.from(task.buf.buffer, task.buf.byteOffset, task.buf.byteLength);
  const spare = task.spare ? Buffer.from(task.spare) : undefined;
  let out = ann.chunk(input, task.firstLine, spare);
  // the file's last chunk: this thread's annotator holds the input's last open record
  if (task.last && ann.end) out = Buffer.concat([out, ann.end()]);
  const c = table.consistency;
  Atomics.add(counters, 0, c.checked - sentChecked);
  Atomics.add(counters, 1, c.disagreed - sentDisagreed);
  sentChecked = c.checked; sentDisagreed = c.disagreed;
  const example = c.example;
  c.example = '';
  // Buffers circulate between main and the workers instead of one being made per chunk: dead
  // ArrayBuffers pile up between garbage collections, ~50 MB in each thread (measured), which
  // put a 2-worker run at ~280 MB. Transferred, not cloned (aesthetics.md §5); a buffer of
  // node's shared pool must not be transferred, so a result there is copied out first.
  const buffers: ArrayBuffer[] = [task.buf.buffer as ArrayBuffer];
  if (task.spare) buffers.push(task.spare);
  if (!buffers.includes(out.buffer as ArrayBuffer)) {
    if (out.byteOffset !== 0 || out.buffer.byteLength !== out.length) {
      const own = Buffer.allocUnsafeSlow(out.length);
      out.copy(own);
      out = own;
    }
    buffers.push(out.buffer as ArrayBuffer);
  }
  const result: PoolResult = { out: new Uint8Array(out.buffer, out.byteOffset, out.length), buffers, ...(example ? { example } : {}) };
  // piscina's Transferable protocol: transfer `buffers`, send `result`
  const movable = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: result };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]);
}
