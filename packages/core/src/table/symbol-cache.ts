/**
 * A per-symbol memo (annotation text, hex address, name bytes), in pages made on first use.
 * One filled array per memo cost ~0.5 ms and 1.3 MB of every start-up on a 160k-symbol table,
 * for runs that may touch ten symbols; a sparse array instead falls into V8's slow dictionary
 * elements. Reading costs one more load than a flat array.
 */
const PAGE_BITS = 9;
const PAGE = 1 << PAGE_BITS;
const EMPTY: readonly undefined[] = Object.freeze(new Array<undefined>(PAGE).fill(undefined));

export class SymbolCache<T> {
  private readonly pages: (T | undefined)[][];

  constructor(symbols: number) {
    this.pages = new Array<(T | undefined)[]>((symbols + PAGE - 1) >> PAGE_BITS).fill(EMPTY as (T | undefined)[]);
  }

  get(i: number): T | undefined { return this.pages[i >> PAGE_BITS]![i & (PAGE - 1)]; }

  set(i: number, v: T): T {
    let p = this.pages[i >> PAGE_BITS]!;
    if (p === EMPTY) p = this.pages[i >> PAGE_BITS] = new Array<T | undefined>(PAGE).fill(undefined);
    p[i & (PAGE - 1)] = v;
    return v;
  }
}
