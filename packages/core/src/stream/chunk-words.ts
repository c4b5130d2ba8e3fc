/**
 * Where fixed words next occur in a chunk of lines, found with the native Buffer indexOf: each
 * word's next place is looked up once and kept until the lines pass it, so a test "does this
 * line hold the word" costs a comparison, and the chunk is searched once per word (a byte loop
 * over every line, or an indexOf per line that reads on into the lines after it, cost more).
 * Lines must be asked about in order; one that does not start after the last asked starts a
 * new chunk (perhaps in the same, reused, Buffer).
 */
export class ChunkWords {
  private buf: Uint8Array | null = null;
  private last = -1;
  private readonly next: number[];
  private readonly words: Buffer[];
  readonly lengths: number[];

  constructor(words: readonly (string | Buffer)[]) {
    this.words = words.map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : w));
    this.lengths = this.words.map((w) => w.length);
    this.next = this.words.map(() => -1);
  }

  /** Start asking about the line at `start` of buf. */
  line(buf: Buffer, start: number): void {
    if (buf !== this.buf || start <= this.last) { this.buf = buf; this.next.fill(-1); }
    this.last = start;
  }

  /** Where word k next starts at or after the current line's start (Infinity: nowhere). */
  at(k: number, start: number): number {
    let at = this.next[k]!;
    if (at !== Infinity && at < start) {
      at = this.buf === null ? -1 : (this.buf as Buffer).indexOf(this.words[k]!, start);
      this.next[k] = at = at < 0 ? Infinity : at;
    }
    return at;
  }

  /** Whether word k lies wholly within [start, end). */
  within(k: number, start: number, end: number): boolean { return this.at(k, start) + this.lengths[k]! <= end; }
}
