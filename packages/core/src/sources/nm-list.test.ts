import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseNmList } from './nm-list.js';
import { keyFromHex } from '../address.js';
import type { Warning } from '../errors.js';

describe('kallsyms / System.map parser', () => {
  // hand-written edge cases in the exact /proc/kallsyms format (formats.md §1.2)
  it('reads the [module] column after a TAB, pseudo-modules included, and keeps CRLF out of names', () => {
    const l = parseNmList(Buffer.from('ffffffff81000000 T _text\r\nffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\nffffffffc1937000 T hdmi_driver_init\t[snd_hda_codec_hdmi]\n'), 'k');
    expect(l.names.get(0)).toBe('_text');
    expect(l.moduleIds[0]).toBe(-1);
    expect(l.moduleNames[l.moduleIds[1]!]).toBe('__builtin__ftrace');
    expect(l.names.get(2)).toBe('hdmi_driver_init');
    expect(l.keys[2]).toBe(keyFromHex('ffffffffc1937000'));
    expect(String.fromCharCode(l.types[1]!)).toBe('t');
  });
  it('says when kptr_restrict hid the addresses', () => {
    const l = parseNmList(Buffer.from('0000000000000000 T _text\n0000000000000000 t foo\t[m]\n'), 'k');
    expect(l.addressesHidden).toBe(true);
  });
  it('skips junk lines with one warning naming the first, and refuses a file with no symbols', () => {
    const w: Warning[] = [];
    const l = parseNmList(Buffer.from('ffffffff81000000 T _text\n\x00\xff garbage\nnot a line\nffffffff81000010 t x\n'), 'k', (x) => w.push(x));
    expect(l.keys.length).toBe(2);
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toMatch(/2 malformed line\(s\) skipped, first at line 2/);
    expect(() => parseNmList(Buffer.from('\x7fELF\x02\x01\x01'), 'vmlinux')).toThrow(/^vmlinux:1: no symbols found/);
  });
  const proc = (() => { try { const b = readFileSync('/proc/kallsyms'); return b.length ? b : null; } catch { return null; } })();
  it.skipIf(!proc)('parses this machine\'s own /proc/kallsyms', () => {
    const l = parseNmList(proc!, '/proc/kallsyms');
    expect(l.keys.length).toBeGreaterThan(10000);
    expect(l.skipped).toBe(0);
    const i = [...l.names].indexOf('_text');
    expect(i).toBeGreaterThanOrEqual(0);
    if (!l.addressesHidden) expect(l.keys[i]).toBeGreaterThan(keyFromHex('ffff000000000000'));
  });
  if (!proc) console.warn('skipped: /proc/kallsyms is not readable here');
});

describe('addresses no kernel symbol can have', () => {
  // hand-written edge case: garbage addresses among real-looking lines
  it('are skipped with one warning naming the file and the first line', () => {
    const w: Warning[] = [];
    const l = parseNmList(Buffer.from('ffffffff81000000 T _text\n0001ffff81000010 T folded\nffff0000deadbeef t low\nffffffff81000020 T ok\n'), 'k', (x) => w.push(x));
    expect(l.keys.length).toBe(2);
    expect([l.names.get(0), l.names.get(1)]).toEqual(['_text', 'ok']);
    expect(w).toHaveLength(1);
    expect(w[0]!.source).toBe('k');
    expect(w[0]!.message).toMatch(/^line 2: address 0001ffff81000010: not a kernel address.*; 2 line\(s\)/);
  });
});
