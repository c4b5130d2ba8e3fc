/**
 * .debug_line programs, versions 2–5 (v5: entry formats, .debug_line_str), run into rows: one
 * unit's program is read only when an address of that unit is asked about.
 */
import { cstring } from './elf-file.js';
import type { DwarfSections } from './dwarf-sections.js';
import { addrIsMax, Cursor, DW_FORM, DwarfError, readAddress, readForm, type FormUnit } from './dwarf-reader.js';
import { formString } from './dwarf-units.js';
import { RangeIndex } from './range-index.js';

/** One sequence: [start, end) in section `sec` (-1 in linked files), rows [lo, hi) of the table. */
export interface LineSequence { sec: number; start: number; end: number; lo: number; hi: number }

/**
 * A program's file table: file register value → path as the program names it (directory joined;
 * "" where unnamed), made a string when first asked for (a unit is mostly asked about a few of
 * its files, and the names were a fifth of reading a table).
 */
export class LineFiles {
  private readonly names: (string | undefined)[];
  constructor(readonly length: number, private readonly make: (i: number) => string) { this.names = new Array<string | undefined>(length); }
  get(i: number): string | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return (this.names[i] ??= this.make(i));
  }
}

export interface LineTable {
  files: LineFiles;
  seqs: LineSequence[];
  /** which sequence holds an address (a tombstoned copy may overlap another) */
  seqIndex: RangeIndex;
  addr: Float64Array;
  file: Uint32Array;
  line: Uint32Array;
  column: Uint32Array;
  /**
   * Discriminators (DW_LNE_set_discriminator), sparse: most rows have none. Rows discRow[k]
   * (ascending) have discVal[k] (non-zero); every other row 0. See lineDiscriminator.
   */
  discRow: Uint32Array;
  discVal: Uint32Array;
}

const DW_LNCT_path = 1, DW_LNCT_directory_index = 2;

function join(dir: string, name: string): string {
  if (name.startsWith('/') || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/**
 * The line program at `offset` of .debug_line. `compDir` is directory 0 of a v2–4 program;
 * `strOffsetsBase` serves strx forms of v5 entry formats. Sequences of discarded code are
 * dropped: at address 0 or a tombstone in a linked file, placed by no relocation in an ET_REL.
 */
export function readLineTable(ds: DwarfSections, offset: number, compDir: string | null, strOffsetsBase: number): LineTable {
  const s = ds.get('.debug_line');
  if (!s) throw new DwarfError('.debug_line is missing');
  const asKey = !ds.elf.isRel;
  const c = new Cursor(s.data, offset);
  let len = c.u32();
  let offsetSize: 4 | 8 = 4;
  if (len === 0xffffffff) { len = c.u64(); offsetSize = 8; }
  const end = c.pos + len;
  if (end > s.data.length) throw new DwarfError(`line program at 0x${offset.toString(16)} extends past the end of .debug_line`);
  const version = c.u16();
  if (version < 2 || version > 5) throw new DwarfError(`unsupported .debug_line version ${version} at 0x${offset.toString(16)}`);
  let addrSize = 8;
  if (version >= 5) { addrSize = c.u8(); c.u8(); /* segment selector size */ }
  const headerLength = c.off(offsetSize);
  const programStart = c.pos + headerLength;
  const minInst = c.u8();
  if (version >= 4) c.u8(); // maximum_operations_per_instruction: 1 on every target the kernel reads here
  const defaultIsStmt = c.u8() !== 0;
  void defaultIsStmt;
  const lineBase = (c.u8() << 24) >> 24;
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  if (lineRange === 0) throw new DwarfError(`line program at 0x${offset.toString(16)}: line_range 0`);
  const opLengths: number[] = [0];
  for (let i = 1; i < opcodeBase; i++) opLengths.push(c.u8());
  const u: FormUnit = { offset, version, offsetSize, addrSize };
  let files: LineFiles;
  const data = s.data;
  if (version < 5) {
    // directory and file names: where their strings are, decoded when asked
    const dirAt: number[] = [];
    for (;;) { const p = c.cstr(); if (data[p] === 0) break; dirAt.push(p); }
    const nameAt: number[] = [0], dirOf: number[] = [0]; // file register 0 names nothing before DWARF 5
    for (;;) {
      const p = c.cstr();
      if (data[p] === 0) break;
      nameAt.push(p); dirOf.push(c.uleb()); c.uleb(); c.uleb();
    }
    const dir = (d: number) => (d === 0 ? compDir ?? '' : d <= dirAt.length ? cstring(data, dirAt[d - 1]!) : '');
    files = new LineFiles(nameAt.length, (i) => (i === 0 ? '' : join(dir(dirOf[i]!), cstring(data, nameAt[i]!))));
  } else {
    // v5 entries: each its path's form and value and its directory index, the strings made when asked
    const entries = (): { form: number; path: number[]; dir: number[] } => {
      const fmt: number[] = [];
      const n = c.u8();
      for (let i = 0; i < n; i++) fmt.push(c.uleb(), c.uleb());
      const count = c.uleb();
      const out = { form: 0, path: [] as number[], dir: [] as number[] };
      for (let e = 0; e < count; e++) {
        let path = -1, dir = 0;
        for (let i = 0; i < fmt.length; i += 2) {
          const form = fmt[i + 1]!;
          const v = readForm(c, form, 0, u, false, EMPTY);
          if (fmt[i] === DW_LNCT_path) { path = v; out.form = form; } else if (fmt[i] === DW_LNCT_directory_index) dir = v;
        }
        out.path.push(path); out.dir.push(dir);
      }
      return out;
    };
    const text = (form: number, v: number) => (v < 0 ? '' : form === DW_FORM.string ? cstring(data, v) : formString(ds, form, v, u, strOffsetsBase) ?? '');
    const d = entries(), f = entries();
    const dirNames: (string | undefined)[] = [];
    const dir = (i: number): string => {
      if (i >= d.path.length) return '';
      let n = dirNames[i];
      if (n === undefined) {
        n = text(d.form, d.path[i]!);
        if (i > 0 && !n.startsWith('/') && compDir) n = join(compDir, n);
        dirNames[i] = n;
      }
      return n;
    };
    files = new LineFiles(f.path.length, (i) => join(dir(f.dir[i]!), text(f.form, f.path[i]!)));
  }
  c.pos = programStart;
  return runProgram(s.data, s.sectionAt, c, end, { minInst, lineBase, lineRange, opcodeBase, opLengths, addrSize, asKey, version }, files);
}

const EMPTY = new Map<number, number>();

interface Params {
  minInst: number; lineBase: number; lineRange: number; opcodeBase: number; opLengths: number[]; addrSize: number; asKey: boolean; version: number;
}

/** Rows as a program runs, before the used part is copied out: one set for every program (most of the allocation otherwise). */
let rowsA = new Float64Array(0), rowsF = new Uint32Array(0), rowsL = new Uint32Array(0), rowsC = new Uint32Array(0);

const specialAddr = new Int32Array(256), specialLine = new Int32Array(256);

function runProgram(buf: Buffer, sectionAt: Map<number, number>, c: Cursor, end: number, p: Params, files: LineFiles): LineTable {
  // every row takes at least one opcode byte: the program's length bounds the row count
  const cap = Math.max(1, end - c.pos);
  if (rowsA.length < cap) {
    const k = Math.max(cap, 2 * rowsA.length);
    rowsA = new Float64Array(k); rowsF = new Uint32Array(k); rowsL = new Uint32Array(k); rowsC = new Uint32Array(k);
  }
  const A = rowsA, F = rowsF, L = rowsL, C = rowsC;
  const seqs: LineSequence[] = [];
  // the discriminator register applies to the next row only (DWARF 5 6.2.5.1: reset after each row)
  const discRow: number[] = [], discVal: number[] = [];
  let n = 0, addr = 0, sec = -1, file = 1, line = 1, col = 0, disc = 0, seqLo = 0, seqStart = 0, dropped = false;
  const { minInst, lineRange, lineBase, opcodeBase } = p;
  // the program's position in a local, one-byte LEB128s (nearly all) decoded in place, the
  // Cursor's methods for the rest (the loop was the largest part of a cold lookup). No closure
  // may capture `pos`: V8 would keep it in a context slot, a memory access per opcode byte.
  let pos = c.pos;
  // special opcodes' address and line advances, looked up (a division and a remainder per row otherwise)
  const addAddr = specialAddr, addLine = specialLine;
  for (let op = opcodeBase; op < 256; op++) {
    const adj = op - opcodeBase;
    addAddr[op] = minInst * Math.floor(adj / lineRange);
    addLine[op] = lineBase + (adj % lineRange);
  }
  while (pos < end) {
    const op = buf[pos++]!;
    if (op >= opcodeBase) {
      addr += addAddr[op]!;
      line += addLine[op]!;
    } else if (op === 1) { /* copy */ }
    else {
      switch (op) {
        case 0: {
          let len = buf[pos]!;
          if (len < 0x80) pos++; else { c.pos = pos; len = c.uleb(); pos = c.pos; }
          const next = pos + len;
          c.pos = pos;
          const sub = len > 0 ? c.u8() : 0;
          if (sub === 1) { // end_sequence
            if (n > seqLo && !dropped && (seqStart !== 0 || !p.asKey) && addr > seqStart) seqs.push({ sec, start: seqStart, end: addr, lo: seqLo, hi: n });
            else {
              n = seqLo;
              while (discRow.length && discRow[discRow.length - 1]! >= n) { discRow.pop(); discVal.pop(); }
            }
            addr = 0; sec = -1; file = 1; line = 1; col = 0; disc = 0; seqLo = n; dropped = false;
          } else if (sub === 2) { // set_address
            const at = c.pos;
            addr = readAddress(c, p.addrSize, p.asKey);
            if (addrIsMax || (p.asKey && addr >= TOMBSTONE_KEY)) dropped = true;
            if (!p.asKey) {
              sec = sectionAt.get(at) ?? -1;
              if (sec < 0 && sectionAt.size) dropped = true; // an address no relocation placed
            }
          } else if (sub === 4) disc = c.uleb(); // set_discriminator
          pos = next; // define_file and unknown ones: skipped by their length
          break;
        }
        case 2: {
          const b = pos < end ? buf[pos]! : 0x80;
          if (b < 0x80) { pos++; addr += minInst * b; } else { c.pos = pos; addr += minInst * c.uleb(); pos = c.pos; }
          break;
        }
        case 3: {
          const b = pos < end ? buf[pos]! : 0x80;
          if (b < 0x80) { pos++; line += b & 0x40 ? b - 0x80 : b; } else { c.pos = pos; line += c.sleb(); pos = c.pos; }
          break;
        }
        case 4: {
          const b = pos < end ? buf[pos]! : 0x80;
          if (b < 0x80) { pos++; file = b; } else { c.pos = pos; file = c.uleb(); pos = c.pos; }
          break;
        }
        case 5: {
          const b = pos < end ? buf[pos]! : 0x80;
          if (b < 0x80) { pos++; col = b; } else { c.pos = pos; col = c.uleb(); pos = c.pos; }
          break;
        }
        case 6: case 7: case 10: case 11: break;
        case 8: addr += minInst * Math.floor((255 - opcodeBase) / lineRange); break;
        case 9: c.pos = pos; addr += c.u16(); pos = c.pos; break;
        default: c.pos = pos; for (let i = 0; i < p.opLengths[op]!; i++) c.uleb(); pos = c.pos;
      }
      continue;
    }
    if (n === seqLo) seqStart = addr;
    if (n < cap) {
      if (disc !== 0) { discRow.push(n); discVal.push(disc); }
      A[n] = addr; F[n] = file; L[n] = line; C[n] = col; n++;
    }
    disc = 0;
  }
  c.pos = pos;
  seqs.sort((a, b) => a.sec - b.sec || a.start - b.start);
  // copies of the used part (the scratch arrays are the next program's)
  const seqIndex = RangeIndex.of(seqs.map((q) => q.sec), seqs.map((q) => q.start), seqs.map((q) => q.end));
  return { files, seqs, seqIndex, addr: A.slice(0, n), file: F.slice(0, n), line: L.slice(0, n), column: C.slice(0, n),
    discRow: Uint32Array.from(discRow), discVal: Uint32Array.from(discVal) };
}

/** Index into t.discRow of the first entry for a row at or after `row` (discRow.length when none). */
export function discriminatorFrom(t: Pick<LineTable, 'discRow'>, row: number): number {
  const d = t.discRow;
  let a = 0, b = d.length;
  while (a < b) { const m = (a + b) >> 1; if (d[m]! < row) a = m + 1; else b = m; }
  return a;
}

/** The discriminator of row `row` (0: none). */
export function lineDiscriminator(t: Pick<LineTable, 'discRow' | 'discVal'>, row: number): number {
  const k = discriminatorFrom(t, row);
  return k < t.discRow.length && t.discRow[k] === row ? t.discVal[k]! : 0;
}

/** Smallest key of a DWARF tombstone (-2 / -1) in a linked file (keyFromParts(0xffffffff, 0xfffffffe)). */
const TOMBSTONE_KEY = (0xffffffff - 0xffff0000) * 4294967296 + 0xfffffffe + 2 ** 48;

/** Row index for `addr` in section `sec`: the last row at or before it in its sequence; -1 when none. */
export function lineRowAt(t: LineTable, sec: number, addr: number): number {
  const i = t.seqIndex.at(sec, addr);
  if (i < 0) return -1;
  const q = t.seqs[i]!;
  let a = q.lo, b = q.hi - 1, r = q.lo;
  while (a <= b) { const m = (a + b) >> 1; if (t.addr[m]! <= addr) { r = m; a = m + 1; } else b = m - 1; }
  return r;
}
