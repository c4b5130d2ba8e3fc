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
    for (let i = 1; i < ends.length; i++) starts[i] = ends[i - 1]!;
    return new NameStore(text, starts, ends);
  }
}
