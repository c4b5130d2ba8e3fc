/**
 * What a recogniser found in one line: a kernel symbol reference as printed, and where the
 * annotation goes (right after the symbol token: after `+off/size` and a printed ` [mod]`,
 * before a ` <addr>` / ` (addr)`).
 */
export interface Hit {
  /** Start of the reference in the line (offset). */
  start: number;
  /** Insertion point (offset in the line). */
  at: number;
  /** The reference as printed (from `start` to the end of everything that belongs to it). */
  text: string;
  name: string | null;
  offset: number | null;
  size: number | null;
  /** "0x..." when an address was printed. */
  address: string | null;
  /** A module printed next to the symbol (`[null_blk]`), only when the table knows that module. */
  module: string | null;
  /**
   * Another hit of the same line whose (resolved) module may narrow this one's duplicates:
   * `func <-parent` (the parent), kretprobe `(ret_site <- func)`. Index into the line's hits.
   */
  evidenceFrom?: number;
  /** Label for resolvedBy when that evidence decides ("parent-module"). */
  evidenceLabel?: string;
  /**
   * The printed address is where a call returns to (its call is at address - 1: --lines): a
   * stack trace's frames (` => `, the stack tracer's rows: both from the kernel's stack unwind),
   * a function tracer's parent (`<-parent`, its parent_ip), a kretprobe's return site and
   * funcgraph-retaddr's `<-caller`. Not: a traced function, a kprobe's probe point, a
   * trace_printk ip, a function_graph frame, a field's function value.
   */
  returnAddress?: boolean;
}

/** Symbol names as kallsyms prints them (`do_execveat_common.isra.0`, `__x64_sys_read`). */
export const NAME = String.raw`[A-Za-z_][\w.$]*`;
/** `+0xOFF/0xSIZE` (%pS): both always hex with 0x. */
export const OFFSZ = String.raw`\+(0x[0-9a-fA-F]+)\/(0x[0-9a-fA-F]+)`;

export function hexNum(s: string | undefined): number | null {
  return s === undefined ? null : parseInt(s, 16);
}

export function hexAddr(s: string | undefined): string | null {
  if (s === undefined) return null;
  const h = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  return '0x' + h.toLowerCase();
}

/** Is this character one that may continue a symbol name (so a match must not start after it)? */
export function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 36;
}
