import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KallmodError } from '../errors.js';
import { fsErrorText } from '../fs-error.js';

// node:zlib and node:child_process are required only for a compressed file: loading them
// cost ~3-5 ms of every start-up from a plain kallsyms
const require = createRequire(import.meta.url);

/**
 * Read a whole source file, decompressing .xz/.gz/.zst (distributions ship `.ko.xz`,
 * `.ko.zst`, `.ko.gz`; saved kallsyms are often xz'd). Detection is by magic bytes, not by
 * name, so a renamed file still works.
 */
export function readSourceFile(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new KallmodError(`cannot read: ${fsErrorText(e)}`, { file: path, cause: e });
  }
  return decompress(raw, path);
}

/**
 * xz: the system's `xz -dc` when it is on PATH (liblzma: ~3x faster than @napi-rs/lzma on a
 * 7 MB kallsyms, 40 vs 120-160 ms, and it runs beside this process's start-up), else
 * @napi-rs/lzma (pure Rust, prebuilt per platform through npm: node has no xz). A file xz
 * refuses is decoded again in process, so that the error says what it always said.
 */
function unxz(raw: Buffer): Buffer {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const sys = spawnSync('xz', ['-dc'], { input: raw, maxBuffer: 4 << 30 });
  if (sys.status === 0 && !sys.error) return sys.stdout;
  type Xz = { decompressSync(b: Uint8Array): Buffer };
  let lzma: Xz | null;
  try { lzma = require('@napi-rs/lzma/xz') as Xz; } catch { lzma = null; }
  if (lzma) return Buffer.from(lzma.decompressSync(raw));
  if (sys.error) throw new Error(`no xz decoder (${sys.error.message})`);
  throw new Error(sys.stderr.toString().trim());
}

export function decompress(raw: Buffer, path: string): Buffer {
  try {
    if (raw.length >= 6 && raw[0] === 0xfd && raw[1] === 0x37 && raw[2] === 0x7a && raw[3] === 0x58 && raw[4] === 0x5a) {
      return unxz(raw);
    }
    if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) return (require('node:zlib') as typeof import('node:zlib')).gunzipSync(raw);
    if (raw.length >= 4 && raw[0] === 0x28 && raw[1] === 0xb5 && raw[2] === 0x2f && raw[3] === 0xfd) {
      // fzstd: small pure-JS zstd decoder (node 20's zlib has no zstd).
      const fzstd = require('fzstd') as { decompress(b: Uint8Array): Uint8Array };
      const out = fzstd.decompress(raw);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
  } catch (e) {
    throw new KallmodError(`cannot decompress: ${(e as Error).message}`, { file: path, cause: e });
  }
  return raw;
}
