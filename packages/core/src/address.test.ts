import { describe, expect, it } from 'vitest';
import { hex8At, keyFromHex, keyFromHexBytes, keyToHex, keyToPaddedHex, isKernelKey, whyNoKey, whyNotSymbolAddress, KERNEL_SYMBOL_BASE } from './address.js';

describe('address keys', () => {
  it('round-trips kernel and user addresses exactly', () => {
    for (const a of ['ffffffff81000000', 'ffffffffc0049a80', 'ffff888100000000', '7fffb84c9afc', '1000', '0']) {
      expect(keyToHex(keyFromHex(a))).toBe('0x' + a.replace(/^0+(?=.)/, ''));
      expect(keyToPaddedHex(keyFromHex('0x' + a))).toBe(a.padStart(16, '0'));
    }
  });
  it('keeps order and differences of kernel addresses (KASLR slides are subtraction)', () => {
    const a = keyFromHex('ffffffff81000000'), b = keyFromHex('ffffffffb2e00000');
    expect(b - a).toBe(0x31e00000);
    expect(keyFromHex('ffffffffc0000000')).toBeGreaterThan(b);
    expect(isKernelKey(a)).toBe(true);
    expect(isKernelKey(keyFromHex('7fffb84c9afc'))).toBe(false);
  });
  it('rejects what is not hex', () => {
    expect(keyFromHex('')).toBeNaN();
    expect(keyFromHex('xyz')).toBeNaN();
    expect(keyFromHex('1ffffffff81000000')).toBeNaN(); // 17 digits
    const b = Buffer.from('ffffffff8100000g');
    expect(keyFromHexBytes(b, 0, b.length)).toBeNaN();
    expect(keyFromHexBytes(Buffer.from('ffffffff81000000'), 0, 16)).toBe(keyFromHex('ffffffff81000000'));
  });
  it('gives no key to what is not canonical: it folded onto a kernel address (0001ffff... read as ffffffff...)', () => {
    for (const a of ['0001ffff8225f8ab', '0001000000000000', '12345678deadbeef', 'fe00000000000000', 'ff11000012345678', 'fffeffffffffffff']) {
      expect(keyFromHex(a), a).toBeNaN();
      const b = Buffer.from(a);
      expect(keyFromHexBytes(b, 0, b.length), a).toBeNaN();
    }
    // the edges of what has keys: the top of the 48-bit user half, the kernel half
    expect(keyToHex(keyFromHex('0000ffffffffffff'))).toBe('0xffffffffffff');
    expect(keyToHex(keyFromHex('ffff000000000000'))).toBe('0xffff000000000000');
    expect(whyNoKey('0001ffff8225f8ab')).toMatch(/not a kernel address/);
    expect(whyNoKey('ff11000012345678')).toMatch(/no symbol lies/);
    expect(whyNoKey('12345678deadbeef')).toMatch(/not a canonical address/);
    expect(whyNoKey('1ffffffff81000000')).toBe('over 64 bits');
    expect(whyNoKey('ffffffff81000000')).toBeNull();
  });
  it('knows where no symbol of a 64-bit kernel lies (sources): below 0xffff800000000000 in the kernel half', () => {
    expect(whyNotSymbolAddress(keyFromHex('ffff0000deadbeef'), 'ffff0000deadbeef')).toMatch(/below 0xffff800000000000/);
    expect(whyNotSymbolAddress(KERNEL_SYMBOL_BASE, 'ffff800000000000')).toBeNull(); // arm64 modules start here
    expect(whyNotSymbolAddress(keyFromHex('ffffffffc0000000'), 'ffffffffc0000000')).toBeNull();
    expect(whyNotSymbolAddress(keyFromHex('c0000000'), 'c0000000')).toBeNull(); // 32-bit kernels
  });
});

describe('hex8At (8 hex digits at a time)', () => {
  it('agrees with a digit-by-digit reading for every byte value at every position', () => {
    const b = Buffer.from('0123abcd'), v = new DataView(b.buffer, b.byteOffset, 8);
    for (let at = 0; at < 8; at++) {
      for (let c = 0; c < 256; c++) {
        const saved = b[at]!;
        b[at] = c;
        const s = b.toString('latin1');
        expect(hex8At(v, 0), `byte ${c} at ${at}`).toBe(/^[0-9a-fA-F]{8}$/.test(s) ? parseInt(s, 16) : -1);
        b[at] = saved;
      }
    }
    for (const s of ['ffffffff', 'FFFFFFFF', '00000000', '81000000', 'c0330010', 'DeadBeef']) {
      const x = Buffer.from(s);
      expect(hex8At(new DataView(x.buffer, x.byteOffset, 8), 0)).toBe(parseInt(s, 16));
    }
  });
});
