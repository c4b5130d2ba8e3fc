/**
 * What the kernel's tracing interfaces accept for one resolved symbol (formats.md §8.4):
 *  - kprobe_events: `p:GROUP/EVENT 0xADDR` / `r:GROUP/EVENT 0xADDR` — the address form, because
 *    a name matching several kallsyms symbols is refused since 6.6 ("The symbol is not unique").
 *  - perf probe: `[GROUP:]EVENT=0xADDR` (absolute kernel addresses since perf 4.3, "perf probe:
 *    Support probing at absolute address"; the address is written to kprobe_events as is).
 *  - bpftrace: `kprobe:NAME` only works for a name unique in the whole kernel, `kprobe:MOD:NAME`
 *    for one unique in its loadable module; `kprobe:0xADDR` otherwise, which needs a bpftrace with
 *    address kprobes (bpftrace PR #5041, 2026) run with `--unsafe` — older versions translate
 *    the address back to a name and so hit the same uniqueness refusal.
 */
import { keyToHex } from '../address.js';
import { KallmodError } from '../errors.js';
import { F_LOADABLE, F_PADDING, type SymbolTable } from '../table/symbol-table.js';

/** The kernel's MAX_EVENT_NAME_LEN (trace_probe.h) is 64 including the NUL. */
export const MAX_EVENT_NAME = 63;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEventIdent(what: string, s: string): void {
  if (!IDENT.test(s) || s.length > MAX_EVENT_NAME) {
    throw new KallmodError(`${what} '${s}' is not valid: letters, digits and _, not starting with a digit, at most ${MAX_EVENT_NAME} characters`,
      { exitCode: 2 });
  }
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/_+$/, '');
}

/** Short stable hash (FNV-1a, 32 bits) for names that had to be shortened. */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) { h ^= s.charCodeAt(k); h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, '0');
}

/**
 * A valid, unique event name from the symbol's name and objname: `event_show__rapl` (the shortest
 * unique object path suffix, as printed, without `.o`; shortened with a
 * hash that keeps it unique when it does not fit), `+0xOFF` becoming `_0xOFF`, `suffix` appended.
 */
export function eventName(t: SymbolTable, i: number, offset: number, suffix = ''): string {
  const name = sanitize(t.name(i)) || 'sym';
  const obj = t.objnameShort(i) ?? t.objname(i);
  const mods = t.modules(i);
  const parts: string[] = obj ? obj.replace(/\.o$/, '').split('/').map(sanitize).filter(Boolean) : mods.map(sanitize);
  const tail = (offset ? `_0x${offset.toString(16)}` : '') + suffix;
  const head = /^[A-Za-z_]/.test(name) ? name : `_${name}`;
  const p = parts.join('_');
  const whole = p ? `${head}__${p}${tail}` : `${head}${tail}`;
  if (whole.length <= MAX_EVENT_NAME) return whole;
  const full = `${t.name(i)}\0${obj ?? mods.join(',')}\0${offset}`;
  const h = `_${fnv(full)}${tail}`;
  return head.slice(0, MAX_EVENT_NAME - h.length) + h;
}

export function probeAddress(t: SymbolTable, i: number, offset: number): string {
  return keyToHex(t.d.keys[i]! + offset);
}

export function kprobeLine(kind: 'p' | 'r', group: string, event: string, address: string): string {
  return `${kind}:${group}/${event} ${address}`;
}

/** The probe argument `perf probe -a` accepts: `GROUP:EVENT=0xADDR`. */
export function perfProbeSpec(group: string, event: string, address: string): string {
  return `${group}:${event}=${address}`;
}

/** How many kallsyms symbols (any type, padding aside) carry this name: the kernel's uniqueness test. */
export function kernelNameCount(t: SymbolTable, name: string): number {
  let n = 0;
  let last = NaN;
  for (const i of t.indicesByName(name)) {
    if (t.d.flags[i]! & F_PADDING) continue;
    const k = t.d.keys[i]!;
    if (k !== last || t.addressesHidden) n++;
    last = k;
  }
  return n;
}

export interface BpftraceSpec { spec: string; note: string }

export function bpftraceSpec(t: SymbolTable, i: number, offset: number, ret = false): BpftraceSpec {
  const kind = ret ? 'kretprobe' : 'kprobe';
  const name = t.name(i);
  const off = offset ? `+${offset}` : '';
  if (ret && offset) return { spec: '', note: 'a return probe takes no offset' };
  if (kernelNameCount(t, name) === 1) return { spec: `${kind}:${name}${off}`, note: 'name unique in the kernel' };
  if (t.d.flags[i]! & F_LOADABLE) {
    const mod = t.modules(i)[0]!;
    const inMod = t.indicesByName(name).filter((j) => !(t.d.flags[j]! & F_PADDING) && t.d.flags[j]! & F_LOADABLE && t.modules(j)[0] === mod);
    if (new Set(inMod.map((j) => t.d.keys[j])).size === 1) return { spec: `${kind}:${mod}:${name}${off}`, note: 'name unique in its loadable module' };
  }
  return {
    spec: `${kind}:${probeAddress(t, i, offset)}`,
    note: 'duplicated name: bpftrace can only take the address (kprobe:0xADDR, bpftrace with address kprobes, run with --unsafe); ' +
      'older bpftrace turns the address back into the name and the kernel refuses it as not unique',
  };
}
