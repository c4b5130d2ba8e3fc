/**
 * Symbol names as slices of one string, materialised only when asked for. Creating 160k name
 * strings (and collecting them) was half of kallmod's start-up; an address lookup needs one.
 */
export class NameStore implements Iterable<string> {
  constructor(
    /** All names' characters (latin1 file text, or a joined blob). */
    readonly text: string,
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
  ) {}

  get length(): number { return this.starts.length; }

  get(i: number): string { return this.text.slice(this.starts[i]!, this.ends[i]!); }

  /** True when name i equals s, without creating the string. */
  equals(i: number, s: string): boolean {
    const a = this.starts[i]!, e = this.ends[i]!;
    if (e - a !== s.length) return false;
    return this.text.startsWith(s, a);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.starts.length; i++) yield this.get(i);
  }

  /** The names in another order (order[j] = old index of new j). */
  permute(order: ArrayLike<number> | null): NameStore {
    if (!order) return this;
    const n = order.length, s = new Uint32Array(n), e = new Uint32Array(n);
    for (let j = 0; j < n; j++) { const i = order[j]!; s[j] = this.starts[i]!; e[j] = this.ends[i]!; }
    return new NameStore(this.text, s, e);
  }

  static fromArray(names: readonly string[]): NameStore {
    const s = new Uint32Array(names.length), e = new Uint32Array(names.length);
    let off = 0;
    names.forEach((nm, i) => { s[i] = off; off += nm.length; e[i] = off; });
    return new NameStore(names.join(''), s, e);
  }

  /** Compact form for snapshots: the names' text (only the used parts) and end offsets. */
  compact(): { text: string; ends: Uint32Array } {
    const n = this.length, ends = new Uint32Array(n);
    const parts: string[] = [];
    let off = 0;
    for (let i = 0; i < n; i++) { const x = this.get(i); parts.push(x); off += x.length; ends[i] = off; }
    return { text: parts.join(''), ends };
  }

  static fromCompact(text: string, ends: Uint32Array): NameStore {
    const starts = new Uint32Array(ends.length);
    // a copy, not a loop: this runs once per start-up, as cold code (~2 ms as a loop)
    if (ends.length > 1) starts.set(ends.subarray(0, ends.length - 1), 1);
    return new NameStore(text, starts, ends);
  }

  /** FNV-1a of name i, from the text (no string made). */
  hash(i: number): number {
    const t = this.text, e = this.ends[i]!;
    let h = 0x811c9dc5;
    for (let p = this.starts[i]!; p < e; p++) h = Math.imul(h ^ t.charCodeAt(p), 0x01000193);
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
    const st = this.names.starts[i]!, len = this.names.ends[i]! - st, t = this.names.text;
    const name = t.slice(st, st + len);
    for (let j = this.heads[this.names.hash(i) & this.mask]!; j >= 0; j = this.next[j]!) {
      if (j === i) { out.push(j); continue; }
      const sj = this.names.starts[j]!;
      if (this.names.ends[j]! - sj === len && t.startsWith(name, sj)) out.push(j);
    }
    return out;
  }
}
