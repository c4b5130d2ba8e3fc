/**
 * Which symbol a kernel frame denotes, decided from the printed address, checked against the
 * printed name (bytes, no strings on the common path).
 *
 * perf resolves callchain ips as-is (no "ip - 1" for return addresses), so the exact address
 * normally lands in the symbol perf printed. When it does not — an alias at the same address,
 * a return address one past a noreturn call at a function's end, or a table from another boot —
 * the rare slow path tries the aliases, then address - 1, then the printed name.
 */
import { keyToHex } from '@kallmod/core/address';
import { SymbolCache } from '@kallmod/core/table/symbol-cache';
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { Resolution } from '@kallmod/core/types';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';

export class FrameResolver {
  private readonly nameBytes: SymbolCache<Uint8Array>;
  /** Name-based resolutions by printed name (slow path, bounded by distinct names). */
  private byName = new Map<string, Resolution>();

  constructor(readonly table: SymbolTable, readonly opts: AnnotatorOptions) {
    this.nameBytes = new SymbolCache(table.length);
  }

  bytesOf(i: number): Uint8Array {
    return this.nameBytes.get(i) ?? this.nameBytes.set(i, Buffer.from(this.table.name(i), 'latin1'));
  }

  /** Does symbol i's name equal buf[start, end)? */
  nameIs(i: number, buf: Uint8Array, start: number, end: number): boolean {
    const b = this.bytesOf(i);
    const n = end - start;
    if (b.length !== n) return false;
    for (let k = 0; k < n; k++) if (b[k] !== buf[start + k]) return false;
    return true;
  }

  /**
   * Symbol index for a frame: by address; when a name was printed (nameEnd > nameStart) it
   * must agree. -1 when the address is in no symbol or the printed name disagrees everywhere
   * (then `byPrintedName` gives the name-based answer).
   */
  index(key: number, buf: Uint8Array, nameStart: number, nameEnd: number): number {
    const t = this.table;
    const i = t.lookupKey(key);
    if (nameEnd <= nameStart) return i;
    if (i >= 0 && this.nameIs(i, buf, nameStart, nameEnd)) { t.noteCheck(true); return i; }
    const j = this.slowIndex(key, i, buf, nameStart, nameEnd);
    if (j < 0) t.noteCheck(false, `${keyToHex(key)} printed as ${Buffer.from(buf.buffer, buf.byteOffset + nameStart, nameEnd - nameStart).toString('latin1')}`);
    else t.noteCheck(true);
    return j;
  }

  private slowIndex(key: number, i: number, buf: Uint8Array, nameStart: number, nameEnd: number): number {
    const t = this.table;
    const keys = t.d.keys;
    if (i >= 0) {
      const k = keys[i]!;
      for (let j = i; j < t.length && keys[j] === k; j++) if (this.nameIs(j, buf, nameStart, nameEnd)) return j;
    }
    // a return address just past a call at the very end of a function
    const prev = t.lookupKey(key - 1);
    if (prev >= 0 && prev !== i && this.nameIs(prev, buf, nameStart, nameEnd)) return prev;
    return -1;
  }

  /** The printed name alone (+offset narrowing): may be ambiguous or unresolved. */
  byPrintedName(name: string, offset: number | null, module: string | null = null): Resolution {
    const cacheKey = `${name}+${offset ?? ''}[${module ?? ''}`;
    let r = this.byName.get(cacheKey);
    if (!r) { r = this.table.resolveName({ name, offset, module }); this.byName.set(cacheKey, r); }
    return r;
  }

  /** Full resolution for --refs (allocates: not the text hot path). */
  resolution(key: number, i: number, how: string): Resolution {
    return this.table.resolutionOf(i, key - this.table.d.keys[i]!, how);
  }

  static hex(key: number): string { return keyToHex(key); }
}
