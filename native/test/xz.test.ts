/**
 * xzDecode (the addon's liblzma, native/src/xz.rs) against the system's `xz -dc` on real xz
 * files of the fixtures, and a damaged file: refused by the addon, then the one error every path
 * gives (read-file.ts hands a refused file to the next decoder). Skipped, with the reason
 * printed, when the addon is not loaded or was built without liblzma.a.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '@kallmod/core/native';
import { CLI, ROOT } from '../../test/kernel-fixture.js';
import { nativeSkipReason } from '../../test/native-addon.js';
import { tempDir } from '../../test/temp-dir.js';

const notLoaded = nativeSkipReason('native xzDecode');
const decode = notLoaded ? undefined : nativeAddon()?.xzDecode;
if (!notLoaded && !decode) console.log('[native xzDecode] skipped: the addon was built without liblzma.a (apt-get install liblzma-dev)');
const FILES = ['fixtures/kernel-6.12/boot-kaslr/kallsyms.xz', 'fixtures/kernel-6.12/System.map.xz', 'fixtures/perf/system-g.script.xz'];

describe.skipIf(!decode)('native xzDecode (liblzma)', () => {
  const dir = tempDir('xz');
  for (const rel of FILES) {
    it(`${rel}: the bytes xz -dc gives`, () => {
      const raw = readFileSync(join(ROOT, rel));
      const want = spawnSync('xz', ['-dc'], { input: raw, maxBuffer: 1 << 30 }).stdout;
      expect(want.length).toBeGreaterThan(raw.length);
      expect(decode!(raw)!.equals(want)).toBe(true);
      // concatenated streams are one output, as with xz -dc
      expect(decode!(Buffer.concat([raw, raw]))!.equals(Buffer.concat([want, want]))).toBe(true);
    });
  }
  it('refuses a truncated or foreign file; the CLI says the same as on the TypeScript path', () => {
    const raw = readFileSync(join(ROOT, FILES[0]!));
    expect(decode!(raw.subarray(0, raw.length >> 1))).toBeUndefined();
    expect(decode!(Buffer.from('not xz at all'))).toBeUndefined();
    const cut = join(dir(), 'cut.xz');
    writeFileSync(cut, raw.subarray(0, raw.length >> 1));
    const run = (native: string) => spawnSync(process.execPath, [CLI, 'lookup', '--kallsyms', cut, 'vfs_read'],
      { encoding: 'utf8', env: { ...process.env, KALLMOD_NATIVE: native } });
    const n = run('1'), t = run('0');
    expect(n.status).toBe(1);
    expect(n.stderr).toMatch(/cut\.xz: cannot decompress: /);
    expect(n.stderr).toBe(t.stderr);
  });
});
