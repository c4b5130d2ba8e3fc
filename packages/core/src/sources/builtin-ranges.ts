
import { KallmodError, type WarnFn } from '../errors.js';

/**
 * modules.builtin.ranges (Linux 6.12+): per output section an anchor `SECT A-A = SYM` and
 * half-open ranges `SECT START-END mod [mod...]`, offsets relative to the section base.
 * The base is resolved later through the anchor symbol's address (kallsyms or System.map),
 * which is what makes the file KASLR-proof.
 */
export interface RangeSection {
  name: string;
  anchor: string | null;
  anchorOffset: number;
  ranges: { start: number; end: number; modules: string[] }[];
}

export function parseBuiltinRanges(data: Buffer, path: string, warn?: WarnFn): RangeSection[] {
  const sections = new Map<string, RangeSection>();
  const text = data.toString('latin1');
  const lines = text.split('\n');
  let bad = 0, firstBad = 0;
  const modIntern = new Map<string, string[]>();
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.trimEnd();
    if (!line) continue;
    const f = line.split(/\s+/);
    const dash = f[1]?.indexOf('-') ?? -1;
    const sect = f[0]!;
    if (f.length < 3 || !sect.startsWith('.') || dash <= 0) { bad++; firstBad ||= ln + 1; continue; }
    const start = parseInt(f[1]!.slice(0, dash), 16), end = parseInt(f[1]!.slice(dash + 1), 16);
    if (!Number.isFinite(start) || !Number.isFinite(end) || !/^[0-9a-f]+-[0-9a-f]+$/i.test(f[1]!)) { bad++; firstBad ||= ln + 1; continue; }
    let s = sections.get(sect);
    if (!s) { s = { name: sect, anchor: null, anchorOffset: 0, ranges: [] }; sections.set(sect, s); }
    if (f[2] === '=') {
      if (f.length < 4) { bad++; firstBad ||= ln + 1; continue; }
      s.anchor = f[3]!;
      s.anchorOffset = start;
    } else {
      const key = f.slice(2).join(' ');
      let mods = modIntern.get(key);
      if (!mods) { mods = f.slice(2); modIntern.set(key, mods); }
      s.ranges.push({ start, end, modules: mods });
    }
  }
  if (sections.size === 0) throw new KallmodError('no ranges found (not a modules.builtin.ranges file?)', { file: path, line: firstBad || undefined });
  if (bad && warn) warn({ source: path, message: `${bad} malformed line(s) skipped, first at line ${firstBad}` });
  return [...sections.values()];
}

