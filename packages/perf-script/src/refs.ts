/**
 * `--refs`: one JSON object per kernel frame, in input order (the shared contract: `line`,
 * `text`, `name`, `offset`, `size`, `address` as printed, then the resolution). perf adds
 * `symbolName`, the resolved name: perf prints `[unknown]` (name null) for frames we can name.
 */
import { refJson, type SymbolTable } from '@kallmod/core/table/symbol-table';
import type { OutBuffer } from '@kallmod/core/stream/out-buffer';
import type { PrintedRef, Resolution } from '@kallmod/core/types';
import { refWithLines, type LineInfo } from '@kallmod/core/lines/line-text';
import { NAMED, frameOffset, type Frame } from './frame-parse.js';
import type { FrameResolver } from './frame-resolver.js';

export class RefSink {
  constructor(readonly table: SymbolTable, readonly res: FrameResolver, readonly out: OutBuffer) {}

  private printed(f: Frame, buf: Buffer, textStart: number, textEnd: number): PrintedRef {
    const named = f.kind === NAMED;
    return {
      text: buf.toString('utf8', textStart, textEnd),
      name: named ? buf.toString('latin1', f.nameStart, f.nameEnd) : null,
      offset: named && frameOffset(buf, f) >= 0 ? f.offset : null,
      size: null,
      address: f.addrStart >= 0 && f.key === f.key ? '0x' + addrDigits(buf, f) : null,
    };
  }

  private write(line: number, p: PrintedRef, r: Resolution, li?: LineInfo | null): void {
    const o = { ...refJson(line, p, r), symbolName: r.name };
    this.out.str(JSON.stringify(li === undefined ? o : refWithLines(o, li)) + '\n');
  }

  /** A frame with a printed address, and its resolution. */
  frame(f: Frame, r: Resolution, buf: Buffer, line: number, lineEnd: number, li?: LineInfo | null): void {
    this.write(line, this.printed(f, buf, f.addrStart, lineEnd), r, li);
  }

  /** brstack `0xADDR` side. */
  branch(f: Frame, buf: Buffer, start: number, end: number, line: number): void {
    const p = this.printed(f, buf, start, end);
    p.address = '0x' + buf.toString('latin1', start + 2, f.nameEnd);
    this.write(line, p, this.res.resolve(f, buf));
  }

  /** brstacksym `name+0xoff` side: by name. */
  branchByName(f: Frame, r: Resolution, buf: Buffer, start: number, end: number, line: number): void {
    this.write(line, this.printed(f, buf, start, end), r);
  }
}

function addrDigits(buf: Buffer, f: Frame): string {
  return buf.toString('latin1', f.addrStart, f.addrStart + 16);
}
