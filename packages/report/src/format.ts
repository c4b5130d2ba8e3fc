/**
 * `kallmod report`'s three views of a Profile (by module, by (module, objname), by symbol) as a
 * terminal table within 80 columns, JSON or CSV. Rows and their order are made once (`rows`),
 * so the three forms always agree.
 */
import type { FrameKind, Profile } from './profile.js';

export type SortKey = 'self' | 'total' | 'name';
export const SORT_KEYS: readonly SortKey[] = ['self', 'total', 'name'];

export interface Row {
  level: 'module' | 'object' | 'symbol';
  kind: FrameKind;
  /** Module row label: `ext4`, `ti_cpsw ti_cpsw_new`, `(core kernel)`, a user dso's base name. */
  module: string;
  modules: string[];
  objname: string | null;
  objnameShort: string | null;
  /** Symbol rows: the name, and the name with its notation. */
  name: string | null;
  label: string;
  self: number;
  total: number;
}

export interface Report {
  samples: number;
  samplesRead: number;
  weight: number;
  kernelSamples: number;
  kernelWeight: number;
  weighedBy: WeighedBy;
  modules: Row[];
  objects: Row[];
  symbols: Row[];
}

function order(rows: Row[], sort: SortKey): Row[] {
  const other = sort === 'self' ? 'total' : 'self';
  const by = sort === 'name'
    ? (a: Row, b: Row) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)
    : (a: Row, b: Row) => b[sort] - a[sort] || b[other] - a[other] || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
  return rows.sort(by);
}

/** A row of a frame only --kernel-only's dropped samples had. */
function seen(x: Row): boolean { return x.total > 0 || x.self > 0; }

/** What the numbers are: samples, their periods (--period), or folded stacks' counts (samples or periods: the folder's). */
export type WeighedBy = 'samples' | 'period' | 'count';

export function weighedBy(p: Profile): WeighedBy { return p.foldedCounts ? 'count' : p.opts.period ? 'period' : 'samples'; }

/** The first words of a summary: `N samples`, or what a folded input's sum of counts is. */
export function countedText(n: number, by: WeighedBy): string { return by === 'count' ? `${n} counted in folded stacks` : `${n} samples`; }

export function rows(p: Profile, sort: SortKey): Report {
  const modules: Row[] = p.groups.map((g, i) => ({
    level: 'module', kind: g.kind, module: g.label, modules: g.modules, objname: null, objnameShort: null, name: null, label: g.label,
    self: p.groupCounts.self[i]!, total: p.groupCounts.total[i]!,
  }));
  const objects: Row[] = p.objects.map((o, i) => {
    const g = p.groups[o.group]!;
    const obj = o.objnameShort ?? (g.kind === 'user' ? null : '?');
    return {
      level: 'object', kind: g.kind, module: g.label, modules: g.modules, objname: o.objname, objnameShort: o.objnameShort, name: null,
      label: g.kind === 'user' ? g.label : `${g.label} {${obj === '?' ? '-' : obj}}`,
      self: p.objectCounts.self[i]!, total: p.objectCounts.total[i]!,
    };
  });
  const symbols: Row[] = [];
  p.frames.forEach((f, i) => {
    if (f.group < 0) return; // a flame graph's comm level
    symbols.push({
      level: 'symbol', kind: f.kind, module: p.groups[f.group]!.label, modules: f.modules, objname: f.objname, objnameShort: f.objnameShort,
      name: f.name, label: f.kind === 'user' ? `${f.name} (${p.groups[f.group]!.label})` : f.label,
      self: p.frameCounts.self[i]!, total: p.frameCounts.total[i]!,
    });
  });
  return {
    samples: p.samples, samplesRead: p.samplesRead, weight: p.weight, kernelSamples: p.kernelSamples, kernelWeight: p.kernelWeight,
    weighedBy: weighedBy(p),
    modules: order(modules.filter(seen), sort), objects: order(objects.filter(seen), sort), symbols: order(symbols.filter(seen), sort),
  };
}

const KIND_TEXT: Record<FrameKind, string> = {
  core: 'core', 'built-in': 'built-in', loadable: 'loadable', user: 'user', unknown: 'unknown', ambiguous: 'ambiguous',
};

function pct(v: number, of: number): string { return of > 0 ? (100 * v / of).toFixed(1) : '-'; }

/** Fits `s` into w columns: the end of a long name is cut, with "…". */
function fit(s: string, w: number): string { return s.length <= w ? s : s.slice(0, Math.max(0, w - 1)) + '…'; }

/**
 * The terminal table: 80 columns. `limit` rows per view (0: all). Colour only for a terminal
 * without NO_COLOR (the caller says): kinds tinted, never in a pipe.
 */
export function table(r: Report, opts: { limit: number; color: boolean; width?: number }): string {
  const width = opts.width ?? 80;
  const unit = r.weighedBy === 'count' ? 'folded counts' : r.weighedBy;
  const numW = Math.max(7, String(Math.round(r.weight)).length);
  const head = `${'self%'.padStart(6)} ${'total%'.padStart(6)} ${'self'.padStart(numW)} ${'total'.padStart(numW)}  ${'kind'.padEnd(9)} `;
  const nameW = width - head.length;
  const tint = (k: FrameKind, s: string) => {
    if (!opts.color) return s;
    const c = k === 'core' ? 33 : k === 'built-in' ? 32 : k === 'loadable' ? 36 : k === 'user' ? 34 : 35;
    return `\x1b[${c}m${s}\x1b[0m`;
  };
  const lines: string[] = [];
  const kernelPart = r.samples ? ` (${pct(r.kernelSamples, r.samples)}% with a kernel leaf)` : '';
  const readPart = r.samplesRead !== r.samples ? ` of ${r.samplesRead} read (--kernel-only)` : '';
  const ofWhat = r.weighedBy === 'period' ? `period ${r.weight}` : r.weighedBy === 'count' ? 'them' : unit;
  lines.push(fit(`${countedText(r.samples, r.weighedBy)}${readPart}${kernelPart}; % of ${ofWhat}`, width));
  if (r.weighedBy === 'count') lines.push('(folded counts: samples, or periods where the folder summed them)');
  const section = (title: string, rs: Row[], col: string) => {
    lines.push('', `${title}:`, `${head}${col}`);
    const shown = opts.limit > 0 ? rs.slice(0, opts.limit) : rs;
    for (const x of shown) {
      const kind = KIND_TEXT[x.kind].padEnd(9);
      const shares = `${pct(x.self, r.weight).padStart(6)} ${pct(x.total, r.weight).padStart(6)}`;
      const nums = `${shares} ${String(x.self).padStart(numW)} ${String(x.total).padStart(numW)}`;
      lines.push(`${nums}  ${tint(x.kind, kind)} ${fit(x.label, nameW)}`);
    }
    if (shown.length < rs.length) lines.push(`${''.padStart(head.length)}… ${rs.length - shown.length} more (--limit 0: all)`);
  };
  section(`By module (${unit})`, r.modules, 'module');
  section('By module and object file', r.objects, 'module {object} ({-}: not known)');
  section('By symbol', r.symbols, 'symbol');
  return lines.join('\n') + '\n';
}

function rowJson(x: Row, r: Report) {
  return {
    kind: x.kind, module: x.module, modules: x.modules, builtin: x.kind === 'built-in', objname: x.objname, objnameShort: x.objnameShort,
    ...(x.level === 'symbol' ? { name: x.name, label: x.label } : {}),
    self: x.self, total: x.total,
    selfPercent: r.weight ? 100 * x.self / r.weight : 0, totalPercent: r.weight ? 100 * x.total / r.weight : 0,
  };
}

export function json(r: Report, limit: number): string {
  const cut = (rs: Row[]) => (limit > 0 ? rs.slice(0, limit) : rs).map((x) => rowJson(x, r));
  return JSON.stringify({
    samples: r.samples, samplesRead: r.samplesRead, weight: r.weight, weighedBy: r.weighedBy,
    kernelSamples: r.kernelSamples, kernelWeight: r.kernelWeight,
    modules: cut(r.modules), objects: cut(r.objects), symbols: cut(r.symbols),
  }, null, 1) + '\n';
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV table, one row per module, object and symbol (`level` says which); RFC 4180 quoting. */
export function csv(r: Report, limit: number): string {
  const out = ['level,kind,module,objname,name,self,total,self_percent,total_percent'];
  for (const rs of [r.modules, r.objects, r.symbols]) {
    for (const x of limit > 0 ? rs.slice(0, limit) : rs) {
      out.push([x.level, x.kind, x.module, x.objname ?? x.objnameShort, x.name, x.self, x.total,
        pct(x.self, r.weight), pct(x.total, r.weight)].map(csvField).join(','));
    }
  }
  return out.join('\n') + '\n';
}
