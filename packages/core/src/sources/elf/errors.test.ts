import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KallmodError } from '../../errors.js';
import { readSourceFile } from '../read-file.js';
import { openElf, openElfAny, openElfBuffer, cuToObject, type ElfObject } from './index.js';

const FIX = fileURLToPath(new URL('../../../../../fixtures/kernel-6.12/modules/', import.meta.url));

/** Run `fn`, require a one-line KallmodError naming `file` and matching `re`. */
function expectKallmod(fn: () => unknown, file: string, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(KallmodError);
  const e = err as KallmodError;
  expect(e.message).toMatch(re);
  expect(e.message.startsWith(file + ': '), e.message).toBe(true);
  expect(e.file).toBe(file);
  expect(e.message.includes('\n')).toBe(false);
}

describe('errors on bad input', () => {
  let dir = '';
  let ko: Buffer;
  const put = (name: string, data: Buffer | string) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kallmod-elf-err-'));
    ko = readSourceFile(join(FIX, 'dummy.ko.xz'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Section header field patch helper (ELF64 LE). */
  function sectionHeaderOffset(buf: Buffer, name: string): number {
    const shoff = Number(buf.readBigUInt64LE(0x28));
    const shnum = buf.readUInt16LE(0x3c), shstrndx = buf.readUInt16LE(0x3e);
    const strOff = Number(buf.readBigUInt64LE(shoff + shstrndx * 64 + 0x18));
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * 64;
      const n = buf.readUInt32LE(o);
      const end = buf.indexOf(0, strOff + n);
      if (buf.toString('latin1', strOff + n, end) === name) return o;
    }
    throw new Error('no section ' + name);
  }

  it('missing file', () => {
    const p = join(dir, 'nope.ko');
    expectKallmod(() => openElf(p), p, /cannot read: no such file/);
    expectKallmod(() => openElfAny(p), p, /cannot read: no such file/);
  });

  it('directory', () => {
    expectKallmod(() => openElf(dir), dir, /cannot read/);
    expectKallmod(() => openElfAny(dir), dir, /cannot read/);
  });

  it('text file / empty file / junk', () => {
    const t = put('kallsyms.txt', 'ffffffff81000000 T _text\n');
    expectKallmod(() => openElf(t), t, /not an ELF file/);
    const e = put('empty', Buffer.alloc(0));
    expectKallmod(() => openElfAny(e), e, /not an ELF file/);
    const j = put('junk', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff)));
    expectKallmod(() => openElf(j), j, /not an ELF file/);
    expectKallmod(() => openElfBuffer(Buffer.from('xyz'), 'buf.ko'), 'buf.ko', /not an ELF file/);
    const xz = join(FIX, 'dummy.ko.xz');
    expectKallmod(() => openElf(xz), xz, /not an ELF file \(compressed/);
    expect(openElfAny(xz).kind).toBe('rel');
  });

  it('compressed junk through openElfAny', () => {
    const p = put('junk.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3, 4]));
    expectKallmod(() => openElfAny(p), p, /cannot decompress/);
  });

  it('wrong class / endianness / machine', () => {
    const c32 = Buffer.from(ko); c32[4] = 1;
    const p1 = put('elf32.o', c32);
    expectKallmod(() => openElf(p1), p1, /not an x86-64 ELF \(32-bit/);
    const be = Buffer.from(ko); be[5] = 2;
    const p2 = put('be.o', be);
    expectKallmod(() => openElf(p2), p2, /not an x86-64 ELF \(big-endian/);
    const arm = Buffer.from(ko); arm.writeUInt16LE(183, 18);
    const p3 = put('arm64.ko', arm);
    expectKallmod(() => openElf(p3), p3, /^.*: not an x86-64 ELF \(machine 183\)$/);
  });

  it('truncated header and section headers', () => {
    const p1 = put('t40.ko', ko.subarray(0, 40));
    expectKallmod(() => openElf(p1), p1, /truncated ELF header/);
    const p2 = put('half.ko', ko.subarray(0, ko.length >> 1));
    expectKallmod(() => openElf(p2), p2, /truncated ELF/);
    expectKallmod(() => openElfBuffer(ko.subarray(0, 3000), 'x.ko'), 'x.ko', /truncated ELF/);
  });

  it('section data past the end of the file', () => {
    const b = Buffer.from(ko);
    const sh = sectionHeaderOffset(b, '.debug_info');
    b.writeBigUInt64LE(BigInt(b.length + 100), sh + 0x18);
    const p = put('badsec.ko', b);
    const o = openElf(p); // headers are fine: the bad section is only read on demand
    expect(o.symbols().length).toBeGreaterThan(0);
    expectKallmod(() => o.cuRanges(), p, /truncated ELF file \(section \.debug_info extends past end of file\)/);
    o.close();
  });

  it('no DWARF', () => {
    const b = Buffer.from(ko);
    const names = sectionHeaderOffset(b, '.debug_info');
    // rename ".debug_info" → ".xebug_info" in the section name table
    const shoff = Number(b.readBigUInt64LE(0x28)), shstrndx = b.readUInt16LE(0x3e);
    const strOff = Number(b.readBigUInt64LE(shoff + shstrndx * 64 + 0x18));
    b[strOff + b.readUInt32LE(names) + 1] = 0x78;
    const p = put('nodwarf.ko', b);
    const o: ElfObject = openElf(p);
    expect(o.hasDwarf()).toBe(false);
    expectKallmod(() => o.cuRanges(), p, /no DWARF debug info/);
    o.close();
  });

  it('garbage DWARF is a KallmodError, not a crash', () => {
    for (const sec of ['.debug_abbrev', '.debug_info', '.debug_aranges']) {
      const b = Buffer.from(ko);
      const sh = sectionHeaderOffset(b, sec);
      const off = Number(b.readBigUInt64LE(sh + 0x18)), size = Number(b.readBigUInt64LE(sh + 0x20));
      b.fill(0xff, off, off + size);
      const p = put(`garbage${sec}.ko`, b);
      const o = openElf(p);
      expectKallmod(() => o.cuRanges(), p, /malformed DWARF/);
      o.close();
    }
  });

  it('reading after close', () => {
    const p = put('ok.ko', ko);
    const o = openElf(p);
    o.close();
    expectKallmod(() => o.cuRanges(), p, /closed/);
  });
});

describe('cuToObject', () => {
  it('maps CU names to objects', () => {
    expect(cuToObject('fs/ext4/inode.c')).toBe('fs/ext4/inode.o');
    expect(cuToObject('arch/x86/entry/entry_64.S')).toBe('arch/x86/entry/entry_64.o');
    expect(cuToObject('./drivers/net/dummy.c')).toBe('drivers/net/dummy.o');
    expect(cuToObject('/src/linux/fs/ext4/inode.c', '/src/linux')).toBe('fs/ext4/inode.o');
    expect(cuToObject('/src/linux/fs/ext4/inode.c', '/src/linux/')).toBe('fs/ext4/inode.o');
    expect(cuToObject('')).toBeNull();
    expect(cuToObject('./')).toBeNull();
    expect(cuToObject('lib/.hidden/x.c')).toBe('lib/.hidden/x.o');
    expect(cuToObject('noext')).toBe('noext.o');
    // Debian O= build: asm CU named by absolute source path, comp_dir = object tree below it
    expect(cuToObject('/build/reproducible-path/linux-6.1.192/arch/x86/kernel/head_64.S',
      '/build/reproducible-path/linux-6.1.192/debian/build/build_amd64_none_cloud-amd64')).toBe('arch/x86/kernel/head_64.o');
    // only "/" or one component in common: keep the path
    expect(cuToObject('/src/linux/a.c', '/src/build')).toBe('/src/linux/a.o');
    expect(cuToObject('/usr/src/a.c', null)).toBe('/usr/src/a.o');
  });
});
