/**
 * Kernel symbol references in one message (latin1 string, offsets = bytes).
 *
 * What the kernel prints with %pS/%pB/%ps, in every place a log shows it:
 *   ` func+0x12/0x40`, ` ? func+0x12/0x40`             x86 stack frames (`?` = unreliable)
 *   `func+0x12/0x40 [mod]`, `[mod 0123abcd...]`         loadable module (with build id)
 *   `[<ffffffff81234567>] func+0x12/0x40`               old x86 form: the address decides
 *   `:jbd:func+0xa3/0xf5`                               very old module form
 *   `RIP: 0010:func+0x12/0x40`, `pc : `, `lr : `        (RIP: 0033: is user space: never touched)
 *   `[<c0123>] (func+0x12/0x40) from [<..>] (caller)`, `func from caller+0x..` (arm)
 * plus the headers that end in a frame (WARNING ... at file.c:NN func+.., BUG: KASAN: ... in
 * func+.., lockdep `at: func+..`, `hardirqs last enabled at (N): [<addr>] func+..`), which are
 * the same token in a different sentence. Name-only forms are in headers.ts.
 */
import type { PrintedRef } from '@kallmod/core';

export interface FoundRef {
  printed: PrintedRef;
  /** Start of the whitespace-delimited word that holds the symbol: "before" insertions go here. */
  wordStart: number;
  /** End of the reference as printed (after ` [mod]` / ` [mod buildid]`): "after" insertions go here. */
  end: number;
  /** An inline frame (`func file.c:NN [inline]`): the code is in the caller. */
  inline?: boolean;
}

const FRAME = /(?<![\w.$])([A-Za-z_][\w.$]*)\+(0x[0-9a-fA-F]+)\/(0x[0-9a-fA-F]+)/g;
/** ` [mod]` or ` [mod buildid]` right after a frame. */
const MODULE_AFTER = /^ \[([\w-]+)(?: ([0-9a-f]{8,}))?\]/;
/** `[<addr>] ` (and an optional `? ` or `(`) right before a frame's word. */
const ADDR_BEFORE = /\[<([0-9a-fA-F]{4,16})>\]\s+(?:\?\s+)?\(?$/;
/** `:mod:` right before the name (2.6-era module frames). */
const OLD_MODULE = /(?:^|[\s\]]):([\w-]+):$/;
const USER_SEGMENT = /(?:^|\s)(?:RIP|IP|EIP): 0033:$/;

function isSpace(c: number): boolean { return c === 32 || c === 9; }

export function wordStartAt(s: string, i: number, floor: number): number {
  while (i > floor && !isSpace(s.charCodeAt(i - 1))) i--;
  return i;
}

/** Every `name+0xoff/0xsize` in s[from, to), with what the line says around it. */
export function findFrames(s: string, from: number, to: number, out: FoundRef[]): void {
  FRAME.lastIndex = from;
  for (let m = FRAME.exec(s); m && m.index < to; m = FRAME.exec(s)) {
    const name = m[1]!;
    const at = m.index;
    let end = at + m[0].length;
    if (end > to) break;
    const ws = wordStartAt(s, at, from);
    const before = s.slice(Math.max(from, ws - 40), at);
    if (USER_SEGMENT.test(before)) continue;
    let module: string | null = null;
    const om = OLD_MODULE.exec(s.slice(ws, at));
    if (om) module = om[1]!;
    const mm = MODULE_AFTER.exec(s.slice(end, Math.min(to, end + 80)));
    if (mm && mm[1] !== 'inline') { module = mm[1]!; end += mm[0].length; }
    const am = ADDR_BEFORE.exec(s.slice(Math.max(from, ws - 40), ws));
    const text = s.slice(om ? ws : at, end);
    out.push({
      printed: {
        text, name, offset: Number(m[2]), size: Number(m[3]),
        address: am ? '0x' + am[1]!.toLowerCase() : null,
        module,
      },
      wordStart: ws,
      end,
    });
  }
}
