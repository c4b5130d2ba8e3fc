import { describe, expect, it } from 'vitest';
import { gnuBuildId } from './identity.js';

/** One ELF note: namesz, descsz, type, name and desc padded to 4. */
function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(name + '\0', 'latin1');
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const h = Buffer.alloc(12);
  h.writeUInt32LE(n.length, 0); h.writeUInt32LE(desc.length, 4); h.writeUInt32LE(type, 8);
  return Buffer.concat([h, pad(n), pad(desc)]);
}

describe('gnuBuildId', () => {
  // hand-written edge cases, laid out as /sys/kernel/notes is (Linux and Xen notes around the GNU one)
  const id = Buffer.from('ebc52e2876d4430baf9b7b6f3226b56fe99c2d5f', 'hex');
  it('finds the NT_GNU_BUILD_ID note among others', () => {
    const notes = Buffer.concat([
      note('Linux', 6, Buffer.from('6.12.118\0')), note('Xen', 3, Buffer.alloc(8)), note('GNU', 3, id), note('Xen', 18, Buffer.alloc(8)),
    ]);
    expect(gnuBuildId(notes)).toBe(id.toString('hex'));
  });
  it('says null for no GNU note, a GNU note of another type, or a cut note', () => {
    expect(gnuBuildId(note('Linux', 3, id))).toBeNull();
    expect(gnuBuildId(note('GNU', 5, id))).toBeNull();
    expect(gnuBuildId(note('GNU', 3, id).subarray(0, 20))).toBeNull();
    expect(gnuBuildId(Buffer.alloc(0))).toBeNull();
  });
});
