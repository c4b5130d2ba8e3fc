/**
 * Kernel stack frames in the text of the tools that print them (latin1 string, offsets = bytes),
 * one line at a time. Only recognition: which symbol a frame means is core's (resolvePrinted).
 *
 *   `    tcp_transmit_skb+1308`                    bpftrace kstack (DECIMAL offset)
 *   `\tffffffff8160babb find_vma+59`               bpftrace kstack(perf): the address decides
 *   `    do_sys_open+0x1 [kernel]`, `... [kvm]`    bcc (`[kernel]`: a built-in symbol, no module said)
 *   `    submit_bio`                                bcc stackcount / profile / offcputime (bare names;
 *                                                   after a `    --` delimiter: user frames, skipped)
 *   `dd;read;-;entry_SYSCALL_64;vfs_read 1`        folded (`profile -f`, `stackcount -f`): frames
 *   `...;vfs_read_[k];... 1`                         after `-`, or marked `_[k]`, are kernel frames
 *   `[<0>] proc_pid_stack+0xb1/0x150`              /proc/PID/stack (address 0: core never uses it)
 *   ` #4 [ffffc900..] func at ffffffffc01fd398 [xen_gntdev]`   crash bt (`func+0x167 at`, `(via x)`)
 *   `    [exception RIP: kmem_cache_alloc+120]`     crash (decimal, or `+0xb`)
 *   `    #5  blk_mq_sched_bio_merge (../block/..)`  drgn; `#5 at 0xffff.. (do_sys_poll+0x400/0x578) in ..`
 *   `     1.49%  [k] exc_page_fault`                perf report --stdio
 *
 * Every form is read from a fixed place of the line (its start, or after its one marker) by a
 * hand-written scanner: each byte is looked at a bounded number of times (10 MB lines).
 */
import type { PrintedRef } from '@kallmod/core/types';

export interface StackRef {
  printed: PrintedRef;
  /** Right after the printed name: where the notation goes (before `+off`, `_[k]`, ` at`, ...). */
  at: number;
  /**
   * The form prints `[mod]` after every loadable-module frame (bcc's `[kernel]`/`[mod]` frames,
   * /proc/PID/stack, crash bt): a frame without one is not in a loadable module.
   */
  modulesPrinted: boolean;
  /**
   * What the frame's address is, for --lines: `ip` the exact place (crash's exception RIP, drgn's
   * frame #0), `return` where a call returns to (looked up at address - 1), `stack` a frame of a
   * bpftrace/bcc stack (the first of its stack is the ip, the others return addresses), null
   * for no line (folded stacks and perf report rows name functions, not places; drgn prints
   * its own file:line).
   */
  call: Call;
}

export type Call = 'ip' | 'return' | 'stack' | null;

/** What one line tells about the next ones: a bcc stack's frames after its `--` are user space. */
export interface LineState { user: boolean }

function isSpace(c: number): boolean { return c === 32 || c === 9; }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
function isHex(c: number): boolean { return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70); }
function isNameStart(c: number): boolean { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; }
function isNameChar(c: number): boolean { return isNameStart(c) || isDigit(c) || c === 46 || c === 36; }
function isModuleChar(c: number): boolean { return isNameStart(c) || isDigit(c) || c === 45; }

/** End of the symbol name starting at i (i itself when there is none). */
export function nameEnd(s: string, i: number, end: number): number {
  if (i >= end || !isNameStart(s.charCodeAt(i))) return i;
  let k = i + 1;
  while (k < end && isNameChar(s.charCodeAt(k))) k++;
  return k;
}

function hexEnd(s: string, i: number, end: number): number {
  while (i < end && isHex(s.charCodeAt(i))) i++;
  return i;
}

function digitsEnd(s: string, i: number, end: number): number {
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  return i;
}

/** `+0x1a` (hex) or `+1308` (decimal) at i: [value, end], or null. */
function offsetAt(s: string, i: number, end: number): [number, number] | null {
  if (s.charCodeAt(i) !== 43 /* + */) return null;
  if (s.charCodeAt(i + 1) === 48 && s.charCodeAt(i + 2) === 120 /* 0x */) {
    const e = hexEnd(s, i + 3, end);
    return e > i + 3 && e - i - 3 <= 13 ? [parseInt(s.slice(i + 3, e), 16), e] : null;
  }
  const e = digitsEnd(s, i + 1, end);
  return e > i + 1 && e - i - 1 <= 15 ? [Number(s.slice(i + 1, e)), e] : null;
}

/** `/0x40` at i: [size, end], or null. */
function sizeAt(s: string, i: number, end: number): [number, number] | null {
  if (s.charCodeAt(i) !== 47 || s.charCodeAt(i + 1) !== 48 || s.charCodeAt(i + 2) !== 120) return null;
  const e = hexEnd(s, i + 3, end);
  return e > i + 3 && e - i - 3 <= 13 ? [parseInt(s.slice(i + 3, e), 16), e] : null;
}

/** ` [mod]` at i: [module, end], or null. Digits alone are no module: stackcount's `    comm [pid]`. */
function moduleAt(s: string, i: number, end: number): [string, number] | null {
  if (s.charCodeAt(i) !== 32 || s.charCodeAt(i + 1) !== 91) return null;
  let k = i + 2, digits = true;
  for (; k < end && isModuleChar(s.charCodeAt(k)); k++) if (!isDigit(s.charCodeAt(k))) digits = false;
  return k > i + 2 && !digits && s.charCodeAt(k) === 93 ? [s.slice(i + 2, k), k + 1] : null;
}

function ref(s: string, from: number, to: number, name: [number, number], offset: number | null, size: number | null,
  address: string | null, module: string | null, modulesPrinted: boolean, call: Call): StackRef {
  return {
    printed: { text: s.slice(from, to), name: s.slice(name[0], name[1]), offset, size, address, module },
    at: name[1],
    modulesPrinted,
    call,
  };
}

function addressOf(hex: string): string { return '0x' + hex.toLowerCase(); }

/** bcc's indents of bare-name frames: stackcount's 2 spaces, profile's / offcputime's 4. */
function bccIndent(s: string, i: number): boolean {
  return (i === 2 || i === 4) && s.charCodeAt(0) === 32 && s.charCodeAt(i - 1) === 32 && s.charCodeAt(1) === 32 && s.charCodeAt(i - 2) === 32;
}

/**
 * A frame that is the whole rest of the line from i: `[ADDR ]name[+off[/0xsize]][ [mod]]`
 * (bpftrace, bcc, /proc/PID/stack after its `[<addr>] `), outside a bcc stack's user part. A
 * bare name counts only at bcc's indents (an indented word of prose is not a frame: `resolution`
 * in bcc's own help text).
 */
function wholeLineFrame(s: string, i: number, end: number, st: LineState, address: string | null, out: StackRef[], procStack = false): boolean {
  // after bcc's `--` every frame is user space, with offsets or addresses (`-v`) or not
  if (st.user) return false;
  const from = i;
  const h = hexEnd(s, i, end);
  if (address === null && h - i >= 8 && h - i <= 16 && s.charCodeAt(h) === 32) { address = addressOf(s.slice(i, h)); i = h + 1; }
  const n = nameEnd(s, i, end);
  if (n === i) return false;
  let k = n, offset: number | null = null, size: number | null = null, module: string | null = null;
  const o = offsetAt(s, k, end);
  if (o) {
    [offset, k] = o;
    const z = sizeAt(s, k, end);
    if (z) [size, k] = z;
  }
  const m = moduleAt(s, k, end);
  let printedModule = false;
  if (m) { module = m[0] === 'kernel' ? null : m[0]; k = m[1]; printedModule = true; }
  if (k !== end) return false;
  // a bare name: at bcc's indents, outside the user part, and not a raw address (kstack(raw))
  if (!o && !printedModule && address === null && (!bccIndent(s, from) || (n - i >= 8 && hexEnd(s, i, n) === n))) return false;
  out.push(ref(s, from, end, [i, n], offset, size, address, module, procStack || printedModule, procStack ? 'return' : 'stack'));
  return true;
}

/** `[<ffffffff81234567>] name+0x../0x..` (/proc/PID/stack) or `[exception RIP: name+489]` (crash). */
function bracketFrame(s: string, i: number, end: number, st: LineState, out: StackRef[]): void {
  if (s.charCodeAt(i + 1) === 60 /* < */) {
    const h = hexEnd(s, i + 2, end);
    if (h === i + 2 || h - i - 2 > 16 || s.charCodeAt(h) !== 62 || s.charCodeAt(h + 1) !== 93 || s.charCodeAt(h + 2) !== 32) return;
    let k = h + 3;
    if (s.charCodeAt(k) === 63 /* ? */ && s.charCodeAt(k + 1) === 32) k += 2;
    wholeLineFrame(s, k, end, st, addressOf(s.slice(i + 2, h)), out, true);
    return;
  }
  if (crashFrame(s, i, end, out)) return;
  if (!s.startsWith('[exception RIP: ', i)) return;
  const a = i + 16, n = nameEnd(s, a, end);
  if (n === a) return;
  const o = offsetAt(s, n, end);
  const k = o ? o[1] : n;
  if (s.charCodeAt(k) !== 93) return;
  out.push(ref(s, a, k, [a, n], o ? o[0] : null, null, null, null, false, 'ip'));
}

/** crash's `name[+off][ (via x)] at ADDR[ [mod]]` from a (the frame's name): false when not one. `call`: a frame's return address, START's ip. */
function crashTail(s: string, a: number, end: number, out: StackRef[], call: Call = 'return'): boolean {
  const n = nameEnd(s, a, end);
  if (n === a) return false;
  const o = offsetAt(s, n, end);
  let t = o ? o[1] : n;
  if (s.startsWith(' (via ', t)) {
    const v = nameEnd(s, t + 6, end);
    if (v === t + 6 || s.charCodeAt(v) !== 41) return false;
    t = v + 1;
  }
  if (!s.startsWith(' at ', t)) return false;
  const ha = hexEnd(s, t + 4, end);
  if (ha === t + 4 || ha - t - 4 > 16) return false;
  const m = moduleAt(s, ha, end);
  out.push(ref(s, a, m ? m[1] : ha, [a, n], o ? o[0] : null, null, addressOf(s.slice(t + 4, ha)), m ? m[0] : null, true, call));
  return true;
}

/** `[sp] name ... at ADDR` at k (crash bt's frames, and bt -t's stack words): false when not one. */
function crashFrame(s: string, k: number, end: number, out: StackRef[]): boolean {
  const h = hexEnd(s, k + 1, end);
  if (h === k + 1 || h - k - 1 > 16 || s.charCodeAt(h) !== 93 || s.charCodeAt(h + 1) !== 32) return false;
  return crashTail(s, h + 2, end, out);
}

/**
 * `#N [sp] name[+off][ (via x)] at ADDR[ [mod]]` (crash bt), `#N  name[+0x../0x..] (file:line)`
 * and `#N at 0xADDR (name+0x../0x..) in ...` (drgn).
 */
function hashFrame(s: string, i: number, end: number, out: StackRef[]): void {
  let k = digitsEnd(s, i + 1, end);
  if (k === i + 1 || !isSpace(s.charCodeAt(k))) return;
  while (k < end && isSpace(s.charCodeAt(k))) k++;
  if (s.charCodeAt(k) === 91 /* [ crash */) { crashFrame(s, k, end, out); return; }
  if (s.startsWith('at 0x', k)) {
    const h = hexEnd(s, k + 5, end);
    if (h === k + 5 || h - k - 5 > 16 || s.charCodeAt(h) !== 32 || s.charCodeAt(h + 1) !== 40) return;
    const a = h + 2, n = nameEnd(s, a, end);
    const o = offsetAt(s, n, end);
    if (n === a || !o) return;
    const z = sizeAt(s, o[1], end);
    const t = z ? z[1] : o[1];
    if (s.charCodeAt(t) !== 41) return;
    out.push(ref(s, a, t, [a, n], o[0], z ? z[0] : null, addressOf(s.slice(k + 5, h)), null, false, drgnCall(s, i, end)));
    return;
  }
  const n = nameEnd(s, k, end);
  if (n === k) return;
  let t = n, offset: number | null = null, size: number | null = null;
  const o = offsetAt(s, n, end);
  if (o) {
    [offset, t] = o;
    const z = sizeAt(s, t, end);
    if (z) [size, t] = z;
  }
  if (t !== end && !s.startsWith(' (', t)) return;
  // ` (file:line)`: drgn's own line, none added
  out.push(ref(s, k, t, [k, n], offset, size, null, null, false, t === end && offset !== null ? drgnCall(s, i, end) : null));
}

/** drgn's frame #0 is where the thread is; the others are return addresses. */
function drgnCall(s: string, i: number, end: number): Call {
  return Number(s.slice(i + 1, digitsEnd(s, i + 1, end))) === 0 ? 'ip' : 'return';
}

/** Every `[k] name` of a perf report --stdio line (`[k]` after a space or at the start). */
function perfReportFrames(s: string, from: number, end: number, out: StackRef[]): void {
  for (let k = s.indexOf('[k] ', from); k >= 0 && k + 4 < end; k = s.indexOf('[k] ', k + 4)) {
    if (k > 0 && !isSpace(s.charCodeAt(k - 1))) continue;
    const a = k + 4, n = nameEnd(s, a, end);
    if (n === a || (n < end && !isSpace(s.charCodeAt(n)))) continue;
    out.push(ref(s, a, n, [a, n], null, null, null, null, false, null));
  }
}

/**
 * A folded stack `comm;f1;...;fn COUNT`: its kernel frames (after a `-` frame, or ending in
 * `_[k]`). False when the line is not one.
 */
function foldedFrames(s: string, end: number, out: StackRef[]): boolean {
  const sp = s.lastIndexOf(' ', end - 1);
  if (sp <= 0 || sp === end - 1) return false;
  for (let k = sp + 1; k < end; k++) { const c = s.charCodeAt(k); if (!isDigit(c) && c !== 46) return false; }
  let a = s.indexOf(';');
  if (a < 0 || a > sp) return false;
  let kernel = false;
  while (a < sp) {
    const f = a + 1;
    let b = s.indexOf(';', f);
    if (b < 0 || b > sp) b = sp;
    if (b === f + 1 && s.charCodeAt(f) === 45 /* - */) kernel = true;
    else {
      const marked = b - f > 4 && s.startsWith('_[k]', b - 4);
      const e = marked ? b - 4 : b;
      if ((marked || kernel) && nameEnd(s, f, e) === e && e > f) out.push(ref(s, f, b, [f, e], null, null, null, null, false, null));
    }
    a = b;
  }
  return true;
}

/** Every kernel frame of one line (without its "\n"; a final CR is not part of any frame). */
export function findStackRefs(s: string, st: LineState, out: StackRef[]): void {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 13) end--;
  let i = 0;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  if (i === end) { st.user = false; return; }
  const c = s.charCodeAt(i);
  if (i === 0 && c !== 91 /* [ */ && c !== 35 /* # */) {
    if (!foldedFrames(s, end, out)) perfReportFrames(s, 0, end, out);
    return;
  }
  if (c === 45 /* - */) {
    // bcc's `    --` (user frames follow) and `    -   comm (pid)` (the stack's last line)
    if (i + 2 === end && s.charCodeAt(i + 1) === 45) st.user = true;
    else if (isSpace(s.charCodeAt(i + 1))) st.user = false;
    return;
  }
  if (c === 91 /* [ */) { bracketFrame(s, i, end, st, out); if (out.length === 0) perfReportFrames(s, i, end, out); return; }
  if (c === 35 /* # */) { hashFrame(s, i, end, out); return; }
  if (c === 83 /* S */ && s.startsWith('START: ', i)) { crashTail(s, i + 7, end, out, 'ip'); return; }
  if (!wholeLineFrame(s, i, end, st, null, out)) perfReportFrames(s, i, end, out);
}
