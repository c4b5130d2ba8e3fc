/**
 * A memo of per-line annotations by the line's bytes: kernel text repeats the same lines (a
 * stack frame, `func <-parent` of a traced hot path, an oops frame) apart from the counters in
 * their prefix (timestamp, pid, CPU). The key is the line's bytes with the digits of a prefix
 * the transformer names mapped to `0`: the transformer promises that its recogniser reads those
 * digits only by class (`\d`), so two lines with the same key get the same insertions.
 *
 * An entry holds the insertions and the consistency checks (SymbolTable.noteCheck) made while
 * resolving the line the first time; a hit replays the checks, so that the counts and the
 * warning on stderr are those of resolving every line.
 */
import type { CheckRecord, SymbolTable } from '../table/symbol-table.js';
import type { OutBuffer } from './out-buffer.js';

export interface MemoEntry {
  key: Uint8Array;
  /** Insertion points, relative to the line's start, ascending. */
  offsets: number[];
  /** The text inserted at each point, as bytes. */
  texts: Buffer[];
  checks: CheckRecord[];
  /** The texts' total length. */
  textBytes: number;
  /** find()'s hash of the key: a slot's other lines are told apart before a byte is compared. */
  hash: number;
}

/** Longer lines are not memoised (their key would cost more to keep than to recompute). */
export const MEMO_MAX_LINE = 512;
const SLOTS = 1 << 14;

function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

export class LineMemo {
  // direct-mapped: a collision replaces the older entry (memory stays constant on any input)
  private readonly slots: (MemoEntry | undefined)[] = new Array(SLOTS);
  private hash = 0;
  // the hash last seen per slot (an admission filter: a line is stored when seen again)
  private readonly seen = new Uint32Array(SLOTS);

  /**
   * The entry that may be buf[start, end)'s (digits of [start, maskEnd) masked), or null: the
   * slot is picked by a sample of the bytes (every 4th of the line, and the 16 after the mask and
   * the last 16 whole), and `write` checks every byte while it copies the line.
   */
  find(buf: Uint8Array, start: number, end: number, maskEnd: number): MemoEntry | null {
    let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
    for (let i = start; i < maskEnd; i += 4) { const c = buf[i]!; h = Math.imul(h ^ (c >= 48 && c <= 57 ? 48 : c), 0x01000193); }
    const a = Math.min(end, maskEnd + 16), b = Math.max(a, end - 16);
    for (let i = maskEnd; i < a; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    for (let i = a; i < b; i += 4) h = Math.imul(h ^ buf[i]!, 0x01000193);
    for (let i = b; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h = (h ^ (h >>> 15)) >>> 0;
    this.hash = h;
    const e = this.slots[h & (SLOTS - 1)];
    return e && e.hash === h && e.key.length === end - start ? e : null;
  }

  /**
   * Write buf[start, end) with e's insertions to out if the line is e's key, byte for byte
   * (checked as it is copied: one pass); else write nothing and return false.
   */
  static write(out: OutBuffer, buf: Uint8Array, start: number, end: number, maskEnd: number, e: MemoEntry): boolean {
    const o0 = out.length;
    const dst = out.reserve(end - start + e.textBytes);
    const k = e.key, offs = e.offsets, texts = e.texts;
    let o = o0, i = start, j = 0;
    for (let n = 0; n <= offs.length; n++) {
      const stop = n < offs.length ? start + offs[n]! : end;
      for (; i < stop; i++, j++) {
        const c = buf[i]!;
        if (k[j] !== (i < maskEnd && c >= 48 && c <= 57 ? 48 : c)) return false;
        dst[o++] = c;
      }
      if (n < offs.length) { const t = texts[n]!; for (let x = 0; x < t.length; x++) dst[o++] = t[x]!; }
    }
    out.commit(o);
    return true;
  }

  /**
   * Store what the line just looked up with find() got (same buf, start, end, maskEnd): from
   * its second time on. A line seen once (most lines of an event trace, whose pointers and
   * counters are in the payload) costs its hash only, not a key, an entry and their collection.
   */
  store(buf: Uint8Array, start: number, end: number, maskEnd: number, ins: readonly (readonly [number, string])[] | null, checks: CheckRecord[]): void {
    const slot = this.hash & (SLOTS - 1);
    if (this.seen[slot] !== this.hash) { this.seen[slot] = this.hash; return; }
    const key = new Uint8Array(end - start);
    for (let i = start, j = 0; i < end; i++, j++) { const c = buf[i]!; key[j] = i < maskEnd && isDigit(c) ? 48 : c; }
    const offsets: number[] = [], texts: Buffer[] = [];
    if (ins) for (const [o, t] of ins) { offsets.push(o); texts.push(Buffer.from(t, 'utf8')); }
    let textBytes = 0;
    for (const t of texts) textBytes += t.length;
    this.slots[slot] = { key, offsets, texts, checks, textBytes, hash: this.hash };
  }

  /** A hit: the checks its first resolution made, made again. */
  static replay(table: SymbolTable, e: MemoEntry): void {
    const c = e.checks;
    for (let i = 0; i < c.length; i++) table.noteCheck(c[i]![0], c[i]![1]);
  }
}
