/** The shapes and text forms of a reference's source lines: small, for the transformers' start-up (the DWARF readers load on the first lookup). */

/**
 * One frame as JSON (`inlined` entries). `discriminator` (DW_LNE_set_discriminator of the
 * address's line row) is there only when non-zero, and only on the innermost frame.
 */
export interface FrameJson { name: string | null; file: string | null; line: number | null; column: number | null; discriminator?: number }

/**
 * The lines of a reference: file/line/column of the address in the symbol's own function (for
 * an inlined call: where that function calls the inlined code), and `inlined`, the chain of
 * inlined functions the address is in, innermost first. `discriminator`: as on FrameJson (here
 * when the address is in no inlined code).
 */
export interface LineInfo { file: string | null; line: number | null; column: number | null; discriminator?: number; inlined: FrameJson[] }

/** The `--refs` / `--json` fields of a reference's lines (all null, inlined [], when it has none; discriminator only when non-zero). */
export function lineFields(li: LineInfo | null): LineInfo {
  const o: LineInfo = { file: li?.file ?? null, line: li?.line ?? null, column: li?.column ?? null, inlined: li?.inlined ?? [] };
  return li?.discriminator ? { file: o.file, line: o.line, column: o.column, discriminator: li.discriminator, inlined: o.inlined } : o;
}

/**
 * A `--refs` object with a reference's lines: lookup --json's fields (`file`, `line`, ...), so
 * the input line number a ref carries as `line` moves to `inputLine` (it was overwritten by the
 * source line).
 */
export function refWithLines<T extends { line: number }>(ref: T, li: LineInfo | null): Omit<T, 'line'> & { inputLine: number } & LineInfo {
  const { line, ...rest } = ref;
  return { inputLine: line, ...rest, ...lineFields(li) };
}

/** ` file:line` as perf, trace and stack append it, and dmesg before its discriminator ('' when unknown). */
export function lineSuffix(li: Pick<LineInfo, 'file' | 'line'> | null): string {
  return li && li.file ? ` ${li.file}:${li.line ?? 0}` : '';
}

/** The discriminator of the address's line row (its innermost frame's), 0 when none. */
export function addressDiscriminator(li: LineInfo): number {
  return (li.inlined.length ? li.inlined[0]!.discriminator : li.discriminator) ?? 0;
}

/**
 * ` (discriminator N)` as binutils addr2line prints it after a `file:line` ('' for 0, and for an
 * unknown line: binutils prints `file:?` alone). binutils prints the address's discriminator
 * after every line of its inline chain, the `(inlined by)` ones too; faddr2line's and syzbot's
 * layouts here do the same (`discriminatorSuffix(addressDiscriminator(li), line)` per line).
 */
export function discriminatorSuffix(discriminator: number | undefined, line: number | null): string {
  return discriminator && line ? ` (discriminator ${discriminator})` : '';
}
