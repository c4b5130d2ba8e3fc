/** DW_AT_ranges decoding: .debug_ranges (DWARF 2–4) and .debug_rnglists (DWARF 5). */
import { DwarfSections } from './dwarf-sections.js';
import { addrIsMax, Cursor, DW_FORM, DwarfError, readAddress } from './dwarf-reader.js';
import type { UnitHeader } from './dwarf-units.js';

/** One address range: key range (linked files, sec = -1) or offsets in section `sec` (ET_REL). */
export interface RawRange {
  sec: number;
  start: number;
  end: number;
}

interface Addr {
  num: number;
  sec: number;
}

const DW_RLE_end_of_list = 0, DW_RLE_base_addressx = 1, DW_RLE_startx_endx = 2, DW_RLE_startx_length = 3,
  DW_RLE_offset_pair = 4, DW_RLE_base_address = 5, DW_RLE_start_end = 6, DW_RLE_start_length = 7;

function push(out: RawRange[], sec: number, start: number, end: number): void {
  if (end > start) out.push({ sec, start, end });
}

export function readRangeList(ds: DwarfSections, h: UnitHeader, form: number, value: number, rnglistsBase: number,
  addrBase: number, lowPc: Addr | null, out: RawRange[]): void {
  const asKey = !ds.elf.isRel;
  let base: Addr = lowPc ? { num: lowPc.num, sec: lowPc.sec } : { num: 0, sec: -1 };
  if (h.version < 5) {
    const s = ds.get('.debug_ranges');
    if (!s) throw new DwarfError('.debug_ranges is missing');
    const c = new Cursor(s.data, value);
    for (;;) {
      const at = c.pos;
      const b = readAddress(c, h.addrSize, asKey);
      const bMax = addrIsMax;
      const bSec = s.sectionAt.get(at);
      const e = readAddress(c, h.addrSize, asKey);
      const eSec = s.sectionAt.get(at + h.addrSize);
      if (b === 0 && e === 0 && bSec === undefined && eSec === undefined) break;
      if (bMax) { base = { num: e, sec: eSec ?? -1 }; continue; }
      if (bSec !== undefined) push(out, bSec, b, e);
      else push(out, base.sec, base.num + b, base.num + e);
    }
    return;
  }
  const s = ds.get('.debug_rnglists');
  if (!s) throw new DwarfError('.debug_rnglists is missing');
  let off = value;
  if (form === DW_FORM.rnglistx) {
    const c = new Cursor(s.data, rnglistsBase + value * h.offsetSize);
    off = rnglistsBase + c.off(h.offsetSize);
  }
  const c = new Cursor(s.data, off);
  const addrx = (i: number): Addr => resolveAddrx(ds, i, h, addrBase, asKey);
  const addr = (): Addr => {
    const at = c.pos;
    const num = readAddress(c, h.addrSize, asKey);
    return { num, sec: s.sectionAt.get(at) ?? -1 };
  };
  for (;;) {
    const kind = c.u8();
    switch (kind) {
      case DW_RLE_end_of_list: return;
      case DW_RLE_base_addressx: base = addrx(c.uleb()); break;
      case DW_RLE_startx_endx: { const a = addrx(c.uleb()), b = addrx(c.uleb()); push(out, a.sec, a.num, b.num); break; }
      case DW_RLE_startx_length: { const a = addrx(c.uleb()); push(out, a.sec, a.num, a.num + c.uleb()); break; }
      case DW_RLE_offset_pair: { const a = c.uleb(), b = c.uleb(); push(out, base.sec, base.num + a, base.num + b); break; }
      case DW_RLE_base_address: base = addr(); break;
      case DW_RLE_start_end: { const a = addr(), b = addr(); push(out, a.sec, a.num, b.num); break; }
      case DW_RLE_start_length: { const a = addr(); push(out, a.sec, a.num, a.num + c.uleb()); break; }
      default: throw new DwarfError(`unknown DW_RLE 0x${kind.toString(16)} in .debug_rnglists at 0x${(c.pos - 1).toString(16)}`);
    }
  }
}

/** Entry `index` of .debug_addr (relative to addr_base) as an address value with its section. */
export function resolveAddrx(ds: DwarfSections, index: number, h: UnitHeader, addrBase: number, asKey: boolean): Addr {
  const a = ds.get('.debug_addr');
  if (!a) throw new DwarfError('.debug_addr is missing');
  const at = addrBase + index * h.addrSize;
  const c = new Cursor(a.data, at);
  const num = readAddress(c, h.addrSize, asKey);
  return { num, sec: a.sectionAt.get(at) ?? -1 };
}
