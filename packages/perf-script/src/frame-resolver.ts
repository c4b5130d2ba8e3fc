/**
 * Which symbol a kernel frame denotes. The common case is tested on bytes (`nameIs`: the
 * printed name is the symbol at the printed address, the policy's first rule, as scan.ts's fast
 * path and native/src/perf.rs test it); every other frame is handed to the one policy in core
 * (aliases, address - 1 for a return address past a function's end, then the printed name).
 */
import { keyToHex } from '@kallmod/core/address';
import { SymbolCache } from '@kallmod/core/table/symbol-cache';
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { Resolution } from '@kallmod/core/types';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { NAMED, frameOffset, type Frame } from './frame-parse.js';

export class FrameResolver {
  private readonly nameBytes: SymbolCache<Uint8Array>;

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
   * The resolution of a parsed frame, by the one policy (core table/resolve-policy.ts): perf
   * prints callchain ips as they are, return addresses included (address - 1 is tried when the
   * printed name is not at the address), and an inlined frame's name is not a symbol.
   */
  resolve(f: Frame, buf: Buffer): Resolution {
    const named = f.kind === NAMED;
    const name = named ? buf.toString('latin1', f.nameStart, f.nameEnd) : null;
    const p = { name, offset: named ? frameOffsetOrNull(buf, f) : null, size: null, address: null };
    return this.table.resolve(p, { key: f.key, returnAddress: true, inlined: f.inlined });
  }

  /** A name printed without an address (brstacksym): by the policy, narrowed by the dso's module. */
  byName(name: string, offset: number | null, module: string | null): Resolution {
    return this.table.resolve({ name, offset, size: null, address: null, module });
  }

  static hex(key: number): string { return keyToHex(key); }
}

function frameOffsetOrNull(buf: Uint8Array, f: Frame): number | null {
  const o = frameOffset(buf, f);
  return o < 0 ? null : o;
}
