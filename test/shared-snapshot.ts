/**
 * One `kallmod capture` of a set of source flags per `vitest run`, shared by every test file
 * that asks for it (report, flame, dso-module: the 6.12 boot's sources took ~8 s to capture
 * under load, once per file). It lives in the run's private TMPDIR (test/setup/private-tmpdir.ts
 * removes it with the rest); the first file to ask captures it, under a lock directory, and
 * renames it into place; the others wait for it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './kernel-fixture.js';
import { SHARED_SNAPSHOTS } from './setup/private-tmpdir.js';

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** `--snapshot PATH` of a capture of `flags`, made on first call. */
export function sharedSnapshot(flags: string[]): () => string[] {
  let path: string | null = null;
  return () => {
    if (path) return ['--snapshot', path];
    const dir = join(tmpdir(), SHARED_SNAPSHOTS);
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `${createHash('sha256').update(flags.join('\0')).digest('hex').slice(0, 16)}.snap`);
    let mine = false;
    try { mkdirSync(`${p}.lock`); mine = true; } catch { /* another file captures it */ }
    if (mine) {
      const r = spawnSync(CLI, ['capture', '-o', `${p}.part`, ...flags], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`kallmod capture: ${r.stderr}`);
      renameSync(`${p}.part`, p);
    } else {
      for (let waited = 0; !existsSync(p); waited += 100) {
        if (waited > 120_000) throw new Error(`${p}: another test file did not finish capturing it in 120 s`);
        sleep(100);
      }
    }
    path = p;
    return ['--snapshot', path];
  };
}
