/**
 * THE HOT LOOP: a chunk of whole `perf script` lines in, the annotated bytes out.
 *
 * Unchanged bytes are copied in runs; an annotation is only ever inserted (never a byte
 * removed), right after the symbol name and before any `+0x` offset, so FlameGraph's
 * stackcollapse-perf.pl (which strips a trailing `+0x..` and needs ` (dso)` intact) groups
 * frames by (name, module, objname):
 *     \tffffffff812da8e0 vfs_read [ext4] {inode.o}+0x12 ([kernel.kallsyms])
 * Frames perf could not name get the resolved name in angle brackets after what perf printed:
 *     \tffffffff812da8e0 [unknown] <vfs_read [ext4]> ([unknown])     \tffffffff812da8e0 <vfs_read>
 * Callchain lines (indented) take the fast path: no strings, no regex. Other lines (sample
 * headers: `-G` one-line samples, brstack tokens) go through `header-line.ts`.
 */
import { SymbolCache } from '@kallmod/core/table/symbol-cache';
import { OutBuffer } from '@kallmod/core/stream/out-buffer';
import type { AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { LineSource } from '@kallmod/core/lines/line-source';
import { lineSuffix, type LineInfo } from '@kallmod/core/lines/line-text';
import type { Resolution } from '@kallmod/core/types';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { hex16, hex16Low } from './frame-parse.js';

const MEMO_MASK = (1 << 14) - 1;
const KERNEL_DSO = Buffer.from('[kernel.kallsyms]'), GUEST_KERNEL_DSO = Buffer.from('[guest.kernel.kallsyms]');
const NO_MODULES: readonly string[] = [];
import { FrameResolver } from './frame-resolver.js';
import { BARE, NAMED, newFrame, parseFrame, sameBytes, type Frame } from './frame-parse.js';
import { annotateHeaderLine } from './header-line.js';
import { RefSink } from './refs.js';

export class Scanner {
  readonly out = new OutBuffer(1 << 20);
  readonly res: FrameResolver;
  readonly refs: RefSink | null;
  private readonly frame: Frame = newFrame();
  private readonly unnamed: SymbolCache<string>;
  private readonly compact = new Map<string, string>();
  private runStart = 0;
  private readonly memoKey = new Float64Array(MEMO_MASK + 1).fill(-1);
  private readonly memoIdx = new Int32Array(MEMO_MASK + 1);
  private buf: Buffer = Buffer.alloc(0);
  /** --lines: where source lines come from; the next frame is a sample's own ip (exact), the others return addresses */
  private readonly lines: LineSource | null;
  private nextIsIp = true;
  /** --dso-module: `[kernel.kallsyms]` gains the frame's module (`[kernel.kallsyms:ext4]`). */
  private readonly dsoModule: boolean;
  /** --lines=fold: inline frames as lines of their own (inlineLines) */
  private readonly inlineFrames: boolean;
  /** the address of the `(inlined)` line perf printed just before (NaN: none): perf expanded that frame's inlines itself */
  private perfInlinedKey = NaN;

  constructor(readonly table: SymbolTable, readonly opts: AnnotatorOptions) {
    this.lines = opts.lines ?? null;
    this.dsoModule = Boolean(opts.extra?.['dsoModule']) && !opts.refs;
    this.inlineFrames = Boolean(opts.extra?.['linesFold']) && !opts.refs;
    this.res = new FrameResolver(table, opts);
    this.unnamed = new SymbolCache(table.length);
    this.refs = opts.refs ? new RefSink(table, this.res, this.out) : null;
  }

  /** Insert `text` before buf[at] (text mode; refs mode writes no text). */
  insert(at: number, text: string): void {
    if (this.refs || text === '') return;
    this.out.bytes(this.buf, this.runStart, at);
    this.out.str(text);
    this.runStart = at;
  }

  chunk(buf: Buffer, firstLine: number, into?: Buffer): Buffer {
    this.buf = buf;
    this.runStart = 0;
    const len = buf.length;
    const f = this.frame;
    // --lines and --dso-module need the frame parsed (the dso's place on the line: parseFrame finds it)
    const fast = !this.refs && !this.lines && !this.dsoModule;
    const table = this.table, res = this.res, memoKey = this.memoKey, memoIdx = this.memoIdx;
    let pos = 0, line = firstLine;
    while (pos < len) {
      // where to look for the end of the line: past what the fast path has already read
      let from = pos;
      const c = buf[pos];
      if (c === 9 || c === 32) {
        // callchain line: indentation, then the address
        let p = pos + 1;
        while (p < len && (buf[p] === 32 || buf[p] === 9)) p++;
        // <=: a bare "-F ip" frame may end the input without a newline
        if (p + 16 <= len && buf[p] === 102 && buf[p + 1] === 102 && buf[p + 2] === 102 && buf[p + 3] === 102) {
          // fast path: ADDR NAME then "+", " " or the line end, NAME being the symbol at ADDR
          let done = false;
          if (fast && buf[p + 16] === 32) {
            const key = hex16(buf, p);
            // a direct-mapped memo of recent lookups: profiles hit the same few addresses
            const h = hex16Low(buf, p) & MEMO_MASK;
            let i: number;
            if (memoKey[h] === key) i = memoIdx[h]!;
            else { i = key === key ? table.lookupKey(key) : -1; memoKey[h] = key; memoIdx[h] = i; }
            if (i >= 0) {
              const nb = res.bytesOf(i), n = nb.length, s = p + 17;
              let k = 0;
              while (k < n && nb[k] === buf[s + k]) k++;
              const t = buf[s + n];
              if (k === n && (t === 43 || t === 32 || t === 10 || t === 13 || s + n === len)) {
                table.consistency.checked++; // printed name agrees with the address
                const a = this.annotation(i);
                if (a !== '') this.insert(s + n, a);
                from = s + n;
                done = true;
              }
            }
          }
          if (!done) {
            let e = buf.indexOf(10, p);
            if (e < 0) e = len;
            if (buf[e - 1] === 13) e--; // CRLF input: the CR stays, after any insertion
            if ((p + 16 === e || buf[p + 16] === 32) && parseFrame(buf, p, e, f, false)) this.frameAt(f, buf, line, e, pos);
            from = e;
          }
        } else if (p < len && buf[p] !== 10) {
          // not a kernel frame: a right-aligned sample header ("   comm  pid ...", also with a
          // comm such as "cat" or "dd" that starts like hex), a " 0x..." brstack line, or a
          // user-space frame ("   7f12a0b1 read+0xd (libc.so.6)"), which is left alone
          let e = buf.indexOf(10, p);
          if (e < 0) e = len;
          if (buf[e - 1] === 13) e--;
          if (e > p && notUserFrame(buf, p, e)) { annotateHeaderLine(this, buf, pos, e, line); this.nextIsIp = true; }
          from = e;
        }
      } else if (c !== 10) {
        let e = buf.indexOf(10, pos);
        if (e < 0) e = len;
        if (buf[e - 1] === 13) e--;
        if (e > pos) annotateHeaderLine(this, buf, pos, e, line);
        this.nextIsIp = true;
        from = e;
      } else this.nextIsIp = true;
      const nl = buf.indexOf(10, from);
      pos = nl < 0 ? len : nl + 1;
      line++;
    }
    if (!this.refs) this.out.bytes(buf, this.runStart, len);
    return this.out.take(into);
  }

  /**
   * Annotate (or record) one parsed kernel frame. `lineStart`: where its line starts, for a
   * callchain line (--lines=fold puts inline frames before it), -1 on a header line.
   */
  frameAt(f: Frame, buf: Buffer, line: number, lineEnd: number, lineStart = -1): void {
    if (this.lines) return this.frameWithLines(f, buf, line, lineEnd, lineStart);
    if (this.refs) return this.refs.frame(f, this.res.resolve(f, buf), buf, line, lineEnd);
    this.finishFrame(f, buf, null);
  }

  /**
   * The one place a frame's text is finished: the notation after the name (or ` <name>` for a
   * frame perf printed without one) and, with --dso-module, the module in the dso. `r`: the
   * frame's resolution when the caller has made it (--lines), else made here only when the fast
   * test (the printed name at the printed address) fails.
   */
  private finishFrame(f: Frame, buf: Buffer, r: Resolution | null): void {
    const table = this.table;
    if (f.kind === NAMED) {
      if (r === null) {
        const i = f.inlined ? -1 : table.lookupKey(f.key);
        // the fast path's test (the printed name at the printed address); anything else: the policy
        if (i >= 0 && this.res.nameIs(i, buf, f.nameStart, f.nameEnd)) {
          table.noteCheck(true);
          this.insert(f.nameEnd, this.annotation(i));
          return this.dsoModuleAt(f, buf, table.modules(i));
        }
        r = this.res.resolve(f, buf);
      }
      this.insert(f.nameEnd, table.annotationOf(r, this.opts.objname));
      // an ambiguous frame's module is not known: its dso stays as perf printed it
      return this.dsoModuleAt(f, buf, r.ambiguous ? NO_MODULES : r.modules);
    }
    // no name printed: the policy's answer is the symbol the address lies in, looked up here
    // without a Resolution (`-F ip` text is all such frames)
    const i = table.lookupKey(f.key);
    if (i >= 0) {
      this.insert(f.kind === BARE ? f.addrStart + 16 : f.nameEnd, this.unnamedText(i));
      this.dsoModuleAt(f, buf, table.modules(i));
    }
  }

  /**
   * --dso-module: `:MOD` inserted before the `]` of a `[kernel.kallsyms]` (or guest) dso, so
   * that tools grouping by dso (Firefox Profiler, speedscope, inferno) show built-in modules;
   * one token still, starting with `[` and containing `kallsyms` (how they know a kernel frame).
   * Several modules (one object linked into several) are joined by `,`.
   */
  private dsoModuleAt(f: Frame, buf: Buffer, modules: readonly string[]): void {
    if (!this.dsoModule || modules.length === 0 || f.dsoEnd <= f.dsoStart) return;
    if (!sameBytes(buf, f.dsoStart, f.dsoEnd, KERNEL_DSO) && !sameBytes(buf, f.dsoStart, f.dsoEnd, GUEST_KERNEL_DSO)) return;
    this.insert(f.dsoEnd - 1, `:${modules.join(',')}`);
  }

  /**
   * --lines: the frame as finishFrame annotates it, and ` file:line` at the end of the line,
   * after ` (dso)`, where stackcollapse-perf.pl's frame pattern ignores it. A sample's first
   * frame is its ip (looked up exactly), the others are return addresses (address - 1: the
   * call); perf's own `(inlined)` lines repeat the address of the frame after them, so they do
   * not count as the ip. --lines=fold: the functions inlined at the address as lines of their
   * own before the frame (inlineLines), unless perf printed them already.
   */
  private frameWithLines(f: Frame, buf: Buffer, line: number, lineEnd: number, lineStart: number): void {
    const ip = this.nextIsIp;
    if (!f.inlined) this.nextIsIp = false;
    const r = f.kind === NAMED ? this.res.resolve(f, buf) : this.table.resolveKey(f.key);
    const li = f.inlined ? null : this.lines!.lines(r, !ip);
    const perfInlined = this.perfInlinedKey === f.key;
    this.perfInlinedKey = f.inlined ? f.key : NaN;
    if (this.refs) return this.refs.frame(f, r, buf, line, lineEnd, li);
    if (this.inlineFrames && li && li.inlined.length > 0 && lineStart >= 0 && !perfInlined) this.inlineLines(f, buf, r, li, lineStart, lineEnd);
    this.finishFrame(f, buf, r);
    this.insert(lineEnd, lineSuffix(li));
  }

  /**
   * --lines=fold: one line per function inlined at the frame's address, innermost first, before
   * the frame, as perf script prints inline frames (`ADDR NAME+0xOFF (inlined)`: the frame's
   * address, indentation and printed offset; the notation of the function it is inlined into,
   * whose code it is; its own ` file:line`). stackcollapse-perf.pl folds them as frames of
   * their own; `--fold --lines=fold` marks them `_[i]` (fold.ts).
   */
  private inlineLines(f: Frame, buf: Buffer, r: Resolution, li: LineInfo, lineStart: number, lineEnd: number): void {
    const head = buf.toString('latin1', lineStart, f.addrStart + 16) + ' ';
    const ann = this.table.annotationOf(r, this.opts.objname);
    const off = f.kind === NAMED ? buf.toString('latin1', f.nameEnd, f.tokenEnd) : '';
    const eol = buf[lineEnd] === 13 ? '\r\n' : '\n';
    let text = '';
    for (const x of li.inlined) text += `${head}${x.name ?? '??'}${ann}${off} (inlined)${lineSuffix(x)}${eol}`;
    this.insert(lineStart, text);
  }

  annotation(i: number): string { return this.table.annotation(i, this.opts.objname); }

  /** ` <name [mod] {obj.o}>` for a frame perf printed without a name. */
  unnamedText(i: number): string {
    return this.unnamed.get(i) ?? this.unnamed.set(i, ` <${this.table.name(i)}${this.annotation(i)}>`);
  }

  /** An annotation without spaces, for `/`-separated brstack tokens that must stay one token. */
  compactText(s: string): string {
    let c = this.compact.get(s);
    if (c === undefined) { c = s.replace(/ /g, ''); this.compact.set(s, c); }
    return c;
  }
}

/**
 * An indented line at buf[p, e) that is not a user-space frame: its first token is not all hex
 * digits (a comm, a brstack token), or the next one is a pid ("dd  1234 [000] ..."). Mirrored
 * by native/src/perf.rs not_user_frame.
 */
export function notUserFrame(buf: Uint8Array, p: number, e: number): boolean {
  let k = p;
  while (k < e && buf[k] !== 32 && buf[k] !== 9) { if (!isHexDigit(buf[k]!)) return true; k++; }
  while (k < e && (buf[k] === 32 || buf[k] === 9)) k++;
  const d = k;
  while (k < e && buf[k]! >= 48 && buf[k]! <= 57) k++;
  if (k === d) return false;
  if (k < e && buf[k] === 47) { const t = ++k; while (k < e && buf[k]! >= 48 && buf[k]! <= 57) k++; if (k === t) return false; }
  return k === e || buf[k] === 32 || buf[k] === 9;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}
