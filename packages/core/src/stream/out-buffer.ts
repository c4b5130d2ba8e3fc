/**
 * A growable output Buffer for the hot loops: unchanged input is copied in runs, annotations
 * appended as ASCII/UTF-8, and the result taken once per chunk (one write per chunk).
 */
export class OutBuffer {
  private buf: Buffer;
  private len = 0;

  constructor(capacity = 1 << 16) { this.buf = Buffer.allocUnsafe(capacity); }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + need) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** Append src[start, end). */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.len + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let o = this.len;
    // short runs (a line, a few words) by hand: subarray + set made an object per call, and
    // the hot loops copy one run per annotation
    if (n <= 64) for (let i = start; i < end; i++) b[o++] = src[i]!;
    else b.set(n < src.length ? src.subarray(start, end) : src, o);
    this.len += n;
  }

  /** Append a string as UTF-8 (annotations are ASCII). */
  str(s: string): void {
    const max = s.length * 3;
    if (this.len + max > this.buf.length) this.grow(max);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  get length(): number { return this.len; }

  /** Room for n more bytes: the buffer to write them into from `length` on (then `commit`). */
  reserve(n: number): Buffer {
    if (this.len + n > this.buf.length) this.grow(n);
    return this.buf;
  }

  /** The bytes written into reserve()'s buffer up to `len` are part of the output. */
  commit(len: number): void { this.len = len; }

  /** The bytes written so far, copied (the internal buffer is reused) into `into` when it fits. */
  take(into?: Buffer): Buffer {
    const out = into && into.length >= this.len ? into.subarray(0, this.len) : Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    return out;
  }
}
