/**
 * Name-only references (no `+off/size`) that a kernel log prints in fixed places, and the lines
 * that must never be read as frames.
 *   `Workqueue: events func`, `Workqueue: wq func [mod] (desc)`   (print_worker_info, %ps)
 *   ` func path/file.c:NN [inline]`                             (symbolised reports: syzbot, KASAN;
 *                                                                kallmod dmesg --lines: ` (discriminator N)` before ` [inline]`)
 *   `[<c0123>] (func) from [<c0456>] (caller+0x10/0x14)`       (arm, old: the address decides)
 *   ` func from caller+0x10/0x14`                              (arm, current)
 */
import type { FoundRef } from './frames.js';
import { wordStartAt } from './frames.js';

const WORKQUEUE = /(?:^|\s)Workqueue: \S+ ([A-Za-z_][\w.$]*)( \[([\w-]+)\])?/;
const INLINE = /^\s*(?:\?\s+)?([A-Za-z_][\w.$]*) \S+:\d+(?::\d+)?(?: \(discriminator \d+\))? \[inline\]\s*$/;
const ARM_OLD = /\[<([0-9a-fA-F]{4,16})>\] \(([A-Za-z_][\w.$]*)(?: \[([\w-]+)\])?\) from /g;
const ARM_NEW = /^\s*([A-Za-z_][\w.$]*)(?: \[([\w-]+)\])? from (?=[A-Za-z_][\w.$]*\+0x)/;

/** Lines whose content is never a symbol reference (register dumps carry no `func+0x../0x..`). */
export function isOpaque(s: string, from: number): boolean {
  return s.startsWith('Code: ', from) || s.startsWith('Modules linked in:', from);
}

export function findNamed(s: string, from: number, to: number, out: FoundRef[]): void {
  const msg = from === 0 && to === s.length ? s : s.slice(from, to);
  let m = WORKQUEUE.exec(msg);
  if (m) {
    const at = from + m.index + m[0].length - m[1]!.length - (m[2]?.length ?? 0);
    out.push({
      printed: { text: m[1]! + (m[2] ?? ''), name: m[1]!, offset: null, size: null, address: null, module: m[3] ?? null },
      wordStart: at, end: at + m[1]!.length + (m[2]?.length ?? 0),
    });
    return;
  }
  m = INLINE.exec(msg);
  if (m) {
    const at = from + msg.indexOf(m[1]!, m[0].length - m[0].trimStart().length);
    out.push({
      printed: { text: m[1]!, name: m[1]!, offset: null, size: null, address: null, module: null }, wordStart: at, end: at + m[1]!.length, inline: true,
    });
    return;
  }
  ARM_OLD.lastIndex = 0;
  for (let a = ARM_OLD.exec(msg); a; a = ARM_OLD.exec(msg)) {
    const at = from + a.index + a[0].indexOf('(');
    const end = at + 1 + a[2]!.length + (a[3] ? a[3].length + 3 : 0);
    out.push({
      printed: { text: s.slice(at + 1, end), name: a[2]!, offset: null, size: null, address: '0x' + a[1]!.toLowerCase(), module: a[3] ?? null },
      wordStart: at, end,
    });
  }
  m = ARM_NEW.exec(msg);
  if (m) {
    const at = from + m.index + m[0].indexOf(m[1]!, m[0].length - m[0].trimStart().length);
    const end = at + m[1]!.length + (m[2] ? m[2].length + 3 : 0);
    out.push({
      printed: { text: s.slice(at, end), name: m[1]!, offset: null, size: null, address: null, module: m[2] ?? null },
      wordStart: wordStartAt(s, at, from), end,
    });
  }
}
