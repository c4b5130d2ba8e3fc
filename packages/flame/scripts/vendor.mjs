#!/usr/bin/env node
/**
 * Bundles d3-flame-graph (and the d3 modules it imports) into one minified script,
 * dist/vendor/flamegraph.js, which `kallmod flame` inlines into every page it writes: the page
 * needs no network. Run by `npm run build`, after tsc.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'dist', 'vendor');
mkdirSync(out, { recursive: true });
const entry = join(out, '.entry.mjs');
writeFileSync(entry, [
  "import flamegraph, { tooltip } from 'd3-flame-graph';",
  "import { select } from 'd3-selection';",
  'globalThis.kallmodFlame = { flamegraph, tooltip, select };',
  '',
].join('\n'));
await build({
  input: entry,
  cwd: pkg,
  logLevel: 'warn',
  // the package imports its stylesheet; the page inlines that file itself (flamegraph.css)
  plugins: [{ name: 'css-apart', load: (id) => (id.endsWith('.css') ? { code: 'export {}', moduleType: 'js' } : null) }],
  output: { file: join(out, 'flamegraph.js'), format: 'iife', minify: true, comments: { legal: true } },
});
const require = createRequire(join(pkg, 'package.json'));
copyFileSync(join(dirname(require.resolve('d3-flame-graph')), 'd3-flamegraph.css'), join(out, 'flamegraph.css'));
rmSync(entry);
// who wrote what the page carries, and under which licence, at its top
const nm = (p) => JSON.parse(readFileSync([join(pkg, 'node_modules', p, 'package.json'), join(pkg, '../../node_modules', p, 'package.json')]
  .find(existsSync), 'utf8'));
const used = ['d3-flame-graph', 'd3-selection', 'd3-format', 'd3-array', 'd3-hierarchy', 'd3-scale', 'd3-ease', 'd3-transition', 'd3-dispatch',
  'd3-interpolate', 'd3-color', 'd3-timer', 'd3-time', 'd3-time-format', 'internmap']
  .map((p) => { try { const j = nm(p); return `${j.name} ${j.version} (${j.license})`; } catch { return null; } }).filter(Boolean);
const js = readFileSync(join(out, 'flamegraph.js'), 'utf8');
writeFileSync(join(out, 'flamegraph.js'), `/*! ${used.join(', ')}: https://github.com/spiermar/d3-flame-graph, https://d3js.org */\n${js}`);
