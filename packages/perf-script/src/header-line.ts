/**
 * Lines that do not start with indentation: sample headers. They can carry kernel frames too:
 *   `-G` / no callchain:  `comm  pid [cpu] time: period event:  ffffffff81b954cc iowrite16+0xc ([kernel.kallsyms])`
 *   `-F ...,brstack`:      `0xffffffff81000130/0x7f12a0b1c2d3/P/-/-/0  ...`
 *   `-F ...,brstacksym`:   `vfs_read+0x12/ksys_read+0x5/P/-/-/0  ...` (optionally `(dso)` after each side)
 * A token of 16 hex digits beginning "ffff" is a kernel address; a token with at least four
 * `/` is a branch record. Everything else is left alone.
 */
import { isKernelAddrAt, newFrame, parseFrame } from './frame-parse.js';
import { annotateBranch } from './brstack.js';
import type { Scanner } from './scan.js';

const f = newFrame();

export function annotateHeaderLine(sc: Scanner, buf: Buffer, start: number, end: number, line: number): void {
  let q = start;
  while (q < end && (buf[q] === 32 || buf[q] === 9)) q++;
  while (q < end) {
    // token [q, t)
    let t = q, slashes = 0;
    for (; t < end; t++) {
      const c = buf[t]!;
      if (c === 32 || c === 9) break;
      if (c === 47) slashes++;
    }
    if (t - q === 16 && isKernelAddrAt(buf, q, end) && parseFrame(buf, q, end, f, true)) {
      const closesLine = f.dsoEnd > 0 || f.tokenEnd === end;
      // --refs text: the frame, not the rest of the line (a line of a million addresses)
      sc.frameAt(f, buf, line, closesLine ? end : f.tokenEnd);
      if (closesLine) return;
      t = f.tokenEnd;
    } else if (slashes >= 4) annotateBranch(sc, buf, q, t, line);
    q = t + 1;
    while (q < end && (buf[q] === 32 || buf[q] === 9)) q++;
  }
}
