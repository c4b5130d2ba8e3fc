/**
 * Stack traces:
 *   ` => vfs_read`, ` => vfs_read+0x5/0x370`, ` => null_queue_rq+0x5/0x320 [null_blk]`,
 *   ` => blk_mq_start_request+0x13e/0x180 <ffffffffb3338e8e>` (sym-addr),
 *   ` => 0xffffffffc0201234` (no symbol), trace-cmd `=> vfs_read (ffffffff812f0a55)` / `=> ffffffff812f0a55`;
 * and the stack tracer's table (`stack_trace`): `  0)     2528      48   _raw_spin_trylock+0x9/0x50`.
 */
import type { RecogniseContext } from './context.js';
import type { Hit } from './hit.js';
import { addressAt, symbolAt } from './symbol.js';

const ARROW = /^[ \t]*=> /;
const TABLE = /^ *\d+\) +\d+ +\d+ +/;

function onlyTrailingSpace(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** ` => sym` line: the hit, or null if the line is not a kernel stack frame. */
export function stackLine(s: string, ctx: RecogniseContext): Hit[] | null {
  const m = ARROW.exec(s);
  if (!m) return null;
  const pos = m[0].length;
  const h = symbolAt(s, pos, ctx, { angleAddr: true, parenAddr: true, module: true }) ?? addressAt(s, pos);
  if (!h || !onlyTrailingSpace(s, h.end)) return [];
  h.returnAddress = true;
  return [h];
}

/** A row of the stack tracer's table (no `|`, which would make it a function_graph line). */
export function stackTableLine(s: string, ctx: RecogniseContext): Hit[] | null {
  const m = TABLE.exec(s);
  if (!m) return null;
  const pos = m[0].length;
  const h = symbolAt(s, pos, ctx, { module: true }) ?? addressAt(s, pos);
  if (!h || !onlyTrailingSpace(s, h.end)) return null;
  h.returnAddress = true;
  return [h];
}
