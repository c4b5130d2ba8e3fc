/**
 * ELF64 x86-64 little-endian container: header, section headers, lazy section reads.
 *
 * A file-backed ElfFile reads only the 64-byte header and the section header table up front;
 * section contents are read with fs.readSync on demand (whole sections, or byte ranges of
 * uncompressed sections), so a 600 MB vmlinux is never read whole. A buffer-backed ElfFile
 * (decompressed .ko.xz) serves the same calls from memory.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { keyFromParts } from '../../address.js';
import { KallmodError } from '../../errors.js';

const require = createRequire(import.meta.url);

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;

export const SHT_NULL = 0;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;
export const SHF_COMPRESSED = 0x800;

/** Raw section header, plus derived fields. */
export interface SectionHeader {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** key for exec/dyn, 0 for rel */
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** u64 little-endian at `off` as a plain number (exact below 2^53; used for sizes/offsets). */
export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 4) * 4294967296 + buf.readUInt32LE(off);
}

export class ElfFile {
  readonly path: string;
  readonly type: number;
  readonly isRel: boolean;
  readonly sections: SectionHeader[];
  private fd: number | null;
  private readonly buf: Buffer | null;
  private readonly fileSize: number;
  private readonly cache = new Map<number, Buffer>();
  private closed = false;

  private constructor(path: string, fd: number | null, buf: Buffer | null, fileSize: number) {
    this.path = path;
    this.fd = fd;
    this.buf = buf;
    this.fileSize = fileSize;
    const hdr = this.readRaw(0, Math.min(64, fileSize));
    checkHeader(hdr, path);
    this.type = hdr.readUInt16LE(16);
    if (this.type !== ET_REL && this.type !== ET_EXEC && this.type !== ET_DYN) {
      throw new KallmodError(`unsupported ELF type ${this.type} (want executable or relocatable object)`, { file: path });
    }
    this.isRel = this.type === ET_REL;
    this.sections = this.readSectionHeaders(hdr);
  }

  static open(path: string): ElfFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
      throw new KallmodError(`cannot read: ${why}`, { file: path, cause: e });
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new KallmodError('cannot read: not a regular file', { file: path });
      return new ElfFile(path, fd, null, st.size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  static fromBuffer(buf: Buffer, path: string): ElfFile {
    return new ElfFile(path, null, buf, buf.length);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    this.closed = true;
    this.cache.clear();
  }

  /** Bytes [off, off+len) of the file; read into `scratch` when it is large enough (the caller keeps nothing of it). */
  readRaw(off: number, len: number, scratch?: Buffer): Buffer {
    if (off < 0 || off + len > this.fileSize) throw new KallmodError('truncated ELF file', { file: this.path });
    if (this.buf) return this.buf.subarray(off, off + len);
    if (this.closed || this.fd === null) throw new KallmodError('ELF file already closed', { file: this.path });
    const out = scratch && scratch.length >= len ? scratch.subarray(0, len) : Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, out, done, len - done, off + done);
      if (n <= 0) throw new KallmodError('truncated ELF file (short read)', { file: this.path });
      done += n;
    }
    return out;
  }

  private readSectionHeaders(hdr: Buffer): SectionHeader[] {
    if (hdr.length < 64) throw new KallmodError('truncated ELF header', { file: this.path });
    const shoff = readU64(hdr, 0x28);
    const shentsize = hdr.readUInt16LE(0x3a);
    let shnum = hdr.readUInt16LE(0x3c);
    let shstrndx = hdr.readUInt16LE(0x3e);
    if (shoff === 0) return [];
    if (shentsize !== 64) throw new KallmodError(`bad ELF section header size ${shentsize}`, { file: this.path });
    if (shoff + 64 > this.fileSize) throw new KallmodError('truncated ELF file (section headers past end of file)', { file: this.path });
    if (shnum === 0 || shstrndx === 0xffff) {
      const s0 = this.readRaw(shoff, 64);
      if (shnum === 0) shnum = readU64(s0, 0x20);
      if (shstrndx === 0xffff) shstrndx = s0.readUInt32LE(0x28);
    }
    if (shoff + shnum * 64 > this.fileSize) throw new KallmodError('truncated ELF file (section headers past end of file)', { file: this.path });
    const raw = this.readRaw(shoff, shnum * 64);
    const secs: SectionHeader[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * 64;
      const flags = readU64(raw, o + 8);
      secs.push({
        index: i,
        name: '',
        type: raw.readUInt32LE(o + 4),
        flags,
        addr: this.isRel ? 0 : keyFromParts(raw.readUInt32LE(o + 0x14), raw.readUInt32LE(o + 0x10)),
        offset: readU64(raw, o + 0x18),
        size: readU64(raw, o + 0x20),
        link: raw.readUInt32LE(o + 0x28),
        info: raw.readUInt32LE(o + 0x2c),
        entsize: readU64(raw, o + 0x38),
      });
    }
    if (shstrndx > 0 && shstrndx < shnum) {
      const st = secs[shstrndx]!;
      if (st.type === SHT_NOBITS || st.offset + st.size > this.fileSize) {
        throw new KallmodError('truncated ELF file (section name table past end of file)', { file: this.path });
      }
      const names = this.readRaw(st.offset, st.size);
      for (const s of secs) s.name = cstring(names, raw.readUInt32LE(s.index * 64));
    }
    return secs;
  }

  /** First section with that name (".zdebug_x" answers for ".debug_x" too). */
  find(name: string): SectionHeader | undefined {
    let alt: SectionHeader | undefined;
    const zname = name.startsWith('.debug_') ? '.zdebug_' + name.slice(7) : null;
    for (const s of this.sections) {
      if (s.name === name) return s;
      if (zname !== null && s.name === zname) alt ??= s;
    }
    return alt;
  }

  /** True if the section's content must be decompressed (SHF_COMPRESSED or .zdebug_*). */
  isCompressed(s: SectionHeader): boolean {
    return (s.flags & SHF_COMPRESSED) !== 0 || s.name.startsWith('.zdebug_');
  }

  private checkBounds(s: SectionHeader): void {
    if (s.type === SHT_NOBITS) return;
    if (s.offset + s.size > this.fileSize) {
      throw new KallmodError(`truncated ELF file (section ${s.name || '#' + s.index} extends past end of file)`, { file: this.path });
    }
  }

  /** Whole (decompressed) content of section `index`, cached. Relocations are NOT applied here. */
  sectionData(index: number): Buffer {
    const hit = this.cache.get(index);
    if (hit) return hit;
    const s = this.sections[index];
    if (!s) throw new KallmodError(`bad ELF section index ${index}`, { file: this.path });
    let data: Buffer;
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) data = Buffer.alloc(0);
    else {
      this.checkBounds(s);
      data = this.readRaw(s.offset, s.size);
      if (this.isCompressed(s)) data = this.decompressSection(s, data);
    }
    this.cache.set(index, data);
    return data;
  }

  /** Replace the cached content of a section (used after applying relocations). */
  setSectionData(index: number, data: Buffer): void {
    this.cache.set(index, data);
  }

  hasCached(index: number): boolean {
    return this.cache.has(index);
  }

  /**
   * Bytes [off, off+len) of a section's content, clipped to the section end. Served from the
   * cache when the section has been loaded (or is compressed: then it is loaded whole);
   * otherwise a positional read of just that range.
   */
  sectionRange(index: number, off: number, len: number, scratch?: Buffer): Buffer {
    const s = this.sections[index]!;
    const hit = this.cache.get(index);
    if (hit || this.isCompressed(s) || this.buf) {
      const d = hit ?? this.sectionData(index);
      return d.subarray(Math.min(off, d.length), Math.min(off + len, d.length));
    }
    this.checkBounds(s);
    const end = Math.min(off + len, s.size);
    if (off >= end) return Buffer.alloc(0);
    return this.readRaw(s.offset + off, end - off, scratch);
  }

  private decompressSection(s: SectionHeader, raw: Buffer): Buffer {
    try {
      if (s.name.startsWith('.zdebug_') && (s.flags & SHF_COMPRESSED) === 0) {
        if (raw.length < 12 || raw.toString('latin1', 0, 4) !== 'ZLIB') return raw;
        return inflateSync(raw.subarray(12));
      }
      if (raw.length < 24) throw new Error('compression header truncated');
      const chType = raw.readUInt32LE(0);
      const body = raw.subarray(24);
      if (chType === 1) return inflateSync(body);
      if (chType === 2) {
        let fzstd: { decompress(b: Uint8Array): Uint8Array };
        try {
          fzstd = require('fzstd') as typeof fzstd;
        } catch {
          throw new Error('zstd-compressed section needs the fzstd package');
        }
        const out = fzstd.decompress(body);
        return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      }
      throw new Error(`unknown compression type ${chType}`);
    } catch (e) {
      throw new KallmodError(`cannot decompress section ${s.name}: ${(e as Error).message}`, { file: this.path, cause: e });
    }
  }
}

function checkHeader(hdr: Buffer, path: string): void {
  if (hdr.length < 4 || hdr[0] !== 0x7f || hdr[1] !== 0x45 || hdr[2] !== 0x4c || hdr[3] !== 0x46) {
    const compressed = (hdr.length >= 4 && hdr[0] === 0xfd && hdr[1] === 0x37 && hdr[2] === 0x7a && hdr[3] === 0x58)
      || (hdr.length >= 2 && hdr[0] === 0x1f && hdr[1] === 0x8b)
      || (hdr.length >= 4 && hdr[0] === 0x28 && hdr[1] === 0xb5 && hdr[2] === 0x2f && hdr[3] === 0xfd);
    throw new KallmodError(compressed ? 'not an ELF file (compressed: decompress it first)' : 'not an ELF file', { file: path });
  }
  if (hdr.length < 20) throw new KallmodError('truncated ELF header', { file: path });
  const cls = hdr[4]!, data = hdr[5]!;
  const machine = hdr.readUInt16LE(18);
  if (cls !== 2) {
    const kind = cls === 1 ? '32-bit' : 'class ' + cls;
    throw new KallmodError(`not an x86-64 ELF (${kind}, machine ${data === 2 ? hdr.readUInt16BE(18) : machine})`, { file: path });
  }
  if (data !== 1) throw new KallmodError(`not an x86-64 ELF (big-endian, machine ${hdr.readUInt16BE(18)})`, { file: path });
  if (machine !== EM_X86_64) throw new KallmodError(`not an x86-64 ELF (machine ${machine})`, { file: path });
  if (hdr.length < 64) throw new KallmodError('truncated ELF header', { file: path });
}

/** NUL-terminated string at `off` of `buf` ("" when out of range). */
export function cstring(buf: Buffer, off: number): string {
  if (off >= buf.length) return '';
  let end = buf.indexOf(0, off);
  if (end < 0) end = buf.length;
  return buf.toString('utf8', off, end);
}
