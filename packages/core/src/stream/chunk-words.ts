/**
 * Where fixed words next occur in a chunk of lines, found with the native Buffer indexOf: each
 * word's next place is looked up once and kept until the lines pass it, so a test "does this
 * line hold the word" costs a comparison, and the chunk is searched once per word (a byte loop
 * over every line, or an indexOf per line that reads on into the lines after it, cost more).
 * Lines must be asked about in order; one that does not start after the last asked starts a
 * new chunk (perhaps in the same, reused, Buffer).
 *
 * A word may be searched by its tail from `anchor` on, its first bytes then checked: indexOf
 * stops at each place its first byte occurs, and a word starting with a space or `[` (in every
 * line of a log) was 2-4x slower to find than by a tail that starts with a rarer byte.
 */
export class ChunkWords {
  private buf: Uint8Array | null = null;
  private last = -1;
  private readonly next: number[];
  private readonly words: Buffer[];
  private readonly tails: Buffer[];
  private readonly anchors: number[];
  readonly lengths: number[];

  constructor(words: readonly (string | Buffer)[], anchors: readonly number[] = []) {
    this.words = words.map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : w));
    this.anchors = this.words.map((_, k) => anchors[k] ?? 0);
    this.tails = this.words.map((w, k) => w.subarray(this.anchors[k]));
    this.lengths = this.words.map((w) => w.length);
    this.next = this.words.map(() => -1);
  }

  private find(k: number, start: number): number {
    const buf = this.buf as Buffer, w = this.words[k]!, a = this.anchors[k]!;
    for (let q = buf.indexOf(this.tails[k]!, start + a); q >= 0; q = buf.indexOf(this.tails[k]!, q + 1)) {
      let i = 0;
      while (i < a && buf[q - a + i] === w[i]) i++;
      if (i === a) return q - a;
    }
    return -1;
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
      at = this.buf === null ? -1 : this.find(k, start);
      this.next[k] = at = at < 0 ? Infinity : at;
    }
    return at;
  }

  /** Whether word k lies wholly within [start, end). */
  within(k: number, start: number, end: number): boolean { return this.at(k, start) + this.lengths[k]! <= end; }
}
