/**
 * blockingReads on what it is used for (a file that blocks in read(2)): a FIFO stands in for
 * trace_pipe, with a writer that pauses between pieces, so reads return partial data, the ring
 * wraps (a 64 KiB ring for ~1 MiB) and the reader has to wait for the main thread.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { blockingReads } from './blocking-reader.js';

async function collect(fd: number, cap?: number, slow = false): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of blockingReads(fd, cap)) {
    expect(b.length).toBeGreaterThan(0);
    if (cap) expect(b.length).toBeLessThanOrEqual(cap);
    parts.push(b);
    if (slow) await new Promise((r) => setTimeout(r, 1)); // a busy main thread: the ring fills
  }
  return Buffer.concat(parts);
}

describe('blockingReads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kallmod-br-'));

  it('a regular file: every byte, in order, then the end', async () => {
    const data = randomBytes(300_000);
    writeFileSync(join(dir, 'f'), data);
    const fd = openSync(join(dir, 'f'), 'r');
    try { expect((await collect(fd, 1 << 16)).equals(data)).toBe(true); } finally { closeSync(fd); }
  });

  it('a FIFO with a slow writer and a slow consumer: identical bytes, wraps the ring, ends at EOF', async () => {
    const fifo = join(dir, 'p');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return void console.log('[blocking-reader] skipped: no mkfifo');
    const data = randomBytes(1 << 20);
    writeFileSync(join(dir, 'src'), data);
    // dd writes 4 KiB pieces; the pauses make reads return whatever has arrived
    const src = join(dir, 'src');
    const loop = `i=0; while [ $i -lt 16 ]; do dd if="${src}" bs=4096 skip=$((i*64)) count=64 status=none; sleep 0.02; i=$((i+1)); done`;
    const w = spawn('sh', ['-c', `${loop} > "${fifo}"`]);
    const fd = openSync(fifo, 'r');
    try {
      const got = await collect(fd, 1 << 16, true);
      expect(got.length).toBe(data.length);
      expect(got.equals(data)).toBe(true);
    } finally { closeSync(fd); w.kill(); }
  }, 20_000);

  it('a read error is thrown with its errno code', async () => {
    const fd = openSync(dir, 'r'); // read(2) on a directory: EISDIR
    try { await expect(collect(fd)).rejects.toMatchObject({ code: 'EISDIR' }); } finally { closeSync(fd); }
  });

  it('cleanup', () => { rmSync(dir, { recursive: true, force: true }); });
});
