/**
 * A file that blocks like a pipe but is read(2) like a file (trace_pipe), read on a thread of its
 * own into a shared ring, so that the kernel's work in read(2) (trace_pipe formats each event
 * then, a page per call: half the CPU time of a live run) and the annotation run side by side.
 * Read and annotated on one thread, or through the thread pool (an fs stream), a live
 * `kallmod trace --follow` read a third to a half of what `cat` does (BENCHMARKS.md, live trace).
 *
 * The ring is a SharedArrayBuffer: the reader copies each read in and moves `write`; the main
 * thread takes everything there is at once (so a busy main thread annotates in larger pieces,
 * an idle one gets each read at once) and moves `read`. Positions run over twice the capacity,
 * so full and empty differ. `seq` changes on every publish and at the end: the main thread waits
 * on it, so no wake-up between its check and its wait is missed.
 */
import { Worker } from 'node:worker_threads';

const W = 0, R = 1, SEQ = 2, DONE = 3;
// Node 16+ has it; TypeScript's lib types it from es2024 on
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: true; value: Promise<string> } | { async: false; value: string };
}).waitAsync;
const HEADER = 16;

// CommonJS, evaluated (no file to resolve from the CLI bundle)
const READER = `
const { workerData, parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, sab, cap } = workerData;
const hdr = new Int32Array(sab, 0, 4);
const ring = new Uint8Array(sab, ${HEADER}, cap);
const buf = Buffer.allocUnsafeSlow(1 << 16);
const span = 2 * cap;
try {
  for (;;) {
    let n;
    try { n = readSync(fd, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EINTR') continue; throw e; }
    if (n === 0) break;
    let w = Atomics.load(hdr, ${W});
    for (;;) {
      const r = Atomics.load(hdr, ${R});
      if (cap - ((w - r + span) % span) >= n) break;
      Atomics.wait(hdr, ${R}, r); // full: the main thread is behind, the kernel's buffer holds the rest
    }
    const at = w % cap, first = Math.min(n, cap - at);
    ring.set(buf.subarray(0, first), at);
    if (first < n) ring.set(buf.subarray(first, n), 0);
    Atomics.store(hdr, ${W}, (w + n) % span);
    Atomics.add(hdr, ${SEQ}, 1);
    Atomics.notify(hdr, ${SEQ});
  }
} catch (e) {
  parentPort.postMessage({ code: e.code, message: e.message });
}
Atomics.store(hdr, ${DONE}, 1);
Atomics.add(hdr, ${SEQ}, 1);
Atomics.notify(hdr, ${SEQ});
`;

/**
 * The bytes of `fd` as they arrive, in pieces of whatever has arrived (each at most `cap`),
 * until end of file; a read error is thrown (its errno code on the error).
 */
export async function* blockingReads(fd: number, cap = 4 << 20): AsyncGenerator<Buffer> {
  const sab = new SharedArrayBuffer(HEADER + cap);
  const hdr = new Int32Array(sab, 0, 4);
  const ring = new Uint8Array(sab, HEADER, cap);
  const span = 2 * cap;
  const worker = new Worker(READER, { eval: true, workerData: { fd, sab, cap } });
  let failure: { code?: string; message: string } | null = null;
  worker.on('message', (m: { code?: string; message: string }) => { failure = m; });
  const exited = new Promise<void>((res) => worker.once('exit', () => res()));
  // a worker that cannot start at all
  worker.once('error', (e) => { failure = { message: e.message }; Atomics.store(hdr, DONE, 1); Atomics.add(hdr, SEQ, 1); Atomics.notify(hdr, SEQ); });
  try {
    for (;;) {
      const seq = Atomics.load(hdr, SEQ);
      const w = Atomics.load(hdr, W), r = Atomics.load(hdr, R);
      if (w === r) {
        if (Atomics.load(hdr, DONE)) break;
        const wait = waitAsync(hdr, SEQ, seq);
        if (wait.async) await wait.value;
        continue;
      }
      const n = (w - r + span) % span, at = r % cap, first = Math.min(n, cap - at);
      const out = Buffer.allocUnsafe(n);
      out.set(ring.subarray(at, at + first), 0);
      if (first < n) out.set(ring.subarray(0, n - first), first);
      Atomics.store(hdr, R, w);
      Atomics.notify(hdr, R);
      yield out;
    }
    await exited;
    if (failure) {
      const f: { code?: string; message: string } = failure;
      throw Object.assign(new Error(f.message), f.code ? { code: f.code } : {});
    }
  } finally {
    // ended early (an error downstream): the reader may sit in read(2); it must not keep us alive
    worker.unref();
  }
}
