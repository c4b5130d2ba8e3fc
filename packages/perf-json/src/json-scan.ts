/**
 * A byte-level streaming pass over `perf data convert --to-json` output that finds every
 * object directly inside a `"callchain": [...]` array and hands it, whole, to `onEntry`; all
 * other bytes are copied as they are. Only structure is tracked (strings skipped, a stack of
 * containers, whether the last key was "callchain"), so memory is one callchain entry,
 * whatever the file size.
 *
 * Why not stream-json's JSONC parser→stringer: measured here on a 15 MB perf JSON it gives
 * 18–25 MB/s (the parser alone 57 MB/s at its best chunk size) against the 50 MB/s goal, and
 * its stringer re-escapes strings (`\/`, `\u00e9`, C1 controls) and cannot carry invalid
 * UTF-8, which perf writes raw. Copying the input bytes keeps every byte by construction.
 */
import { OutBuffer } from '@kallmod/core/stream/out-buffer';

const OBJ = 0, ARR = 1, CALLCHAIN = 2;
const CALLCHAIN_KEY = Buffer.from('callchain');
/** A sample's fields before its callchain (timestamp, pid, tid, cpu, comm, ...) are a few dozen bytes: at most this much is kept. */
const MAX_HEAD = 1 << 16;

/**
 * Samples rather than entries (`kallmod report`, `kallmod flame`): `start` gets the bytes of the
 * sample object up to its callchain (`{ "timestamp": ..., "comm": "dd",`, cut at MAX_HEAD), `end`
 * runs when the callchain closes; the entries come between them, to onEntry.
 */
export interface CallchainHooks { start(head: Buffer): void; end(): void }

export class CallchainScanner {
  private readonly stack = new Uint8Array(4096);
  private depth = 0;
  private expectKey = false;
  private inString = false;
  private stringIsKey = false;
  private escaped = false;          // the string's last byte so far was an unpaired backslash
  private keyMatch = 0;             // bytes of "callchain" matched so far by the current key, -1 no match
  private lastKeyIsCallchain = false;
  private entryDepth = -1;          // stack depth of the entry object being captured, -1 none
  private entry: Buffer[] = [];
  private lines = 0;                // newlines before the current chunk (--refs line numbers)
  private entryLine = 0;
  private readonly out = new OutBuffer(1 << 20);
  private readonly countLines: boolean;
  private readonly passthrough: boolean;
  private headStart = -1;            // offset in this chunk of the open sample object's "{", -1 none
  private head: Buffer[] = [];       // its bytes from earlier chunks
  private headLen = 0;

  /** `refs`: count lines for onEntry, and output only what onEntry returns. */
  constructor(
    private readonly onEntry: (entry: Buffer, line: number, out: OutBuffer) => void,
    refs = false,
    private readonly hooks: CallchainHooks | null = null,
  ) {
    this.countLines = refs;
    this.passthrough = !refs;
  }

  /** Feed bytes; returns the output bytes that are final so far. */
  push(buf: Buffer): Buffer {
    const out = this.out;
    const len = buf.length;
    const stack = this.stack;
    let depth = this.depth, expectKey = this.expectKey;
    let copyFrom = 0;          // start of the run not yet written (or captured)
    let nl = 0, counted = 0;
    let i = 0;
    if (this.inString) i = this.finishString(buf, 0);
    while (i < len) {
      const c = buf[i]!;
      if (c === 34) { // "
        this.stringIsKey = expectKey && stack[depth - 1] === OBJ;
        this.keyMatch = 0;
        this.escaped = false;
        this.inString = true;
        i = this.finishString(buf, i + 1);
        continue;
      }
      if (c === 123) { // {
        const top = stack[depth - 1];
        stack[depth++] = OBJ;
        expectKey = true;
        if (this.hooks && top === ARR) { this.headStart = i; this.head = []; this.headLen = 0; }
        if (top === CALLCHAIN && this.entryDepth < 0) {
          if (this.passthrough) out.bytes(buf, copyFrom, i);
          copyFrom = i;
          this.entryDepth = depth;
          if (this.countLines) { nl += countNl(buf, counted, i); counted = i; this.entryLine = this.lines + nl + 1; }
        }
      } else if (c === 91) { // [
        stack[depth] = stack[depth - 1] === OBJ && this.lastKeyIsCallchain ? CALLCHAIN : ARR;
        if (this.hooks && stack[depth] === CALLCHAIN) this.startSample(buf, i);
        depth++;
        expectKey = false;
      } else if (c === 125 || c === 93) { // } ]
        if (c === 125 && depth === this.entryDepth) {
          let whole = buf.subarray(copyFrom, i + 1);
          if (this.entry.length) { this.entry.push(whole); whole = Buffer.concat(this.entry); this.entry = []; }
          this.onEntry(whole, this.entryLine, out);
          this.entryDepth = -1;
          copyFrom = i + 1;
        }
        if (depth > 0) depth--;
        if (this.hooks && c === 93 && stack[depth] === CALLCHAIN) this.hooks.end();
        expectKey = false;
      } else if (c === 44) expectKey = stack[depth - 1] === OBJ; // ,
      else if (c === 58) expectKey = false; // :
      i++;
    }
    this.depth = depth; this.expectKey = expectKey;
    // a sample object open at the chunk's end: its head goes on in the next chunk, from byte 0
    if (this.headStart >= 0) { this.keepHead(buf.subarray(this.headStart, len)); this.headStart = 0; }
    if (this.entryDepth >= 0) {
      // an entry spans the chunk boundary: keep its bytes (a copy: the chunk may be reused)
      this.entry.push(Buffer.from(buf.subarray(copyFrom, len)));
    } else if (this.passthrough) out.bytes(buf, copyFrom, len);
    if (this.countLines) this.lines += nl + countNl(buf, counted, len);
    return out.take();
  }

  /** The callchain of the sample object being read opens at buf[i]: its head to the hooks. */
  private startSample(buf: Buffer, i: number): void {
    if (this.headStart >= 0) this.keepHead(buf.subarray(this.headStart, i));
    const h = Buffer.concat(this.head, this.headLen);
    this.head = []; this.headLen = 0; this.headStart = -1;
    this.hooks!.start(h);
  }

  private keepHead(b: Buffer): void {
    if (this.headLen >= MAX_HEAD) return;
    const part = Buffer.from(b.subarray(0, MAX_HEAD - this.headLen));
    this.head.push(part); this.headLen += part.length;
  }

  /** End of input: whatever is still held (a truncated entry passes through unchanged). */
  end(): Buffer {
    const rest = this.passthrough ? Buffer.concat(this.entry) : Buffer.alloc(0);
    this.entry = [];
    this.entryDepth = -1;
    return rest;
  }

  /** Skip string bytes from i; returns the index after its closing quote (or len). */
  private finishString(buf: Buffer, i: number): number {
    const len = buf.length;
    let p = i;
    // an escape's second byte may be in the next buffer (which may also be empty)
    if (this.escaped) { if (p >= len) return len; this.escaped = false; p++; }
    const isKey = this.stringIsKey;
    for (; p < len; p++) {
      const c = buf[p]!;
      if (c === 34) {
        this.inString = false;
        if (isKey) this.lastKeyIsCallchain = this.keyMatch === CALLCHAIN_KEY.length;
        return p + 1;
      }
      if (isKey && this.keyMatch >= 0) this.keyMatch = CALLCHAIN_KEY[this.keyMatch] === c ? this.keyMatch + 1 : -1;
      if (c === 92) { if (p + 1 >= len) { this.escaped = true; return len; } p++; if (isKey) this.keyMatch = -1; }
    }
    return len;
  }
}

function countNl(b: Buffer, start: number, end: number): number {
  let n = 0;
  for (let p = b.indexOf(10, start); p >= 0 && p < end; p = b.indexOf(10, p + 1)) n++;
  return n;
}
