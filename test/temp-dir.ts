/**
 * Temporary directories for tests. Each comes from mkdtemp under os.tmpdir(), so test files and
 * concurrent runs never share one, and each is removed again, also when a test fails: one run
 * once left 48 /tmp/kallmod-* behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A directory for this test file: made on the first call of the function returned, removed
 * after the file's last test. Register it at collection time (top level or in a describe); it
 * is made lazily because vitest runs no afterAll in a file whose tests are all skipped.
 */
export function tempDir(label: string): () => string {
  let dir: string | null = null;
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  return () => (dir ??= mkdtempSync(join(tmpdir(), `kallmod-${label}-`)));
}

/** A directory for one test body, removed when fn returns, throws or its promise settles. */
export function withTempDir<T>(label: string, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), `kallmod-${label}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  let r: T;
  try { r = fn(dir); } catch (e) { remove(); throw e; }
  if (r instanceof Promise) return r.finally(remove) as T;
  remove();
  return r;
}

/** The TMPDIR outside this run's private one (test/setup/private-tmpdir.ts): where tools run outside the suite leave their output. */
export function outerTmpdir(): string { return process.env['KALLMOD_TEST_OUTER_TMPDIR'] ?? tmpdir(); }
