import { describe, expect, it } from 'vitest';
import { keyFromHex, keyFromHexBytes, keyToHex, keyToPaddedHex, isKernelKey } from './address.js';

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
});
