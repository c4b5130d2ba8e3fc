import type { RecogniseContext } from './context.js';
import { NAME, OFFSZ, hexAddr, hexNum, type Hit } from './hit.js';

const SYM = new RegExp(String.raw`(${NAME})(?:${OFFSZ})?`, 'y');
const HEXWORD = /^[0-9a-fA-F]{8,16}$/;
const MOD = /\[([\w.-]+)\]/y;
const SYMADDR = /<([0-9a-fA-F]{8,16})>/y;
const PARENADDR = /\((?:0x)?([0-9a-fA-F]{8,16})\)/y;

export interface SymbolOptions {
  /** Accept a following ` <ffff...>` (sym-addr) as this symbol's address. */
  angleAddr?: boolean;
  /** Accept a following ` (ffff...)` (trace-cmd stacks) as this symbol's address. */
  parenAddr?: boolean;
  /** Accept a following ` [mod]` (only a module the table knows). */
  module?: boolean;
  /** Require `+0xOFF/0xSIZE`. */
  needOffset?: boolean;
}

/**
 * Parse `name[+0xOFF/0xSIZE][ [mod]][ <addr>]` starting exactly at `pos`. The insertion point is
 * after the offset and after a printed module, before an address.
 */
export function symbolAt(s: string, pos: number, ctx: RecogniseContext, o: SymbolOptions): (Hit & { end: number }) | null {
  SYM.lastIndex = pos;
  const m = SYM.exec(s);
  if (!m) return null;
  if (o.needOffset && m[2] === undefined) return null;
  if (HEXWORD.test(m[1]!)) return null; // an address (trace-cmd prints them without 0x)
  let end = pos + m[0].length;
  let at = end;
  let module: string | null = null;
  if (o.module !== false && s.charCodeAt(end) === 32) {
    MOD.lastIndex = end + 1;
    const mm = MOD.exec(s);
    if (mm && ctx.isModule(mm[1]!)) { module = mm[1]!; end = MOD.lastIndex; at = end; }
  }
  let address: string | null = null;
  if ((o.angleAddr || o.parenAddr) && s.charCodeAt(end) === 32) {
    const re = o.angleAddr && s.charCodeAt(end + 1) === 60 ? SYMADDR : o.parenAddr && s.charCodeAt(end + 1) === 40 ? PARENADDR : null;
    if (re) {
      re.lastIndex = end + 1;
      const am = re.exec(s);
      if (am) { address = hexAddr(am[1]); end = re.lastIndex; }
    }
  }
  return {
    start: pos, at, end, text: s.slice(pos, end), name: m[1]!, offset: hexNum(m[2]), size: hexNum(m[3]), address, module,
  };
}

/** A bare kernel address printed where a symbol was expected (`0xffffffffc0123456`). */
const ADDR = /(?:0x)?(ffffffff[0-9a-fA-F]{8})(?![\w.])/y;
export function addressAt(s: string, pos: number): (Hit & { end: number }) | null {
  ADDR.lastIndex = pos;
  const m = ADDR.exec(s);
  if (!m) return null;
  const end = ADDR.lastIndex;
  return { start: pos, at: end, end, text: m[0], name: null, offset: null, size: null, address: hexAddr(m[1]), module: null };
}
