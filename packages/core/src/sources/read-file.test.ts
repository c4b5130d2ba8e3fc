/**
 * .xz source files: the system's `xz -dc` (when on PATH) and the in-process decoder give the
 * same bytes for the real 6.12 kallsyms.xz (fixtures/kernel-6.12), and a damaged copy of it
 * gives the same one error, naming the file, either way (the in-process decoder words it).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSourceFile } from './read-file.js';
import { KallmodError } from '../errors.js';
import { tempDir } from '../../../../test/temp-dir.js';

const XZ = join(import.meta.dirname, '../../../../fixtures/kernel-6.12/boot-kaslr/kallsyms.xz');
const dir = tempDir('read-file');
const hasXz = spawnSync('xz', ['--version']).status === 0;
if (!hasXz) console.log('[read-file] the system-xz half skipped: no xz on PATH');

function withoutXz<T>(fn: () => T): T {
  const path = process.env['PATH'];
  process.env['PATH'] = '/nonexistent';
  try { return fn(); } finally { process.env['PATH'] = path; }
}

function errorOf(fn: () => unknown): string {
  try { fn(); } catch (e) { if (e instanceof KallmodError) return e.message; throw e; }
  throw new Error('no error');
}

describe('.xz sources', () => {
  it.skipIf(!hasXz)('system xz and the in-process decoder: the same bytes', () => {
    const sys = readSourceFile(XZ);
    expect(sys.length).toBeGreaterThan(6_000_000);
    expect(sys.equals(withoutXz(() => readSourceFile(XZ)))).toBe(true);
  });
  it('a damaged .xz: one error naming the file, the same with and without xz on PATH', () => {
    const bad = Buffer.from(readFileSync(XZ));
    for (let i = 8; i < 12; i++) bad[i] ^= 0xff; // the stream header's CRC no longer matches
    const f = join(dir(), 'damaged.xz');
    writeFileSync(f, bad);
    const plain = withoutXz(() => errorOf(() => readSourceFile(f)));
    expect(plain).toContain('damaged.xz');
    expect(plain).toMatch(/cannot decompress/);
    expect(plain.split('\n')).toHaveLength(1);
    if (hasXz) expect(errorOf(() => readSourceFile(f))).toBe(plain);
  });
});
