import { setFlagsFromString } from 'node:v8';

let depth = 0;

/**
 * Runs fn with V8's on-stack replacement compiled on the main thread. Parsing a raw source and
 * merging it into a table is a few long loops over every symbol that run once, as cold code:
 * compiled concurrently (V8's default), their optimised code arrives after much of the loop
 * ran in baseline code, or after it ended. Synchronously: ~20% less CPU time and ~25 ms less
 * wall time for a start-up from a raw kallsyms (bench/startup-raw.mjs). Only around those
 * loops: the transformers keep V8's default. (This file sits in the bundle's sources chunk, so
 * a run from a snapshot does not load node:v8.)
 */
export function withSyncOsr<T>(fn: () => T): T {
  if (depth++ === 0) setFlagsFromString('--no-concurrent-osr');
  try {
    return fn();
  } finally {
    if (--depth === 0) setFlagsFromString('--concurrent-osr');
  }
}
