import { keyFromHex } from '../address.js';
import type { WarnFn } from '../errors.js';

/**
 * Loadable module bases: /proc/modules (`name size refs deps state 0xaddr`) and section
 * addresses from /sys/module/<m>/sections/<s> (saved as `module section address` lines).
 */
export interface ModuleInfo { name: string; size: number; base: number | null }

export function parseProcModules(data: Buffer, path: string, warn?: WarnFn): ModuleInfo[] {
  const out: ModuleInfo[] = [];
  let bad = 0;
  for (const l of data.toString('latin1').split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length < 2 || !f[0]) continue;
    const size = Number(f[1]);
    if (!Number.isFinite(size)) { bad++; continue; }
    const addr = f.find((x) => x.startsWith('0x'));
    const key = addr ? keyFromHex(addr) : NaN;
    out.push({ name: f[0], size, base: Number.isNaN(key) || key === 0 ? null : key });
  }
  if (bad && warn) warn({ source: path, message: `${bad} malformed line(s) skipped` });
  return out;
}

/** module → section → base key. */
export type SectionBases = Map<string, Map<string, number>>;

export function parseModuleSections(data: Buffer, path: string, warn?: WarnFn): SectionBases {
  const out: SectionBases = new Map();
  let bad = 0;
  for (const l of data.toString('latin1').split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length !== 3) { if (l.trim()) bad++; continue; }
    const key = keyFromHex(f[2]!);
    if (Number.isNaN(key)) { bad++; continue; }
    let m = out.get(f[0]!);
    if (!m) { m = new Map(); out.set(f[0]!, m); }
    m.set(f[1]!, key);
  }
  if (bad && warn) warn({ source: path, message: `${bad} malformed line(s) skipped` });
  return out;
}
