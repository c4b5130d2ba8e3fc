import { keyToHex } from '../address.js';
import type { Warning } from '../errors.js';
import type { NameStore } from './name-store.js';
import { isTextType } from './symbol-table.js';

/**
 * The KASLR slide between a link-time list (System.map, vmlinux symtab) and the runtime one
 * (kallsyms), and whether the two describe the same build at all. A System.map of another
 * build, or kallsyms of another kernel, must be reported — never used to annotate.
 */
export interface SlideResult {
  slide: number;
  consistent: boolean;
  anchors: { name: string; slide: number }[];
  /** Share of runtime core text symbols found in the link-time list at address + slide. */
  matchRate: number;
  warnings: Warning[];
}

const ANCHORS = ['_text', '_stext', '_etext', '_sinittext', '_einittext', 'startup_64', '__start_rodata', '_end'];

export interface RuntimeView {
  label: string;
  keys: Float64Array;
  names: NameStore;
  types: Uint8Array;
  isCore(j: number): boolean;
}

export interface LinkTimeView {
  label: string;
  keys: Float64Array;
  names: NameStore;
  types: Uint8Array;
}

const isText = isTextType;

export function computeSlide(rt: RuntimeView, lt: LinkTimeView): SlideResult {
  const warnings: Warning[] = [];
  const ltAddr = new Map<string, number>();
  const dupLt = new Set<string>();
  for (let i = 0; i < lt.names.length; i++) {
    const nm = lt.names.get(i);
    if (ltAddr.has(nm)) dupLt.add(nm); else ltAddr.set(nm, lt.keys[i]!);
  }
  const rtAnchor = new Map<string, number>();
  const wanted = new Set(ANCHORS);
  for (let j = 0; j < rt.keys.length; j++) {
    if (!rt.isCore(j)) continue;
    const nm = rt.names.get(j);
    if (wanted.has(nm) && !rtAnchor.has(nm)) rtAnchor.set(nm, rt.keys[j]!);
  }
  const anchors: { name: string; slide: number }[] = [];
  for (const a of ANCHORS) {
    const r = rtAnchor.get(a), l = ltAddr.get(a);
    if (r !== undefined && l !== undefined) anchors.push({ name: a, slide: r - l });
  }
  if (!anchors.length) {
    warnings.push({ source: lt.label,
      message: `no anchor symbol (${ANCHORS.slice(0, 3).join(', ')}...) in both ${rt.label} and this file: cannot relate their addresses` });
    return { slide: 0, consistent: false, anchors, matchRate: 0, warnings };
  }
  const slide = anchors[0]!.slide;
  const disagree = anchors.filter((a) => a.slide !== slide);
  // every core text symbol with a unique link-time name must sit at link-time + slide
  let found = 0, match = 0;
  for (let j = 0; j < rt.keys.length; j++) {
    if (!rt.isCore(j) || !isText(rt.types[j]!)) continue;
    const nm = rt.names.get(j);
    if (dupLt.has(nm)) continue;
    const l = ltAddr.get(nm);
    if (l === undefined) continue;
    found++;
    if (l + slide === rt.keys[j]) match++;
  }
  const matchRate = found ? match / found : 0;
  let consistent = true;
  if (disagree.length) {
    consistent = false;
    warnings.push({ source: lt.label, message: `does not match ${rt.label}: KASLR slide ${keyToHexSigned(slide)} from ${anchors[0]!.name} ` +
      `but ${disagree.map((a) => `${keyToHexSigned(a.slide)} from ${a.name}`).join(', ')} (another build?)` });
  } else if (found < 100 || matchRate < 0.99) {
    consistent = false;
    warnings.push({ source: lt.label,
      message: `does not match ${rt.label}: only ${match} of ${found} text symbols agree at slide ${keyToHexSigned(slide)} ` +
        '(another build or another kernel?)' });
  }
  return { slide, consistent, anchors, matchRate, warnings };
}

export function keyToHexSigned(d: number): string {
  return d < 0 ? '-' + keyToHex(-d) : keyToHex(d);
}
