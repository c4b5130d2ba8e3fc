/**
 * A Profile's call paths as the data both outputs draw: a tree of frames (root first, the
 * comm as the first level, as FlameGraph folds), each node with its frame's module row, and
 * the legend: every module of the profile with its kind, colour and share.
 */
import type { FrameKind, PathNode, Profile } from '@kallmod/report/profile';
import { weighedBy, type WeighedBy } from '@kallmod/report/format';
import { moduleColor } from './colors.js';

export interface GraphNode {
  /** The frame's label (`name [mod] {obj.o}`). */
  n: string;
  /** Total weight (d3-flame-graph's value), and self. */
  v: number;
  s: number;
  /** Legend index (-1: a comm). */
  g: number;
  /** Frame index into Graph.frames (its triplet for the tooltip). */
  f: number;
  c?: GraphNode[];
}

export interface LegendEntry { module: string; kind: FrameKind; color: string; self: number; total: number }
export interface FrameDetail { name: string; modules: string[]; objname: string | null; kind: FrameKind | 'comm'; dso: string | null }

export interface Graph {
  title: string;
  weighedBy: WeighedBy;
  total: number;
  samples: number;
  root: GraphNode;
  legend: LegendEntry[];
  frames: FrameDetail[];
}

export function buildGraph(p: Profile, title: string): Graph {
  const legend: LegendEntry[] = p.groups.map((g, i) => ({
    module: g.label, kind: g.kind, color: moduleColor(g.kind, g.label), self: p.groupCounts.self[i]!, total: p.groupCounts.total[i]!,
  }));
  const frames: FrameDetail[] = p.frames.map((f) => ({
    name: f.name, modules: f.modules, objname: f.objname, kind: f.group < 0 ? 'comm' : f.kind, dso: f.dso,
  }));
  const convert = (node: PathNode): GraphNode => {
    const f = node.frame >= 0 ? p.frames[node.frame]! : null;
    const out: GraphNode = { n: f ? f.label : 'all', v: node.total, s: node.self, g: f ? f.group : -1, f: node.frame };
    if (node.children.size) out.c = [...node.children.values()].sort((a, b) => (labelOf(p, a) < labelOf(p, b) ? -1 : 1)).map(convert);
    return out;
  };
  const order = legend.map((_, i) => i).sort((a, b) => legend[b]!.total - legend[a]!.total || (legend[a]!.module < legend[b]!.module ? -1 : 1));
  const remap = new Map(order.map((old, i) => [old, i]));
  const root = convert(p.root);
  const fix = (n: GraphNode) => { if (n.g >= 0) n.g = remap.get(n.g)!; n.c?.forEach(fix); };
  fix(root);
  return {
    title, weighedBy: weighedBy(p), total: p.root.total, samples: p.samples, root,
    legend: order.map((i) => legend[i]!), frames,
  };
}

function labelOf(p: Profile, n: PathNode): string { return p.frames[n.frame]!.label; }
