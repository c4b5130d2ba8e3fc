import { createRequire } from 'node:module';

/**
 * A require() for modules most runs never need, so they cost nothing at start-up (a lookup on
 * kallsyms alone must not load the ELF/DWARF reader; a snapshot load must not load the
 * parsers). Node >= 20.19 requires ESM synchronously. Under vitest the callers run as .ts,
 * which require() cannot load: the built siblings in dist/ are taken instead (`npm test`
 * builds first).
 */
export function lazyRequire(metaUrl: string): NodeRequire {
  return createRequire(process.env.VITEST && metaUrl.includes('/src/') ? metaUrl.replace('/src/', '/dist/') : metaUrl);
}
