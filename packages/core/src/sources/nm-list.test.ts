import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseNmList } from './nm-list.js';
import { join } from 'node:path';
import { keyFromHex } from '../address.js';
import type { Warning } from '../errors.js';
import { readSourceFile } from './read-file.js';
import { F_PADDING } from '../table/symbol-table.js';

const FIXTURE = join(import.meta.dirname, '../../../../fixtures/kernel-6.12');

describe('kallsyms / System.map parser', () => {
  // hand-written edge cases in the exact /proc/kallsyms format (formats.md §1.2)
  it('reads the [module] column after a TAB, pseudo-modules included, and keeps CRLF out of names', () => {
    const l = parseNmList(Buffer.from('ffffffff81000000 T _text\r\nffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n' +
      'ffffffffc1937000 T hdmi_driver_init\t[snd_hda_codec_hdmi]\n'), 'k');
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
    const l = parseNmList(Buffer.from('ffffffff81000000 T _text\n0001ffff81000010 T folded\nffff0000deadbeef t low\nffffffff81000020 T ok\n'), 'k',
      (x) => w.push(x));
    expect(l.keys.length).toBe(2);
    expect([l.names.get(0), l.names.get(1)]).toEqual(['_text', 'ok']);
    expect(w).toHaveLength(1);
    expect(w[0]!.source).toBe('k');
    expect(w[0]!.message).toMatch(/^line 2: address 0001ffff81000010: not a kernel address.*; 2 line\(s\)/);
  });
});

describe('the one-pass scan', () => {
  const real = readSourceFile(join(FIXTURE, 'boot-kaslr/kallsyms.xz'));
  const lines = real.toString('latin1').split('\n').filter(Boolean);

  it('reads the real 6.12 kallsyms as a line-by-line reading does, with where its core ends and its padding', () => {
    const l = parseNmList(real, 'k');
    expect(l.keys.length).toBe(lines.length);
    let sorted = -1, firstMod = -1;
    lines.forEach((line, i) => {
      const m = /^([0-9a-f]{16}) (\S) ([^\t]+?)(?:\t\[([^\]]+)\])?$/.exec(line);
      if (!m) expect.fail(`not a kallsyms line: ${line}`);
      if (l.keys[i] !== keyFromHex(m[1]!) || String.fromCharCode(l.types[i]!) !== m[2] || l.names.get(i) !== m[3]
        || (l.moduleIds[i]! < 0 ? undefined : l.moduleNames[l.moduleIds[i]!]) !== m[4]) {
        expect.fail(`line ${i + 1}: ${line}`);
      }
      if (l.flags[i] !== (/^__(pfx|cfi)_/.test(m[3]!) ? F_PADDING : 0)) expect.fail(`padding flag, line ${i + 1}: ${line}`);
      if (i && sorted < 0 && keyFromHex(m[1]!) < keyFromHex(lines[i - 1]!.slice(0, 16))) sorted = i;
      if (m[4] && firstMod < 0) firstMod = i;
    });
    // the core kernel is sorted and the modules follow it: the build merges only those
    expect(l.sortedPrefix).toBe(sorted);
    expect(l.firstWithModule).toBe(firstMod);
    expect(l.moduleNames.length).toBeGreaterThan(10);
  });

  it('gives a CRLF copy, one without its last newline and one with blanks after names the same symbols', () => {
    const want = parseNmList(real, 'k');
    const text = real.toString('latin1');
    for (const v of [text.replace(/\n/g, '\r\n'), text.slice(0, -1), text.replace(/([^\t\n])\n/g, '$1  \n')]) {
      const got = parseNmList(Buffer.from(v, 'latin1'), 'v');
      expect(got.keys.length).toBe(want.keys.length);
      for (let i = 0; i < want.keys.length; i++) {
        if (got.keys[i] !== want.keys[i] || got.names.get(i) !== want.names.get(i) || got.moduleIds[i] !== want.moduleIds[i]) expect.fail(`symbol ${i}`);
      }
      expect(got.skipped).toBe(0);
    }
  });

  // hand-written edge cases: lines the fast path leaves to the general one
  it('reads unusual lines by the general rules: other address widths, a TAB as the type, an unclosed module', () => {
    const w: Warning[] = [];
    const l = parseNmList(Buffer.from([
      'c1000000 T text32', 'ffffffff81000010 \t tabtype', 'ffffffff81000020 t a\t[unclosed', 'ffffffff81000030 t b\t[]',
      'ffffffff81000040 t c\tnot-a-module', '0x81000050 t prefixed', 'ffffffff81000060 t d\t[m] [junk]', '',
    ].join('\n')), 'k', (x) => w.push(x));
    expect([...l.names]).toEqual(['text32', 'tabtype', 'a', 'b', 'c', 'd']);
    expect(l.types[1]).toBe(9);
    expect([...l.moduleIds].map((m) => (m < 0 ? null : l.moduleNames[m]))).toEqual([null, null, null, '', null, 'm']);
    expect(l.sortedPrefix).toBe(6); // ascending: the 32-bit address is below the others
    expect(l.firstWithModule).toBe(3);
    expect(w.map((x) => x.message)).toEqual(['1 malformed line(s) skipped, first at line 6']);
  });
});
