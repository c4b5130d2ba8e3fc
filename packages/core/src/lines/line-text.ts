/** The shapes and text forms of a reference's source lines: small, for the transformers' start-up (the DWARF readers load on the first lookup). */

/** One frame as JSON (`inlined` entries). */
export interface FrameJson { name: string | null; file: string | null; line: number | null; column: number | null }

/**
 * The lines of a reference: file/line/column of the address in the symbol's own function (for
 * an inlined call: where that function calls the inlined code), and `inlined`, the chain of
 * inlined functions the address is in, innermost first.
 */
export interface LineInfo { file: string | null; line: number | null; column: number | null; inlined: FrameJson[] }

/** The `--refs` / `--json` fields of a reference's lines (all null, inlined [], when it has none). */
export function lineFields(li: LineInfo | null): LineInfo {
  return { file: li?.file ?? null, line: li?.line ?? null, column: li?.column ?? null, inlined: li?.inlined ?? [] };
}

/** ` file:line` as perf, trace and dmesg append it ('' when unknown). */
export function lineSuffix(li: Pick<LineInfo, 'file' | 'line'> | null): string {
  return li && li.file ? ` ${li.file}:${li.line ?? 0}` : '';
}

