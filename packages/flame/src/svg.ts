/**
 * `kallmod flame --svg`: the same graph as a static SVG (no script: viewers that run none show
 * it too), frames as rectangles with their label and a <title> tooltip (triplet and counts),
 * coloured by module, a legend above. Frames narrower than 0.05% of the width are left out,
 * as flamegraph.pl's --minwidth does, so the file stays small.
 */
import { KIND_NAMES } from './colors.js';
import type { Graph, GraphNode } from './graph.js';
import { countedText } from '@kallmod/report/format';

function esc(s: string): string { return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!); }

const W = 1200, ROW = 17, PAD = 10, CHAR = 6.6;

export function flameSvg(g: Graph): string {
  const total = g.total || 1;
  const unit = g.weighedBy === 'period' ? 'period' : g.weighedBy === 'count' ? 'counts' : 'samples';
  const pct = (v: number) => `${(100 * v / total).toFixed(2)}%`;
  const minW = (W - 2 * PAD) * 0.0005;
  let depth = 0;
  const rects: string[] = [];
  // the legend: rows of swatches, kind by kind
  const legend: string[] = [];
  let lx = PAD, ly = 48;
  for (const e of g.legend) {
    const text = `${e.module} ${pct(e.total)}`;
    const w = 18 + text.length * CHAR + 14;
    if (lx + w > W - PAD) { lx = PAD; ly += 18; }
    const title = esc(`${KIND_NAMES[e.kind]}: self ${e.self}, total ${e.total} ${unit}`);
    legend.push(`<g><title>${title}</title><rect x="${lx}" y="${ly - 11}" width="12" height="12" fill="${e.color}" stroke="#0004"/>`
      + `<text x="${lx + 17}" y="${ly}">${esc(text)}</text></g>`);
    lx += w;
  }
  const top = ly + 20;
  const walk = (n: GraphNode, x: number, d: number, frames: Graph['frames']) => {
    const w = (n.v / total) * (W - 2 * PAD);
    if (w < minW) return;
    depth = Math.max(depth, d);
    const y = d; // rows counted from the bottom, placed once the depth is known
    const f = n.f >= 0 ? frames[n.f]! : null;
    const color = n.g >= 0 ? g.legend[n.g]!.color : '#dcdcdc';
    const mod = f ? f.modules.join(' ') || (f.kind === 'core' ? '(core kernel)' : '-') : '';
    const what = f && f.kind !== 'comm' ? `module: ${mod}, objname: ${f.objname ?? '-'}, ${KIND_NAMES[f.kind]}\n` : '';
    const tip = `${n.n}\n${what}total ${n.v} ${unit} (${pct(n.v)}), self ${n.s} (${pct(n.s)})`;
    const chars = Math.floor((w - 6) / CHAR);
    const label = chars >= 3 ? (n.n.length <= chars ? n.n : n.n.slice(0, chars - 1) + '…') : '';
    const text = label ? `<text x="${(PAD + x + 3).toFixed(1)}" y="@T">${esc(label)}</text>` : '';
    const rect = `<rect x="${(PAD + x).toFixed(1)}" y="@Y" width="${w.toFixed(1)}" height="${ROW - 1}" fill="${color}" rx="2"/>`;
    rects.push(`${y}\t<g><title>${esc(tip)}</title>${rect}${text}</g>`);
    let cx = x;
    for (const c of n.c ?? []) { walk(c, cx, d + 1, frames); cx += (c.v / total) * (W - 2 * PAD); }
  };
  walk(g.root, 0, 0, g.frames);
  const height = top + (depth + 1) * ROW + PAD;
  const body = rects.map((r) => {
    const tab = r.indexOf('\t');
    const d = Number(r.slice(0, tab));
    const y = height - PAD - (d + 1) * ROW;
    return r.slice(tab + 1).replace('@Y', String(y)).replace('@T', String(y + ROW - 5));
  });
  const weighed = g.weighedBy === 'period' ? `, weighed by period (${g.total})` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="DejaVu Sans Mono, monospace" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${PAD}" y="22" font-size="16" font-family="sans-serif">${esc(g.title)}</text>
<text x="${PAD}" y="36" fill="#555" font-family="sans-serif">${esc(`${countedText(g.samples, g.weighedBy)}${weighed}; coloured by module`)}</text>
${legend.join('\n')}
${body.join('\n')}
</svg>
`;
}
