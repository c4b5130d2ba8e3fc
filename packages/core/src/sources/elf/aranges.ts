/** .debug_aranges: per compile unit, the address ranges it covers (the fast path to CU ranges). */
import { DwarfSections } from './dwarf-sections.js';
import { addrIsMax, Cursor, DwarfError, readAddress } from './dwarf-reader.js';

export interface ArangeSet {
  /** offset of the CU in .debug_info (relocated for ET_REL) */
  cuOffset: number;
  /** sec = -1 and start/end keys for linked files; section index + offsets for ET_REL */
  ranges: { sec: number; start: number; end: number }[];
}

/**
 * All sets of .debug_aranges, or null when the section is absent. Tuples of length 0 are
 * dropped, as are (in linked files) ranges starting at 0 or at a tombstone (-1/-2: code of
 * discarded sections) and (in ET_REL) tuples whose start has no relocation.
 */
export function readAranges(ds: DwarfSections): ArangeSet[] | null {
  const s = ds.get('.debug_aranges');
  if (!s) return null;
  const rel = ds.elf.isRel;
  const asKey = !rel;
  const buf = s.data;
  const out: ArangeSet[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const c = new Cursor(buf, off);
    let len = c.u32();
    let offsetSize = 4;
    if (len === 0xffffffff) { len = c.u64(); offsetSize = 8; }
    const end = c.pos + len;
    if (len === 0) { off = end; continue; }
    if (end > buf.length) throw new DwarfError(`.debug_aranges set at 0x${off.toString(16)} extends past the end of the section`);
    const version = c.u16();
    if (version !== 2 && version !== 3) throw new DwarfError(`unsupported .debug_aranges version ${version}`);
    const cuOffset = c.off(offsetSize);
    const addrSize = c.u8();
    const segSize = c.u8();
    if (addrSize !== 8 && addrSize !== 4) throw new DwarfError(`unsupported .debug_aranges address size ${addrSize}`);
    const tuple = 2 * addrSize + segSize;
    // first tuple is aligned to the tuple size (2 × address size) from the set start
    const align = 2 * addrSize;
    let p = c.pos - off;
    p = Math.ceil(p / align) * align;
    c.pos = off + p;
    const set: ArangeSet = { cuOffset, ranges: [] };
    const tc = new Cursor(buf.subarray(0, end), c.pos);
    while (tc.pos + tuple <= end) {
      tc.skip(segSize);
      const at = tc.pos;
      const start = readAddress(tc, addrSize, asKey);
      const startMax = addrIsMax;
      const length = readAddress(tc, addrSize, false);
      if (length === 0) continue;
      if (rel) {
        const sec = s.sectionAt.get(at);
        if (sec === undefined) continue;
        set.ranges.push({ sec, start, end: start + length });
      } else {
        if (start === 0 || startMax || isTombstone2(buf, at, addrSize)) continue;
        set.ranges.push({ sec: -1, start, end: start + length });
      }
    }
    out.push(set);
    off = end;
  }
  return out;
}

function isTombstone2(buf: Buffer, at: number, size: number): boolean {
  if (size === 8) return buf.readUInt32LE(at + 4) === 0xffffffff && buf.readUInt32LE(at) === 0xfffffffe;
  return buf.readUInt32LE(at) === 0xfffffffe;
}
