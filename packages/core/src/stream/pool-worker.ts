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
const table = new SymbolTable(decodeTable(new Uint8Array(wd.table)).data);
const mod = (await import(wd.annotatorModule)) as AnnotatorModule;
const ann = mod.createAnnotator(table, wd.opts);

export default function annotate(task: { buf: Uint8Array; firstLine: number }): unknown {
  const out = ann.chunk(Buffer.from(task.buf.buffer, task.buf.byteOffset, task.buf.byteLength), task.firstLine);
  const c = table.consistency;
  Atomics.add(counters, 0, c.checked - sentChecked);
  Atomics.add(counters, 1, c.disagreed - sentDisagreed);
  sentChecked = c.checked; sentDisagreed = c.disagreed;
  // transfer, not clone; only an unpooled buffer can be transferred (aesthetics.md §5)
  const own = out.byteOffset === 0 && out.buffer.byteLength === out.length ? out : Buffer.from(out);
  return Piscina.move(new Uint8Array(own.buffer, own.byteOffset, own.byteLength));
}
