import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KallmodError } from '../errors.js';
import { fsErrorText } from '../fs-error.js';
import { nativeAddon } from '../native.js';

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
 * xz: the addon's liblzma where it has one (50 ms for a 6.12 kallsyms.xz, @napi-rs/lzma 85-100:
 * most of a raw .xz start-up); else @napi-rs/lzma (pure-Rust, prebuilt per platform through
 * npm: node has no xz); where its platform package is missing, the system's `xz`. A file
 * liblzma refuses goes to the next decoder, so a damaged one gets the same error on every path.
 */
function unxz(raw: Buffer): Buffer {
  const viaLiblzma = nativeAddon()?.xzDecode?.(raw);
  if (viaLiblzma) return viaLiblzma;
  type Xz = { decompressSync(b: Uint8Array): Buffer };
  let lzma: Xz | null;
  try { lzma = require('@napi-rs/lzma/xz') as Xz; } catch { lzma = null; }
  if (lzma) return Buffer.from(lzma.decompressSync(raw));
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('xz', ['-dc'], { input: raw, maxBuffer: 4 << 30 });
  if (r.status !== 0) throw new Error(r.error ? `no xz decoder (${r.error.message})` : r.stderr.toString().trim());
  return r.stdout;
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
