import { printHelp } from '../help-text.js';
import { F_LOADABLE, F_PADDING } from '@kallmod/core/table/symbol-table';
import { duplicateCounts } from '@kallmod/core/table/duplicates';
import type { LoadedTable } from '@kallmod/core/load';
import type { Warning } from '@kallmod/core/errors';
import { NATIVE_AFTER_BYTES, nativeStatus } from '@kallmod/core/native';
import { loadFromFlags, parse, SOURCE_FLAGS_HELP } from '../common.js';
import { capabilities } from './capabilities.js';

const HELP = `usage: kallmod sources [SOURCES] [--json]

What was found and merged: each source file, symbol counts, coverage (text symbols with a
module / an objname), duplicated names before and after adding module and objname, the
KASLR slide, every consistency warning, and whether the native addon is in use. For the
running kernel (or --root DIR): its release and build-id, the per-kernel cache, what each
capability needs and what to install when it is missing, and the files skipped and why.

${SOURCE_FLAGS_HELP}
`;

export function summarize(l: LoadedTable, warnings: Warning[]) {
  const t = l.table;
  let text = 0, withMod = 0, withObj = 0, loadable = 0, builtin = 0, padding = 0;
  for (let i = 0; i < t.length; i++) {
    if (!t.isText(i)) continue;
    text++;
    const f = t.d.flags[i]!;
    if (f & F_PADDING) padding++;
    if (t.d.modSetIds[i] !== 0) { withMod++; if (f & F_LOADABLE) loadable++; else builtin++; }
    if (t.d.objIds[i]! >= 0) withObj++;
  }
  return {
    sources: l.loaded,
    base: l.report.base,
    kaslrSlide: l.report.slide
      ? {
        slide: l.report.slide.slide, consistent: l.report.slide.consistent, anchors: l.report.slide.anchors.map((a) => a.name),
        matchRate: l.report.slide.matchRate,
      }
      : null,
    symbols: t.length,
    textSymbols: text,
    paddingSymbols: padding,
    withModule: withMod, builtinModule: builtin, loadableModule: loadable, withObjname: withObj,
    coverage: { module: text ? withMod / text : 0, objname: text ? withObj / text : 0 },
    addressesHidden: t.addressesHidden,
    duplicates: duplicateCounts(t),
    stats: l.report.stats,
    native: nativeStatus(),
    ...(l.kernel ? {
      kernel: l.kernel, cache: l.cache ?? null, capabilities: capabilities(l), skipped: l.discovery?.skipped ?? [],
    } : {}),
    warnings,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv);
  if (values['help']) { printHelp(HELP); return 0; }
  const warnings: Warning[] = [];
  const l = await loadFromFlags(values, (w) => warnings.push(w));
  const all = [...l.report.warnings.filter((w) => !warnings.includes(w)), ...warnings];
  const s = summarize(l, all.filter((w, i, a) => a.findIndex((x) => x.source === w.source && x.message === w.message) === i));
  if (values['json']) { process.stdout.write(JSON.stringify(s, null, 2) + '\n'); return 0; }
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const lines = [
    'sources:',
    ...s.sources.map((x) => `  ${x.role.padEnd(16)} ${x.path}${x.origin === 'running-kernel' ? '  (running kernel)' : ''}${x.detail ? `  ${x.detail}` : ''}`),
    `addresses from: ${s.base}${s.addressesHidden ? ' (HIDDEN: all zero, kptr_restrict or not root; names only)' : ''}` +
      (s.kaslrSlide && !s.kaslrSlide.anchors.length ? ` (link-time${s.kaslrSlide.slide ? ` + --kaslr-offset` : ''})` : '') +
      (s.kaslrSlide?.anchors.length ? `; KASLR slide ${s.kaslrSlide.slide < 0 ? '-' : ''}0x${Math.abs(s.kaslrSlide.slide).toString(16)} ` +
        `(${s.kaslrSlide.consistent ? 'consistent' : 'INCONSISTENT'} over ${s.kaslrSlide.anchors.join(', ')}; ` +
        `${pct(s.kaslrSlide.matchRate)} of text symbols agree)`
        : ''),
    `symbols: ${s.symbols} (${s.textSymbols} text, ${s.paddingSymbols} of them __pfx_/__cfi_ padding)`,
    `text symbols with a module: ${s.withModule} (${pct(s.coverage.module)}; built-in ${s.builtinModule}, loadable ${s.loadableModule})`,
    `text symbols with an objname: ${s.withObjname} (${pct(s.coverage.objname)})`,
    `duplicated names (as \`kallmod dups\`: padding and aliases at one address not counted): ${s.duplicates.byName.keys} names / ` +
      `${s.duplicates.byName.symbols} symbols; not told apart by (name, module): ${s.duplicates.byNameModule.keys} / ${s.duplicates.byNameModule.symbols}; ` +
      `by (name, module, objname): ${s.duplicates.byTriplet.keys} / ${s.duplicates.byTriplet.symbols}`,
    `lookup path: ${s.native.path}${s.native.reason ? ` (${s.native.reason})` : ''}` +
      (s.native.path === 'native' && process.env['KALLMOD_NATIVE'] !== '1'
        ? `; perf text takes it after ${NATIVE_AFTER_BYTES >> 20} MiB of input (KALLMOD_NATIVE=1: from the first byte)` : ''),
    ...(s.kernel ? runningKernelLines(s) : []),
    `warnings: ${s.warnings.length}`,
    ...s.warnings.map((w) => `  ${w.source}: ${w.message}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function runningKernelLines(s: ReturnType<typeof summarize>): string[] {
  const k = s.kernel!, c = s.cache;
  const served = c?.served === 'boot' ? "this boot's table" : c?.served === 'link' ? 'the vmlinux part (DWARF), merged with this boot' : 'nothing (parsed now)';
  return [
    `kernel: ${k.release}${k.root ? ` below ${k.root}` : ''}, build-id ${k.buildId ?? '(unknown: no readable /sys/kernel/notes)'}`,
    !c ? 'cache: off (--no-cache, or nothing identifies this kernel)'
      : c.served === 'none' && !c.written.length ? `cache: ${c.dir} (by ${c.keyedBy}): nothing to cache (no vmlinux with DWARF was parsed)`
      : `cache: ${c.dir} (by ${c.keyedBy}): served ${served}` +
        `${c.written.length ? `; wrote ${c.written.map((p) => p.slice(p.lastIndexOf('/') + 1)).join(', ')}` : ''}`,
    ...(c && (c.served !== 'none' || c.written.length) ? c.misses.map((m) => `  not used: ${m}`) : []),
    'capabilities:',
    ...s.capabilities!.map((x) => `  ${x.what.padEnd(22)} ${x.have ? 'yes' : 'NO '}  ${x.how}`),
    ...(s.skipped!.length ? ['skipped:', ...s.skipped!.map((x) => `  ${x.path}: ${x.why}`)] : []),
  ];
}
