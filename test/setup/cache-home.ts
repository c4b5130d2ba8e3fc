/**
 * vitest globalSetup: every run of the CLI under test gets its own per-kernel cache
 * ($XDG_CACHE_HOME/kallmod), removed afterwards. On a machine with the running kernel's debug
 * vmlinux installed, a test that uses the defaults would otherwise write into ~/.cache/kallmod.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'kallmod-test-cache-'));
  const before = process.env['XDG_CACHE_HOME'];
  process.env['XDG_CACHE_HOME'] = dir;
  return () => {
    if (before === undefined) delete process.env['XDG_CACHE_HOME']; else process.env['XDG_CACHE_HOME'] = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
