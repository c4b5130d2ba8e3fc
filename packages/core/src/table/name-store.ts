/**
 * Symbol names as slices of one text, materialised only when asked for. Creating 160k name
 * strings (and collecting them) was half of kallmod's start-up; an address lookup needs one.
 *
 * The text is a latin1 string (names joined) or bytes: a kallsyms or System.map file's own, or
 * a snapshot's (a 4-7 MB string made from bytes cost ~2-6 ms, and a full GC of ~2.5 ms before
 * the first line of output). Names are ASCII, so string offsets and byte offsets agree.
 */
export class NameStore implements Iterable<string> {
  private constructor(
    private readonly str: string | null,
    private readonly bytes: Buffer | null,
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
  ) {}

  /** Over a latin1 text (e.g. a whole kallsyms file) with each name's [start, end). */
  static ofText(text: string, starts: Uint32Array, ends: Uint32Array): NameStore { return new NameStore(text, null, starts, ends); }

  get length(): number { return this.starts.length; }

  get(i: number): string {
    const a = this.starts[i]!, e = this.ends[i]!;
    return this.str !== null ? this.str.slice(a, e) : this.bytes!.toString('latin1', a, e);
  }

  /** True when name i equals s, without creating the string. */
  equals(i: number, s: string): boolean {
    const a = this.starts[i]!, e = this.ends[i]!;
    if (e - a !== s.length) return false;
    if (this.str !== null) return this.str.startsWith(s, a);
    const b = this.bytes!;
    for (let k = 0; k < s.length; k++) if (b[a + k] !== s.charCodeAt(k)) return false;
    return true;
  }

  /** True when names i and j are equal. */
  same(i: number, j: number): boolean {
    const a = this.starts[i]!, n = this.ends[i]! - a, c = this.starts[j]!;
    if (this.ends[j]! - c !== n) return false;
    if (this.str !== null) return this.str.startsWith(this.str.slice(a, a + n), c);
    const b = this.bytes!;
    for (let k = 0; k < n; k++) if (b[a + k] !== b[c + k]) return false;
    return true;
  }

  /** True when name i begins with the (ASCII) prefix p. */
  hasPrefix(i: number, p: string): boolean {
    const a = this.starts[i]!;
    if (this.ends[i]! - a < p.length) return false;
    if (this.str !== null) return this.str.startsWith(p, a);
    const b = this.bytes!;
    for (let k = 0; k < p.length; k++) if (b[a + k] !== p.charCodeAt(k)) return false;
    return true;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.starts.length; i++) yield this.get(i);
  }

  /** Code of name i's first character (NaN when empty): a cheap first test before hasPrefix. */
  charAt0(i: number): number {
    const a = this.starts[i]!;
    if (a >= this.ends[i]!) return NaN;
    return this.str !== null ? this.str.charCodeAt(a) : this.bytes![a]!;
  }

  /** The names in another order (order[j] = old index of new j; j < same: j itself). */
  permute(order: ArrayLike<number> | null, same = 0): NameStore {
    if (!order) return this;
    const n = order.length, s = new Uint32Array(n), e = new Uint32Array(n);
    s.set(this.starts.subarray(0, same)); e.set(this.ends.subarray(0, same));
    for (let j = same; j < n; j++) { const i = order[j]!; s[j] = this.starts[i]!; e[j] = this.ends[i]!; }
    return new NameStore(this.str, this.bytes, s, e);
  }

  static fromArray(names: readonly string[]): NameStore {
    const s = new Uint32Array(names.length), e = new Uint32Array(names.length);
    let off = 0;
    names.forEach((nm, i) => { s[i] = off; off += nm.length; e[i] = off; });
    return new NameStore(names.join(''), null, s, e);
  }

  /** Compact form for snapshots: the names' bytes (only the used parts), and end offsets. */
  compact(): { bytes: Buffer; ends: Uint32Array } {
    const n = this.length, ends = new Uint32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) { total += this.ends[i]! - this.starts[i]!; ends[i] = total; }
    const out = Buffer.allocUnsafe(total);
    for (let i = 0, at = 0; i < n; i++) {
      const a = this.starts[i]!, e = this.ends[i]!;
      if (this.str !== null) out.write(this.str.slice(a, e), at, 'latin1'); else this.bytes!.copy(out, at, a, e);
      at += e - a;
    }
    return { bytes: out, ends };
  }

  /** Over a snapshot's compact bytes (no copy). */
  static fromCompact(bytes: Buffer, ends: Uint32Array): NameStore {
    const starts = new Uint32Array(ends.length);
    // a copy, not a loop: this runs once per start-up, as cold code (~2 ms as a loop)
    if (ends.length > 1) starts.set(ends.subarray(0, ends.length - 1), 1);
    return new NameStore(null, bytes, starts, ends);
  }

  /** FNV-1a of name i, from the text (no string made). */
  hash(i: number): number {
    const e = this.ends[i]!;
    let h = 0x811c9dc5;
    if (this.str !== null) {
      const t = this.str;
      for (let p = this.starts[i]!; p < e; p++) h = Math.imul(h ^ t.charCodeAt(p), 0x01000193);
    } else {
      const b = this.bytes!;
      for (let p = this.starts[i]!; p < e; p++) h = Math.imul(h ^ b[p]!, 0x01000193);
    }
    return h >>> 0;
  }

  static hashString(s: string): number {
    let h = 0x811c9dc5;
    for (let p = 0; p < s.length; p++) h = Math.imul(h ^ s.charCodeAt(p), 0x01000193);
    return h >>> 0;
  }
}

/**
 * Name → indices without a Map of 160k strings: chained hashing over the NameStore's text
 * (building a Map made name lookups cost 40 ms of start-up; this is a few ms).
 */
export class NameIndex {
  readonly heads: Int32Array;
  readonly next: Int32Array;
  private readonly mask: number;

  /** Build over `names`, or adopt arrays built earlier (a snapshot carries them). */
  constructor(private readonly names: NameStore, built?: { heads: Int32Array; next: Int32Array }) {
    if (built && built.next.length === names.length && built.heads.length >= 1024 && (built.heads.length & (built.heads.length - 1)) === 0) {
      this.heads = built.heads; this.next = built.next; this.mask = built.heads.length - 1;
      return;
    }
    const n = names.length;
    let size = 1024;
    while (size < 2 * n) size *= 2;
    this.mask = size - 1;
    this.heads = new Int32Array(size).fill(-1);
    this.next = new Int32Array(n);
    // backwards, so that every chain lists indices in ascending (address) order
    for (let i = n - 1; i >= 0; i--) {
      const h = names.hash(i) & this.mask;
      this.next[i] = this.heads[h]!;
      this.heads[h] = i;
    }
  }

  /** Every index whose name is `name`, ascending. */
  find(name: string): number[] {
    const out: number[] = [];
    for (let i = this.heads[NameStore.hashString(name) & this.mask]!; i >= 0; i = this.next[i]!) if (this.names.equals(i, name)) out.push(i);
    return out;
  }

  /** Every index with the same name as index i (i included), ascending. */
  sameName(i: number): number[] {
    const out: number[] = [];
    for (let j = this.heads[this.names.hash(i) & this.mask]!; j >= 0; j = this.next[j]!) if (j === i || this.names.same(i, j)) out.push(j);
    return out;
  }
}
