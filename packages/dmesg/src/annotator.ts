/**
 * `kallmod dmesg`: annotate every kernel symbol reference of a kernel log with its module(s) and,
 * when the name needs it, its object file. Insert-only: every input byte passes through.
 *
 * Placement (README "Placement"): by default the annotation goes BEFORE the word holding the
 * symbol (` ? [ext4] {super.o} ext4_foo+0x12/0x40`), so that scripts/decode_stacktrace.sh, which
 * decodes the last word of a line (or the word before a final `[module]`), still decodes every
 * frame it decoded before. `place: 'after'` puts it after the reference, kallmodsyms-style.
 */
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import type { Hints } from '@kallmod/core/table/resolve-policy';
import { ChunkWords } from '@kallmod/core/stream/chunk-words';
import { perLineAnnotator, type Annotator, type AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { PrintedRef, Resolution } from '@kallmod/core/types';
import { addressDiscriminator, discriminatorSuffix, lineSuffix } from '@kallmod/core/lines/line-text';
import { messageEnd, messageStart, isKmsgContinuation } from './prefix.js';
import { findFrames, type FoundRef } from './frames.js';
import { findNamed, isOpaque } from './headers.js';

export type Placement = 'before' | 'after';

/** Cheap test before any regex: does the line possibly hold a reference? */
function worthParsing(s: string): boolean {
  return s.includes('+0x') || s.includes('Workqueue:') || s.includes('[inline]') || s.includes(' from ');
}

const WORKQUEUE = Buffer.from('Workqueue:'), INLINE = Buffer.from('[inline]'), FROM = Buffer.from(' from ');

function bytesAt(buf: Buffer, i: number, end: number, w: Buffer): boolean {
  if (i + w.length > end) return false;
  for (let k = 1; k < w.length; k++) if (buf[i + k] !== w[k]) return false;
  return true;
}

/**
 * worthParsing on the line's bytes, before it is made a string: most lines of a log hold no
 * reference, and making each one a string was a third of the time (profile of a boot log).
 */
function worthParsingBytes(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 43) { if (buf[i + 1] === 48 && buf[i + 2] === 120 && i + 3 <= end) return true; }
    else if (c === 87) { if (bytesAt(buf, i, end, WORKQUEUE)) return true; }
    else if (c === 91) { if (bytesAt(buf, i, end, INLINE)) return true; }
    else if (c === 32) { if (bytesAt(buf, i, end, FROM)) return true; }
  }
  return false;
}

/**
 * Printed reference → resolution, by the one policy (core table/resolve-policy.ts). What a kernel
 * log adds to it: a loadable-module symbol is always printed with its `[mod]`, so a frame printed
 * without one is not in a loadable module (`+not-loadable`); an `[inline]` line's code is in the
 * caller printed below it.
 */
export function resolveRef(table: SymbolTable, p: PrintedRef, inline = false): Resolution {
  return table.resolve(p, inline ? INLINE_FRAME : LOG_TEXT);
}

const LOG_TEXT: Hints = { modulePrintedWhenLoadable: true };
const INLINE_FRAME: Hints = { modulePrintedWhenLoadable: true, inlineFrame: true };

/** The text to insert for one resolved reference ('' = nothing). */
export function annotationFor(table: SymbolTable, p: PrintedRef, r: Resolution, opts: AnnotatorOptions): string {
  // `func+.. [mod]` already names its (loadable) module: not repeated
  return table.annotationAfterPrinted(r, p.module, opts.objname);
}


/** Every reference of one line (latin1 string), in order. */
export function findRefs(s: string): FoundRef[] {
  if (!worthParsing(s) || isKmsgContinuation(s)) return [];
  const from = messageStart(s);
  const to = messageEnd(s);
  if (from >= to || isOpaque(s, from)) return [];
  const out: FoundRef[] = [];
  if (s.includes('+0x')) findFrames(s, from, to, out);
  findNamed(s, from, to, out);
  if (out.length > 1) out.sort((a, b) => a.end - b.end);
  return out;
}

/** worthParsingBytes' words, for ChunkWords, each found by its tail from the anchor on (`queue:`, `inline]`, `rom `). */
const WORDS = ['+0x', WORKQUEUE, INLINE, FROM];
const ANCHORS = [0, 4, 1, 2];

/**
 * For the line memo (core stream/line-memo.ts): -2 for a line with nothing to find (none of
 * worthParsingBytes' words in it: found with ChunkWords, as a byte loop over every line was most
 * of the time on a log, where 9 lines in 10 have none), else how far its digits are read only by
 * class: a leading `[...]` of spaces, digits and dots (the timestamp), whose digits prefix.ts
 * matches as \d and no recogniser reads by value (the `+0x`, `0033:`, `[<addr>]` and buildid
 * forms all need a byte that is not in it).
 */
function memoPrefix(words: ChunkWords, buf: Buffer, start: number, end: number): number {
  if (end - start < 6) return -2;
  words.line(buf, start);
  if (!words.within(0, start, end) && !words.within(1, start, end) && !words.within(2, start, end) && !words.within(3, start, end)) return -2;
  if (buf[start] !== 91 /* [ */) return start;
  for (let i = start + 1; i < end; i++) {
    const c = buf[i]!;
    if (c === 93 /* ] */) return i + 1;
    if (c !== 32 && c !== 46 && (c < 48 || c > 57)) return start;
  }
  return start;
}

/** `RIP: 0010:`, `pc : `: the exact address of the code; every other frame is where a call returns to. */
const EXACT_BEFORE = /(?:\b(?:RIP|EIP|IP): [0-9a-f]{4}:|\bpc : ?)$/;
function exactAddress(s: string, wordStart: number): boolean {
  return EXACT_BEFORE.test(s.slice(Math.max(0, wordStart - 16), wordStart + 5).replace(/[\w.$]+\+0x.*$/, ''));
}

/** The log was symbolised already (syzbot, decode_stacktrace.sh): a file:line follows the frame. */
function decodedAlready(s: string, end: number): boolean {
  return /^ \(?[\w./-]+\.[chS]:\d+/.test(s.slice(end, end + 200));
}

export function createAnnotator(table: SymbolTable, opts: AnnotatorOptions): Annotator {
  const lines = opts.lines;
  const place: Placement = opts.extra?.['place'] === 'after' ? 'after' : 'before';
  const words = new ChunkWords(WORDS, ANCHORS);
  return perLineAnnotator(table, opts, (v, w) => {
    if (v.end - v.start < 6 || !worthParsingBytes(v.buf, v.start, v.end)) return null;
    const s = v.buf.toString('latin1', v.start, v.end);
    const refs = findRefs(s);
    if (refs.length === 0) return null;
    let ins: [number, string][] | null = null;
    for (const f of refs) {
      const r = resolveRef(table, f.printed, f.inline);
      const li = lines && !f.inline && f.printed.offset !== null ? lines.lines(r, !exactAddress(s, f.wordStart)) : undefined;
      if (opts.refs) { w.ref(v.line, f.printed, r, lines ? li ?? null : undefined); continue; }
      const a = annotationFor(table, f.printed, r, opts);
      if (a) (ins ??= []).push(place === 'before' ? [f.wordStart, a.slice(1) + ' '] : [f.end, a]);
      if (li && !decodedAlready(s, f.end)) {
        // syzbot's layout: one "func file:line [inline]" line per inlined function, innermost
        // first, before the frame; the frame gains its own file:line; the address's
        // " (discriminator N)" after each file:line, as binutils (decode_stacktrace.sh) prints it
        const eol = v.end > v.start && v.buf[v.end - 1] === 13 ? '\r\n' : '\n';
        const indent = s.slice(0, f.wordStart).replace(/\? $/, '');
        const disc = addressDiscriminator(li);
        for (const x of li.inlined) {
          (ins ??= []).push([0, `${indent}${x.name ?? '??'} ${x.file ?? '??'}:${x.line ?? 0}${discriminatorSuffix(disc, x.line)} [inline]${eol}`]);
        }
        (ins ??= []).push([f.end, li.file ? lineSuffix(li) + discriminatorSuffix(disc, li.line) : '']);
      }
    }
    if (ins && ins.length > 1) ins.sort((x, y) => x[0] - y[0]);
    return ins;
  }, (buf, start, end) => memoPrefix(words, buf, start, end));
}
