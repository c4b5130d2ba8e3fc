import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Modules most runs never need, loaded on first use so that they cost nothing at start-up (a
 * lookup on kallsyms alone must not load the ELF/DWARF reader; a snapshot load must not load
 * the parsers). Node >= 20.19 requires ESM synchronously.
 *
 * They are named by package specifier ('@kallmod/core/sources/index'), never by a path
 * relative to the caller, so the same call works from src/ under vitest (the specifier resolves
 * to the built dist/ copy: `npm test` builds first), from dist/, and from the CLI bundle, which
 * carries its own copy of each such module (packages/cli/scripts/bundle.mjs finds these calls):
 * one instance of every module, whichever way the code was loaded.
 */
const SCOPE = '@kallmod/';
const req = createRequire(import.meta.url);
let bundleDir: URL | null = null;
let bundleExt = '.js';

export function lazyModule(specifier: `@kallmod/${string}`): unknown {
  return req(bundleDir ? fileURLToPath(new URL(`${specifier.slice(SCOPE.length)}${bundleExt}`, bundleDir)) : specifier);
}

/**
 * Called by the CLI bundle's entry (its URL): lazily loaded modules come from beside it, with
 * the entry's extension (the bundle is CommonJS, `.cjs`: see packages/cli/scripts/bundle.mjs).
 */
export function useBundledModules(entryUrl: string): void {
  bundleDir = new URL('.', entryUrl);
  bundleExt = /\.c?js$/.exec(entryUrl)?.[0] ?? '.js';
}
