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
const USER_SEGMENT = /(?:^|\s)(?:RIP|IP|EIP): 0033:$/;
/** The longest text USER_SEGMENT can match: it is only ever tried on the characters before a frame. */
const USER_SEGMENT_MAX = 12;

function isSpace(c: number): boolean { return c === 32 || c === 9; }

export function wordStartAt(s: string, i: number, floor: number): number {
  while (i > floor && !isSpace(s.charCodeAt(i - 1))) i--;
  return i;
}

function isModuleChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}

/** What `\s` matches in a latin1 string. */
function isRegexSpace(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 32 || c === 160;
}

/**
 * `:mod:` right before the name at `at` (2.6-era module frames), at the start of the word or
 * after a space or `]`: where it starts, or -1. Read backwards from the name, so that a long
 * word with many frames is not read again for each of them.
 */
function oldModuleAt(s: string, ws: number, at: number): number {
  if (at - ws < 3 || s.charCodeAt(at - 1) !== 58 /* : */) return -1;
  let k = at - 1;
  while (k > ws && isModuleChar(s.charCodeAt(k - 1))) k--;
  if (k === at - 1 || k - 1 < ws || s.charCodeAt(k - 1) !== 58) return -1;
  k--;
  if (k > ws && !isRegexSpace(s.charCodeAt(k - 1)) && s.charCodeAt(k - 1) !== 93 /* ] */) return -1;
  return k;
}

/**
 * Every `name+0xoff/0xsize` in s[from, to), with what the line says around it. Linear in the
 * line: each frame looks only at a bounded stretch around it, and the start of its word is
 * remembered from the previous frame when no space lies between them (a line of 10 MB of
 * `f+0x1/0x2,` is one word of a million frames).
 */
export function findFrames(s: string, from: number, to: number, out: FoundRef[]): void {
  let prevAt = from, prevWs = from;
  FRAME.lastIndex = from;
  for (let m = FRAME.exec(s); m && m.index < to; m = FRAME.exec(s)) {
    const name = m[1]!;
    const at = m.index;
    let end = at + m[0].length;
    if (end > to) break;
    let ws = at;
    while (ws > prevAt && !isSpace(s.charCodeAt(ws - 1))) ws--;
    if (ws === prevAt) ws = prevWs;
    prevAt = at; prevWs = ws;
    if (USER_SEGMENT.test(s.slice(Math.max(from, ws - 40, at - USER_SEGMENT_MAX), at))) continue;
    let module: string | null = null;
    const om = oldModuleAt(s, ws, at);
    if (om >= 0) module = s.slice(om + 1, at - 1);
    const mm = MODULE_AFTER.exec(s.slice(end, Math.min(to, end + 80)));
    if (mm && mm[1] !== 'inline') { module = mm[1]!; end += mm[0].length; }
    const am = ADDR_BEFORE.exec(s.slice(Math.max(from, ws - 40), ws));
    const text = s.slice(om >= 0 ? om : at, end);
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
