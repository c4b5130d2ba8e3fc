#!/usr/bin/env node
/**
 * Bundles the built CLI (dist/ of every package) into packages/cli/bundle/, which bin/kallmod
 * runs. Why: Node 20 loads ES modules one by one through its asynchronous loader, ~0.5 ms each;
 * the ~35 modules a transformer needs cost ~20 ms of start-up, the bundle ~5 ms (BENCHMARKS.md).
 *
 * Code split, not one file: every command, and every module core loads lazily
 * (lazyModule('@kallmod/...') in dist/, found here), is its own entry, so a run loads only what
 * it uses and each module exists once (lazy.ts). Third-party packages and the native addon
 * stay outside, loaded from node_modules as before. Worker threads load dist/ (run.ts).
 *
 * CommonJS (`.cjs`), not ES modules: Node 20 sets up its ES module loader for the first
 * `import` (~7 ms before kallmod's first line: `node a.mjs` vs `node a.cjs` printing one line,
 * measured here); require() of a CommonJS file costs none of that. dist/ stays ESM (vitest and
 * the worker threads use it).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = join(cli, '..');
const out = join(cli, 'bundle');

function* jsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* jsFiles(join(dir, e.name));
    else if (e.name.endsWith('.js')) yield join(dir, e.name);
  }
}

// @kallmod/NAME -> its directory under packages/
const dirOf = new Map();
for (const d of readdirSync(packages)) {
  try { dirOf.set(JSON.parse(readFileSync(join(packages, d, 'package.json'), 'utf8')).name, d); } catch { /* not a package */ }
}

// '@kallmod/core/sources/index' -> entry 'core/sources/index' (lazy.ts requires that name)
const input = { kallmod: join(cli, 'dist', 'bundle-main.js') };
for (const dir of dirOf.values()) {
  if (!existsSync(join(packages, dir, 'dist'))) continue;
  for (const f of jsFiles(join(packages, dir, 'dist'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/lazyModule\('@kallmod\/([\w/-]+)'\)/g)) {
      const [name, ...sub] = m[1].split('/');
      const pkg = dirOf.get(`@kallmod/${name}`);
      if (!pkg) throw new Error(`bundle: no package @kallmod/${name}`);
      input[m[1]] = join(packages, pkg, 'dist', `${sub.join('/')}.js`);
    }
  }
}

// what a transformer run from a snapshot loads: the dispatcher, the transformer driver and core
// (other commands and core/resolve are chunks of their own: they pull in node:readline,
// node:zlib, node:child_process, each ~1 ms to load)
const MAIN = /[\\/]packages[\\/](core[\\/]dist[\\/](?!resolve[\\/]|lines[\\/]line-source)|cli[\\/]dist[\\/](main|common|commands[\\/]transform)\.js)/;
const SOURCES = /[\\/]core[\\/]dist[\\/](sources[\\/](?!options\.js)|table[\\/](build|kaslr)\.js)/;
// the parsers sources/index.ts loads lazily (kallmodsyms, linker maps, ELF/DWARF, .ko objects):
// ~60 kB that a run from a kallsyms would parse for nothing (~5 ms of its start-up)
const PARSERS = /[\\/]core[\\/]dist[\\/]sources[\\/](kallmodsyms|linker-map|tokens|module-objects|elf[\\/](?!cu-object))/;

rmSync(out, { recursive: true, force: true });
await build({
  input,
  platform: 'node',
  // only kallmod's own packages go in; the addon is loaded at run time (core/native.ts)
  external: (id) => !(id.startsWith('.') || id.startsWith('/') || id.startsWith('@kallmod/')) || id === '@kallmod/native',
  logLevel: 'warn',
  output: {
    dir: out, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs',
    // few files, each loaded only by the runs that need it: the CLI and the core a snapshot
    // run uses; the source readers and the merge; one chunk per transformer
    codeSplitting: {
      groups: [
        // first, so that the other groups do not pull these in as their dependencies; never the
        // entry itself: its import.meta.url tells lazy.ts where the bundle is
        { name: 'main', test: (id) => MAIN.test(id) && !SOURCES.test(id) && id !== input.kallmod, priority: 3 },
        { name: 'sources', test: (id) => SOURCES.test(id) && !PARSERS.test(id), priority: 2 },
        // after sources, which keeps the modules both use (read-file, modules-list)
        { name: 'parsers', test: (id) => PARSERS.test(id), priority: 1.5 },
        // a transformer package each (the CLI's other commands: a chunk per command, made by rolldown)
        { name: (id) => /[\\/]packages[\\/]((?!cli[\\/])[\w-]+)[\\/]dist[\\/]/.exec(id)?.[1] ?? null, debugName: 'transformer', priority: 1 },
      ],
    },
  },
});
console.log(`bundle: ${relative(process.cwd(), out)}/ (${Object.keys(input).length} entries)`);
