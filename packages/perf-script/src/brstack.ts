/**
 * Branch records (`-F brstack`, `-F brstacksym`): `FROM/TO/flags...`, FROM and TO either
 * `0xADDR` or `name+0xoff`, each optionally followed by `(dso)`. The token must stay one token
 * (tools split brstack on spaces), so the annotation is written without spaces:
 *   0xffffffff812da8e0<vfs_read[ext4]>/0x7f12a0b1c2d3/P/-/-/0
 *   vfs_read[ext4]{inode.o}+0x12/ksys_read+0x5/P/-/-/0
 * brstacksym prints no address: a name is resolved by name (+offset), and only when its
 * `(dso)` is a kernel one or, without a dso, when the table knows the name.
 */
import { isKernelDso, moduleOfDso } from '@kallmod/core/kernel-dso';
import { isKernelKey, keyFromHexBytes } from '@kallmod/core/address';
import type { Scanner } from './scan.js';
import { BARE, NAMED, newFrame } from './frame-parse.js';

const f = newFrame();

export function annotateBranch(sc: Scanner, buf: Buffer, start: number, end: number, line: number): void {
  // the first two `/`-separated parts are FROM and TO; a "(dso)" path has "/" of its own
  let p = start;
  // the first ')' after the last '(' seen (end: none in this token), so that a token of many
  // '(' is read once, and never past its end (indexOf read on to the chunk's end for each)
  let close = -1;
  for (let part = 0; part < 2 && p < end; part++) {
    let q = p;
    while (q < end && buf[q] !== 47) {
      if (buf[q] === 40) {
        if (close <= q) { close = q + 1; while (close < end && buf[close] !== 41) close++; }
        if (close < end) q = close;
      }
      q++;
    }
    side(sc, buf, p, q, line);
    p = q + 1;
  }
}

function side(sc: Scanner, buf: Buffer, start: number, end: number, line: number): void {
  // split off "(dso)"
  let symEnd = end, dsoStart = 0, dsoEnd = 0;
  if (end > start && buf[end - 1] === 41) {
    let o = end - 2; // the last '(' of this side only (lastIndexOf would read on to the chunk's start)
    while (o > start && buf[o] !== 40) o--;
    if (o > start) { symEnd = o; dsoStart = o + 1; dsoEnd = end - 1; }
  }
  if (buf[start] === 48 && buf[start + 1] === 120) { // 0xADDR
    const key = keyFromHexBytes(buf, start + 2, symEnd);
    if (!(key === key) || !isKernelKey(key)) return;
    const i = sc.table.lookupKey(key);
    f.key = key; f.addrStart = start; f.kind = BARE; f.nameStart = f.nameEnd = f.tokenEnd = symEnd; f.offset = -1;
    f.dsoStart = dsoStart; f.dsoEnd = dsoEnd; f.inlined = false;
    if (sc.refs) return sc.refs.branch(f, buf, start, end, line);
    if (i >= 0) sc.insert(symEnd, sc.compactText(sc.unnamedText(i)));
    return;
  }
  const dso = dsoEnd > dsoStart ? buf.toString('latin1', dsoStart, dsoEnd) : null;
  if (dso !== null && !isKernelDso(dso)) return;
  let nameEnd = symEnd, off: number | null = null;
  // the last "+" of this side only (a search through the whole chunk, on every "[unknown]")
  let plus = symEnd - 1;
  while (plus > start && buf[plus] !== 43) plus--;
  if (plus > start && plus < symEnd && buf[plus + 1] === 48 && buf[plus + 2] === 120) {
    const v = Number.parseInt(buf.toString('latin1', plus + 3, symEnd), 16);
    if (Number.isFinite(v)) { nameEnd = plus; off = v; }
  }
  if (nameEnd <= start) return;
  const name = buf.toString('latin1', start, nameEnd);
  if (name === '[unknown]') return;
  // a module's dso ("([udf])") narrows duplicates
  const r = sc.res.byName(name, off, dso === null ? null : moduleOfDso(dso));
  if (r.name === null && dsoEnd === 0) return; // not a kernel name: a user function
  f.key = NaN; f.addrStart = -1; f.kind = NAMED; f.nameStart = start; f.nameEnd = nameEnd; f.tokenEnd = symEnd;
  f.offset = off ?? -1; f.dsoStart = dsoStart; f.dsoEnd = dsoEnd; f.inlined = false;
  if (sc.refs) return sc.refs.branchByName(f, r, buf, start, end, line);
  sc.insert(nameEnd, sc.compactText(sc.table.annotationOf(r, sc.opts.objname)));
}

