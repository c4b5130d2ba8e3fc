/**
 * `kallmod flame`'s page: one self-contained HTML file. d3-flame-graph (bundled with the d3
 * modules it uses at build time, scripts/vendor.mjs) draws it; the page adds the module
 * colours, the legend (every module of the profile, with its kind and share; a click
 * highlights its frames), search and tooltips with the full triplet and counts. No network:
 * the script, its stylesheet and the data are in the file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KIND_NAMES } from './colors.js';
import type { Graph } from './graph.js';
import { countedText } from '@kallmod/report/format';

let vendor: { js: string; css: string } | null = null;
/** The bundled d3-flame-graph, by package specifier: this code may run from the CLI bundle. */
function vendorFiles(): { js: string; css: string } {
  if (vendor) return vendor;
  const req = createRequire(import.meta.url);
  const js = req.resolve('@kallmod/flame/vendor/flamegraph.js');
  vendor = { js: readFileSync(js, 'utf8'), css: readFileSync(js.replace(/\.js$/, '.css'), 'utf8') };
  return vendor;
}

/** Inside a <script> element nothing may read as `</script` or `<!--`. */
function scriptSafe(s: string): string { return s.replace(/</g, '\\u003c'); }
function esc(s: string): string { return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!); }

const PAGE_CSS = `
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 12px 16px; color: #222; background: #fff; }
h1 { font-size: 17px; margin: 0 0 4px; font-weight: 600; }
#summary { color: #555; margin-bottom: 8px; }
#bar { display: flex; gap: 8px; align-items: center; margin: 6px 0 8px; }
#bar input { font: inherit; padding: 3px 6px; width: 260px; }
#bar button { font: inherit; padding: 3px 10px; }
#details { color: #333; min-height: 1.4em; font-family: ui-monospace, monospace; font-size: 12px; }
#legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0 10px; padding: 0; list-style: none; }
#legend li { cursor: pointer; white-space: nowrap; display: flex; align-items: center; gap: 5px; }
#legend li.kind { cursor: default; font-weight: 600; color: #444; margin-left: 6px; }
#legend li.on { outline: 2px solid #222; outline-offset: 1px; }
#legend .sw { display: inline-block; width: 13px; height: 13px; border: 1px solid rgba(0,0,0,.25); }
#legend .pc { color: #777; }
#chart { width: 100%; }
.d3-flame-graph-label { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11.5px; color: #111; }
.d3-flame-graph-tip { font-family: ui-monospace, monospace; font-size: 12px; max-width: 640px; white-space: normal; line-height: 1.45; }
.d3-flame-graph-tip b { color: #ffd479; }
`;

const PAGE_JS = `
(function () {
  var data = JSON.parse(document.getElementById('kallmod-data').textContent);
  var F = window.kallmodFlame;
  var total = data.total || 1;
  var unit = data.weighedBy === 'period' ? 'period' : data.weighedBy === 'count' ? 'counts' : 'samples';
  var kinds = ${JSON.stringify(KIND_NAMES)};
  function pct(v) { return (100 * v / total).toFixed(2) + '%'; }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  var selected = -1;
  function colorOf(n) {
    if (n.g < 0) return n.f < 0 ? '#dcdcdc' : '#d6dbe0';
    return data.legend[n.g].color;
  }
  var chartEl = document.getElementById('chart');
  var chart = F.flamegraph()
    .width(Math.max(640, chartEl.clientWidth))
    .cellHeight(18)
    .transitionDuration(250)
    .minFrameSize(1)
    .sort(true)
    .title('')
    .setColorMapper(function (d) { return d.highlight ? '#ff3dff' : colorOf(d.data); })
    .setSearchMatch(function (d, term) {
      if (term === '\\u0000module') return d.data.g === selected;
      return term !== '' && d.data.n.toLowerCase().indexOf(term.toLowerCase()) >= 0;
    });
  var tip = F.tooltip.defaultFlamegraphTooltip().html(function (d) {
    var n = d.data, f = n.f >= 0 ? data.frames[n.f] : null;
    var lines = ['<b>' + esc(n.n) + '</b>'];
    if (f && f.kind !== 'comm') {
      var mod = f.modules.length ? esc(f.modules.join(' ')) : (f.kind === 'core' ? '(core kernel)' : '-');
      lines.push('name: ' + esc(f.name) + ' · module: ' + mod + ' · objname: ' + esc(f.objname || '-'));
      lines.push(esc(kinds[f.kind]) + (f.dso ? ' · ' + esc(f.dso) : ''));
    } else if (f) lines.push('process (comm)');
    lines.push('total ' + n.v + ' ' + unit + ' (' + pct(n.v) + ') · self ' + n.s + ' (' + pct(n.s) + ')');
    return lines.join('<br>');
  });
  chart.tooltip(tip);
  chart.setDetailsElement(document.getElementById('details'));
  chart.setLabelHandler(function (d) { return d.data.n + ' (' + pct(d.data.v) + ', ' + d.data.v + ' ' + unit + ')'; });
  F.select('#chart').datum(data.root).call(chart);
  var search = document.getElementById('search');
  search.addEventListener('input', function () { selected = -1; mark(); if (search.value) chart.search(search.value); else chart.clear(); });
  document.getElementById('reset').addEventListener('click', function () { chart.resetZoom(); });
  var legend = document.getElementById('legend');
  var lastKind = null;
  function mark() {
    Array.prototype.forEach.call(legend.querySelectorAll('li[data-g]'), function (li) { li.classList.toggle('on', Number(li.dataset.g) === selected); });
  }
  data.legend.map(function (e, i) { return { e: e, i: i }; })
    .sort(function (a, b) { return order(a.e.kind) - order(b.e.kind) || b.e.total - a.e.total; })
    .forEach(function (x) {
      var e = x.e;
      if (e.kind !== lastKind) {
        var k = document.createElement('li'); k.className = 'kind'; k.textContent = kinds[e.kind] + ':'; legend.appendChild(k); lastKind = e.kind;
      }
      var li = document.createElement('li');
      li.dataset.g = String(x.i);
      li.dataset.module = e.module;
      li.title = kinds[e.kind] + ': self ' + e.self + ', total ' + e.total + ' ' + unit + ' (click: highlight its frames)';
      li.innerHTML = '<span class="sw" style="background:' + e.color + '"></span>' + esc(e.module) + ' <span class="pc">' + pct(e.total) + '</span>';
      li.addEventListener('click', function () {
        selected = selected === x.i ? -1 : x.i; mark(); search.value = '';
        if (selected >= 0) chart.search('\\u0000module'); else chart.clear();
      });
      legend.appendChild(li);
    });
  function order(k) { return ['core', 'built-in', 'loadable', 'ambiguous', 'unknown', 'user'].indexOf(k); }
  window.addEventListener('resize', function () { chart.width(Math.max(640, chartEl.clientWidth)); chart.update(); });
})();
`;

export function flameHtml(g: Graph): string {
  const v = vendorFiles();
  const kernelModules = g.legend.filter((e) => e.kind === 'built-in' || e.kind === 'loadable').length;
  const weighed = g.weighedBy === 'period' ? `, weighed by period (${g.total})` : '';
  const summary = `${countedText(g.samples, g.weighedBy)}${weighed}; ${g.legend.length} modules and DSOs (${kernelModules} kernel modules). `
    + 'Click a frame to zoom, hover for its triplet; click a legend entry to highlight its frames.';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kallmod flame">
<title>${esc(g.title)}</title>
<style>${v.css}${PAGE_CSS}</style>
</head>
<body>
<h1>${esc(g.title)}</h1>
<div id="summary">${esc(summary)}</div>
<ul id="legend"></ul>
<div id="bar"><input id="search" type="search" placeholder="search frames (substring)" aria-label="search frames">
<button id="reset" type="button">reset zoom</button></div>
<div id="chart"></div>
<div id="details"></div>
<script type="application/json" id="kallmod-data">${scriptSafe(JSON.stringify(g))}</script>
<script>${v.js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--')}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}
