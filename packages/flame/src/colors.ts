/**
 * A stable colour per module: the kind picks the hue family (core kernel warm orange, built-in
 * modules greens, loadable modules blues and violets, user space greys, unresolved kernel red,
 * ambiguous magenta) and a hash of the module's name the shade inside it, so a module has the
 * same colour in every graph and the kinds stay apart at a glance.
 */
import type { FrameKind } from '@kallmod/report/profile';

/** FNV-1a of the name: the same module, the same shade. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h;
}

const FAMILY: Record<FrameKind | 'comm', { hue: [number, number]; sat: [number, number]; light: [number, number] }> = {
  core: { hue: [22, 38], sat: [85, 95], light: [55, 62] },
  'built-in': { hue: [95, 160], sat: [45, 65], light: [48, 62] },
  loadable: { hue: [195, 265], sat: [50, 70], light: [58, 70] },
  user: { hue: [40, 60], sat: [8, 18], light: [66, 78] },
  unknown: { hue: [0, 6], sat: [70, 80], light: [55, 62] },
  ambiguous: { hue: [300, 320], sat: [55, 70], light: [60, 68] },
  comm: { hue: [210, 220], sat: [5, 10], light: [82, 86] },
};

export function moduleColor(kind: FrameKind | 'comm', module: string): string {
  const f = FAMILY[kind];
  const h = hash(`${kind}:${module}`);
  const at = (r: [number, number], bits: number) => r[0] + ((bits & 0xff) / 255) * (r[1] - r[0]);
  return `hsl(${at(f.hue, h).toFixed(0)}, ${at(f.sat, h >>> 8).toFixed(0)}%, ${at(f.light, h >>> 16).toFixed(0)}%)`;
}

export const KIND_NAMES: Record<FrameKind | 'comm', string> = {
  core: 'core kernel', 'built-in': 'built-in module', loadable: 'loadable module', user: 'user space',
  unknown: 'unresolved kernel', ambiguous: 'ambiguous (several candidates)', comm: 'process (comm)',
};
