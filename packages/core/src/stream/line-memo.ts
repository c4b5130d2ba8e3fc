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
  /** How many of the key's first bytes had their digits masked. */
  maskLen: number;
  /**
   * The entry of the line that came right after this one the last time (null: none, or a line
   * that was no entry): kernel text repeats runs of lines (a stack trace, an oops, a hot path's
   * calls), and the next line is tried against it first (`writeNext`), without finding its end,
   * asking the transformer's MemoPrefix or hashing it.
   */
  next: MemoEntry | null;
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
   * slot is picked by a hash of every byte (two lanes, so that the multiplications do not wait
   * on each other), and `write` checks every byte while it copies the line. (A hash of every
   * 4th byte gave lines that differ in one digit of their payload one slot and one hash, and
   * those lines, taking turns, were never stored.)
   */
  find(buf: Uint8Array, start: number, end: number, maskEnd: number): MemoEntry | null {
    let a = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193), b = 0x27d4eb2f;
    let i = start;
    const m = Math.min(maskEnd, end);
    for (; i < m; i++) { const c = buf[i]!; a = Math.imul(a ^ (c >= 48 && c <= 57 ? 48 : c), 0x01000193); }
    for (; i + 1 < end; i += 2) { a = Math.imul(a ^ buf[i]!, 0x01000193); b = Math.imul(b ^ buf[i + 1]!, 0x01000193); }
    if (i < end) a = Math.imul(a ^ buf[i]!, 0x01000193);
    let h = a ^ Math.imul(b, 0x9e3779b1);
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
    let o = o0, i = start;
    // the masked digits first (insertions are never among them: they follow a symbol)
    const m = Math.min(maskEnd, end);
    for (; i < m; i++) {
      const c = buf[i]!;
      if (k[i - start] !== (c >= 48 && c <= 57 ? 48 : c)) return false;
      dst[o++] = c;
    }
    for (let n = 0; n <= offs.length; n++) {
      const stop = n < offs.length ? start + offs[n]! : end;
      for (let j = i - start; i < stop; i++, j++) {
        const c = buf[i]!;
        if (k[j] !== c) return false;
        dst[o++] = c;
      }
      if (n < offs.length) { const t = texts[n]!; for (let x = 0; x < t.length; x++) dst[o++] = t[x]!; }
    }
    out.commit(o);
    return true;
  }

  /**
   * write() for the line at `start` of buf[.., len) if it is e's key (its end not known yet):
   * the key's bytes followed by a newline or by the end of buf. The same MemoPrefix answer is
   * implied: it reads the digits of the masked part only by class (annotator.ts MemoPrefix).
   * Returns the line's end (its newline's offset, or len), or -1 (nothing written).
   */
  static writeNext(out: OutBuffer, buf: Uint8Array, start: number, len: number, e: MemoEntry): number {
    const end = start + e.key.length;
    if (end > len || (end < len && buf[end] !== 10)) return -1;
    return LineMemo.write(out, buf, start, end, start + e.maskLen, e) ? end : -1;
  }

  /**
   * Store what the line just looked up with find() got (same buf, start, end, maskEnd): from
   * its second time on. A line seen once (most lines of an event trace, whose pointers and
   * counters are in the payload) costs its hash only, not a key, an entry and their collection.
   */
  store(
    buf: Uint8Array, start: number, end: number, maskEnd: number, ins: readonly (readonly [number, string])[] | null, checks: CheckRecord[],
  ): MemoEntry | null {
    const slot = this.hash & (SLOTS - 1);
    if (this.seen[slot] !== this.hash) { this.seen[slot] = this.hash; return null; }
    if (ins && ins.length && ins[0]![0] < maskEnd - start) return null; // write() copies the masked part whole first
    const key = new Uint8Array(end - start);
    for (let i = start, j = 0; i < end; i++, j++) { const c = buf[i]!; key[j] = i < maskEnd && isDigit(c) ? 48 : c; }
    const offsets: number[] = [], texts: Buffer[] = [];
    if (ins) for (const [o, t] of ins) { offsets.push(o); texts.push(Buffer.from(t, 'utf8')); }
    let textBytes = 0;
    for (const t of texts) textBytes += t.length;
    const e: MemoEntry = { key, offsets, texts, checks, textBytes, hash: this.hash, maskLen: maskEnd - start, next: null };
    // what an entry replaced links to is let go: entries reachable through `next` stay within
    // twice the slots, whatever the input
    const old = this.slots[slot];
    if (old) old.next = null;
    this.slots[slot] = e;
    return e;
  }

  /** A hit: the checks its first resolution made, made again. */
  static replay(table: SymbolTable, e: MemoEntry): void {
    const c = e.checks;
    for (let i = 0; i < c.length; i++) table.noteCheck(c[i]![0], c[i]![1]);
  }
}
