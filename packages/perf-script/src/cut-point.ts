/** Samples end at a blank line: cut after the last one before `limit` (see run.ts). */
export function cutPoint(buf: Buffer, limit: number): number {
  const i = buf.lastIndexOf('\n\n', limit - 2);
  return i < 0 ? -1 : i + 2;
}
