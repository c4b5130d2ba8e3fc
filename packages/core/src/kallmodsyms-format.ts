/**
 * A symbol table printed as /proc/kallmodsyms (shared/reference/formats.md §2), for the readers
 * of that file on kernels that have none (DTrace for Linux: libdtrace/dt_module.c):
 *
 *   address SP size SP type SP name [TAB annotation] LF      (format A/B: what DTrace scans)
 *   address SP type SP name [TAB annotation] LF              (`size: false`: the v9/v10 layout)
 *
 * The annotation is the notation (notation.ts, through SymbolTable.annotation) with its leading
 * space turned into the TAB the kernel prints: `\t[m1] [m2] {obj.o}`, `\t{obj.o}`.
 */
import type { Writable } from 'node:stream';
import { KERNEL_BASE, keyHigh32, keyLow32, keyToHex, keyToPaddedHex } from './address.js';
import { writeAsync } from './stream/run.js';
import { F_DYNAMIC, F_EXACT_SIZE, type SymbolTable } from './table/symbol-table.js';
import type { ObjnameMode } from './types.js';

export interface KallmodsymsFormat {
  /** When `{obj.o}` is printed (the notation's modes; kallmodsyms itself: where needed). */
  mode: ObjnameMode;
  /** The size column (DTrace's sscanf needs it); false: the v9/v10 layout. */
  size: boolean;
  /** Text symbols (t T w W) only; otherwise every symbol, as the kernel's file lists. */
  textOnly: boolean;
}

/** Flush to the output once this much is buffered: one write per ~1 MiB, not per line. */
const FLUSH_BYTES = 1 << 20;

/**
 * Whether symbol i is printed. Dynamic code (bpf programs, ftrace and kprobe trampolines) is
 * left out: the table keeps that it is dynamic but not which of kallsyms' pseudo-modules
 * (`[bpf]`, `[__builtin__ftrace]`, `[__builtin__kprobes]`) named it, and printed without one it
 * would read as core-kernel code (DTrace skips those lines by that name).
 */
export function printsSymbol(t: SymbolTable, i: number, f: Pick<KallmodsymsFormat, 'textOnly'>): boolean {
  if (t.d.flags[i]! & F_DYNAMIC) return false;
  return !f.textOnly || t.isText(i);
}

/**
 * The size printed for symbol i: the exact (ELF) size where the sources have one, else the
 * kallsyms size (the distance to the next symbol, 0 for the last of a block). DTrace builds
 * each module's address ranges from these sizes and skips size 0, so a zero for every
 * inferred size would leave the core kernel and built-in modules without ranges.
 * Hidden addresses print 0, as the kernel's v1 patch did.
 */
export function printedSize(t: SymbolTable, i: number): number {
  if (t.addressesHidden) return 0;
  if (t.d.flags[i]! & F_EXACT_SIZE) return t.d.exactSizes[i]!;
  const k = t.d.keys[i]!, s = t.d.ksizes[i]!;
  // the last per-CPU offset (`A __per_cpu_end`) is followed by the kernel's first symbol: no size
  return k < KERNEL_BASE && k + s >= KERNEL_BASE ? 0 : s;
}

/**
 * %px: 16 digits on a 64-bit kernel, 8 on a 32-bit one. Hidden addresses (all zero) do not say
 * which: 16, as every 64-bit kernel prints them.
 */
function wide(t: SymbolTable): boolean { return t.is64 || t.addressesHidden; }

function addressText(t: SymbolTable, i: number): string {
  const k = t.d.keys[i]!;
  return wide(t) ? keyToPaddedHex(k) : keyToHex(k).slice(2).padStart(8, '0');
}

/** One line, newline included. */
export function kallmodsymsLine(t: SymbolTable, i: number, f: KallmodsymsFormat): string {
  const a = t.annotation(i, f.mode);
  return addressText(t, i) + (f.size ? ' ' + printedSize(t, i).toString(16) : '') + ' ' + String.fromCharCode(t.d.types[i]!) + ' ' + t.name(i) +
    (a ? '\t' + a.slice(1) : '') + '\n';
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const TWO32 = 2 ** 32;

/** `v` (an integer below 2^32) as `digits` hex digits, zero-padded, at buf[pos]; the position after. */
function putHex32(buf: Buffer, pos: number, v: number, digits: number): number {
  for (let d = digits - 1; d >= 0; d--) { buf[pos + d] = HEX[v & 15]!; v >>>= 4; }
  return pos + digits;
}

/** A non-negative integer as bare lower-case hex (%lx). */
function putHex(buf: Buffer, pos: number, v: number): number {
  if (v < TWO32) {
    let n = 1;
    for (let x = v >>> 4; x > 0; x >>>= 4) n++;
    return putHex32(buf, pos, v, n);
  }
  return pos + buf.write(v.toString(16), pos, 'latin1');
}

/**
 * Every printed symbol in address order (the kernel's and DTrace's order: the core kernel up to
 * `_end`, then the modules), the same bytes as kallmodsymsLine gives, written into 1 MiB
 * buffers: 160k lines as strings cost ~3x more (the hex formatting and one concatenation each).
 */
export async function writeKallmodsyms(t: SymbolTable, out: Writable, f: KallmodsymsFormat): Promise<number> {
  const { keys, types, names } = t.d;
  const cap = FLUSH_BYTES + (1 << 16);
  let buf = Buffer.allocUnsafe(cap), pos = 0, lines = 0;
  for (let i = 0; i < t.length; i++) {
    if (!printsSymbol(t, i, f)) continue;
    const name = names.get(i);
    const a = t.annotation(i, f.mode);
    // the longest line this symbol can make: address, size, type, name, the annotation as UTF-8
    const need = 48 + name.length + 3 * a.length;
    if (pos + need > cap) {
      await writeAsync(out, buf.subarray(0, pos));
      buf = Buffer.allocUnsafe(Math.max(cap, need));
      pos = 0;
    }
    if (wide(t)) pos = putHex32(buf, pos, keyHigh32(keys[i]!), 8);
    pos = putHex32(buf, pos, keyLow32(keys[i]!), 8);
    buf[pos++] = 32;
    if (f.size) { pos = putHex(buf, pos, printedSize(t, i)); buf[pos++] = 32; }
    buf[pos++] = types[i]!;
    buf[pos++] = 32;
    pos += buf.write(name, pos, 'latin1');
    if (a) { buf[pos++] = 9; pos += buf.write(a.slice(1), pos, 'utf8'); }
    buf[pos++] = 10;
    lines++;
    if (pos >= FLUSH_BYTES) {
      await writeAsync(out, buf.subarray(0, pos));
      buf = Buffer.allocUnsafe(cap);
      pos = 0;
    }
  }
  await writeAsync(out, buf.subarray(0, pos));
  return lines;
}
