/**
 * One callchain entry `{ "ip": "0x...", "symbol": "...", "dso": "..." }`: when its dso is a
 * kernel one, the resolution is inserted after its last field, on that field's line (a
 * transformer keeps the line count: `--refs` line numbers and line-based tools still match the
 * input), with the `key: value` spacing copied from its first field:
 *     "dso": "[kernel.kallsyms]", "modules": ["ext4"], "builtin": true, "objname": "fs/ext4/inode.o", "ambiguous": false
 * The address decides (an address lies in one symbol); the printed symbol is checked, and when
 * it disagrees (alias, return address past a function's end, other boot) the name decides.
 * An entry with only an "ip" (perf found no symbol) is a kernel one when the address is; an
 * entry that resolves to nothing is left as it is (empty fields would read as "core kernel").
 */
import { isKernelDso } from '@kallmod/core/kernel-dso';
import { isKernelKey, keyFromHex } from '@kallmod/core/address';
import { refJson, type SymbolTable } from '@kallmod/core/table/symbol-table';
import type { Hints } from '@kallmod/core/table/resolve-policy';
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { OutBuffer } from '@kallmod/core/stream/out-buffer';
import type { Resolution } from '@kallmod/core/types';
import { lineFields, refWithLines } from '@kallmod/core/lines/line-text';

const PERF_CONTEXT_MAX = keyFromHex('fffffffffffff001');

export interface Fields { ip: string | null; symbol: string | null; dso: string | null }

export class EntryAnnotator {
  /** Annotated bytes by entry text, and the consistency checks its resolution made (replayed on a hit). */
  private byText = new Map<string, { out: Buffer; agreed: number; disagreed: number; example: string }>();
  private kernelDso = new Map<string, boolean>();

  /**
   * --lines: the next entry is a callchain's first, the sample's own ip (looked up exactly); the
   * others are return addresses (address - 1: the call). Set by the scanner's hooks (sampleStart).
   */
  private ipNext = false;

  constructor(readonly table: SymbolTable, readonly opts: AnnotatorOptions) {}

  /** A callchain opens (--lines): its first entry is the sample's ip. */
  sampleStart(): void { this.ipNext = true; }

  /** Is the entry being read a return address (--lines)? Every entry asks once, kernel or not. */
  private returnAddress(): boolean {
    const ret = !this.ipNext;
    this.ipNext = false;
    return ret;
  }

  /** Text mode: the entry, with the fields inserted when it is a kernel frame. */
  annotate(e: Buffer, out: OutBuffer): void {
    const ret = this.returnAddress();
    // same bytes, same output: real callchains repeat the same frames over and over
    if (!this.isKernelEntry(e)) return out.bytes(e, 0, e.length);
    // --lines: an ip and a return address at the same bytes have other lines
    const text = (this.opts.lines ? (ret ? 'r' : 'i') : '') + e.toString('latin1');
    const c = this.table.consistency;
    let done = this.byText.get(text);
    if (done === undefined) {
      const checked = c.checked, disagreed = c.disagreed;
      const bytes = this.insertFields(e, ret);
      const d = c.disagreed - disagreed;
      done = { out: bytes, agreed: c.checked - checked - d, disagreed: d, example: d ? `${fields(e).ip} printed as ${fields(e).symbol}` : '' };
      if (this.byText.size > 50_000) this.byText.clear(); // constant memory on any input
      this.byText.set(text, done);
    } else {
      // every reference counts, not every distinct one
      for (let k = 0; k < done.agreed; k++) this.table.noteCheck(true);
      for (let k = 0; k < done.disagreed; k++) this.table.noteCheck(false, done.example);
    }
    out.bytes(done.out, 0, done.out.length);
  }

  private isKernelEntry(e: Buffer): boolean {
    const dso = stringField(e, DSO);
    if (dso !== null) return this.isKernel(dso);
    const ip = stringField(e, IP);
    if (ip === null) return false;
    const k = keyFromHex(ip);
    // not perf's callchain context markers (PERF_CONTEXT_KERNEL = -128 ...): no code there
    return isKernelKey(k) && k < PERF_CONTEXT_MAX;
  }

  private isKernel(dso: string): boolean {
    let k = this.kernelDso.get(dso);
    if (k === undefined) { k = isKernelDso(dso); this.kernelDso.set(dso, k); }
    return k;
  }

  private insertFields(e: Buffer, returnAddress: boolean): Buffer {
    const text = e.toString('latin1');
    const f = fields(e);
    if (!f.ip) return e;
    const r = this.resolve(f);
    if (r.name === null && !r.ambiguous) return e;
    // insertion point: after the last value, before the whitespace that precedes "}"
    let at = e.length - 1;
    while (at > 0 && isWs(e[at - 1]!)) at--;
    const open = e.indexOf(34); // first key
    if (open < 0) return e;
    // what separates the entry's fields when they share a line ('' or ' '); one line for fields
    // laid out one per line
    const between = text.slice(1, open);
    const indent = /[\n\r]/.test(between) ? ' ' : between;
    const colon = e.indexOf(58, open);
    let v = colon + 1;
    while (v < e.length && isWs(e[v]!)) v++;
    const sep = text.slice(e.indexOf(34, open + 1) + 1, v);
    const field = (k: string, val: unknown) => `,${indent}"${k}"${sep}${JSON.stringify(val)}`;
    const objname = this.opts.objname === 'never' ? null : r.objname;
    let ins = field('modules', r.modules) + field('builtin', r.builtin) + field('objname', objname) + field('ambiguous', r.ambiguous);
    if (this.opts.lines) {
      // lookup --json's names; inlined: the chain innermost first, on the same line
      const li = lineFields(this.opts.lines.lines(r, returnAddress));
      ins += field('file', li.file) + field('line', li.line) + field('column', li.column)
        + (li.discriminator ? field('discriminator', li.discriminator) : '') + field('inlined', li.inlined);
    }
    return Buffer.concat([e.subarray(0, at), Buffer.from(ins, 'utf8'), e.subarray(at)]);
  }

  /** --refs: the JSON line for a kernel entry, '' for others. */
  ref(e: Buffer, line: number, out: OutBuffer): void {
    const ret = this.returnAddress();
    const f = fields(e);
    if (!f.ip || !this.isKernelEntry(e)) return;
    const r = this.resolve(f);
    const text = e.toString('utf8').replace(/\s+/g, ' ');
    const o = { ...refJson(line, { text, name: f.symbol, offset: null, size: null, address: f.ip }, r), symbolName: r.name };
    out.str(JSON.stringify(this.opts.lines ? refWithLines(o, this.opts.lines.lines(r, ret)) : o) + '\n');
  }

  /**
   * For samples (`kallmod report`): a kernel entry's resolution, or null for a user-space one
   * (its fields: `fields(e)`); an entry with no "ip" is a user one named `[unknown]`.
   */
  kernelResolution(e: Buffer): Resolution | null {
    const f = fields(e);
    if (!f.ip || !this.isKernelEntry(e)) return null;
    return this.resolve(f);
  }

  /** By the one policy (core table/resolve-policy.ts): a callchain ip may be a return address. */
  private resolve(f: Fields): Resolution {
    return this.table.resolve({ name: f.symbol, offset: null, size: null, address: f.ip }, PERF_FRAME);
  }
}

const PERF_FRAME: Hints = { returnAddress: true };

function isWs(c: number): boolean { return c === 32 || c === 9 || c === 10 || c === 13; }

/** The raw (unescaped: kernel names need none) string values of ip, symbol, dso. */
export function fields(e: Buffer): Fields {
  return { ip: stringField(e, IP), symbol: stringField(e, SYMBOL), dso: stringField(e, DSO) };
}
const IP = Buffer.from('"ip"'), SYMBOL = Buffer.from('"symbol"'), DSO = Buffer.from('"dso"');

function stringField(e: Buffer, key: Buffer): string | null {
  const k = e.indexOf(key);
  if (k < 0) return null;
  let p = k + key.length;
  while (p < e.length && isWs(e[p]!)) p++;
  if (e[p] !== 58) return null;
  p++;
  while (p < e.length && isWs(e[p]!)) p++;
  if (e[p] !== 34) return null;
  let q = p + 1;
  while (q < e.length && e[q] !== 34) q += e[q] === 92 ? 2 : 1;
  return e.toString('latin1', p + 1, q);
}
