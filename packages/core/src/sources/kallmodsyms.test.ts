import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseKallmodsyms, type KallmodsymsData } from './kallmodsyms.js';
import { keyFromHex } from '../address.js';
import { readSourceFile } from './read-file.js';
import { KallmodError, type Warning } from '../errors.js';
import { k } from '../../../../test/kernel-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '../../../../fixtures/kallmodsyms');

// Fixture provenance: fixtures/kallmodsyms/README.md. v1-2019 and v10-2022 are real lines
// quoted in the patch e-mails (TABs rendered as spaces there); variant-b is hand-written.
function load(name: string): { path: string; data: Buffer } {
  const path = resolve(fixtures, name);
  return { path, data: readFileSync(path) };
}

function parse(text: string, warnings?: Warning[]): KallmodsymsData {
  return parseKallmodsyms(Buffer.from(text), 'test.kallmodsyms', warnings ? (w) => warnings.push(w) : undefined);
}

function row(d: KallmodsymsData, name: string, nth = 0) {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = d.names.indexOf(name, i + 1);
  expect(i).toBeGreaterThanOrEqual(0);
  return {
    key: d.keys[i]!, size: d.sizes[i]!, type: String.fromCharCode(d.types[i]!),
    modules: d.modules[i]!, objname: d.objnames[i]!,
  };
}

describe('parseKallmodsyms: format A (v1 2019 e-mail, real lines)', () => {
  const { path, data } = load('v1-2019-with-size.txt');

  it('reads address, size, type, name and [module]', () => {
    const warnings: Warning[] = [];
    const d = parseKallmodsyms(data, path, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(d.hasSize).toBe(true);
    expect(d.addressesHidden).toBe(false);
    expect(d.names).toHaveLength(6);
    expect(row(d, 'pt_buffer_setup_aux')).toEqual({
      key: keyFromHex('ffffffff8b013d20'), size: 0x409, type: 't', modules: [], objname: null,
    });
    expect(row(d, 'intel_pt_interrupt').type).toBe('T');
    expect(row(d, 'rapl_event_update')).toEqual({
      key: keyFromHex('ffffffff8b0143c0'), size: 0xbb, type: 't', modules: ['intel_rapl_perf'], objname: null,
    });
    expect(row(d, 'rapl_pmu_event_read').size).toBe(0x10);
  });

  it('reads the same with real TABs and CRLF line ends', () => {
    const tabbed = data.toString().replace(/ +\[/g, '\t[').replace(/\n/g, '\r\n');
    expect(parse(tabbed)).toEqual(parseKallmodsyms(data, path));
  });
});

describe('parseKallmodsyms: format C (v10 2022 cover letter, real lines)', () => {
  const { path, data } = load('v10-2022-cover-letter.txt');
  const d = parseKallmodsyms(data, path);

  it('has no size column', () => {
    expect(d.hasSize).toBe(false);
    expect(Number.isNaN(d.sizes[0]!)).toBe(true);
    expect(d.names).toHaveLength(27);
  });

  it('reads [module], module lists and {objname}', () => {
    expect(row(d, 'not_visible')).toMatchObject({ type: 't', modules: [], objname: null });
    expect(row(d, 'perf_msr_probe')).toMatchObject({ type: 'T', modules: [], objname: null });
    expect(row(d, 'test_msr')).toMatchObject({ key: keyFromHex('ffffffff97606f80'), modules: ['rapl'], objname: null });
    expect(row(d, 'amd_put_event_constraints_f17h')).toMatchObject({ modules: [], objname: 'core.o' });
    expect(row(d, 'lio_get_msglevel')).toMatchObject({ modules: ['liquidio', 'liquidio_vf'], objname: null });
    expect(row(d, 'cpumask_weight.constprop.0')).toMatchObject({
      modules: ['liquidio', 'liquidio_vf'], objname: 'cn23xx_vf_device.o',
    });
    // Same name in two modules.
    expect(row(d, 'liquidio_get_stats64', 0).modules).toEqual(['liquidio']);
    expect(row(d, 'liquidio_get_stats64', 1).modules).toEqual(['liquidio_vf']);
  });

  it('reads the same with real TABs (one TAB, then SPACE-separated annotations)', () => {
    const tabbed = data.toString().replace(/ +(?=[[{])/, '\t');
    const lines = data.toString().split('\n').map((l) => l.replace(/^(\S+ \S \S+) +/, '$1\t')).join('\n');
    expect(parse(tabbed)).toEqual(d);
    expect(parse(lines)).toEqual(d);
  });
});

describe('parseKallmodsyms: format B (hand-written sample)', () => {
  const { path, data } = load('variant-b-hand-written.txt');

  it('takes a one-digit size for a size, not for a type', () => {
    const d = parseKallmodsyms(data, path);
    expect(d.hasSize).toBe(true);
    expect(row(d, '_text')).toMatchObject({ size: 0, type: 'T', modules: [] });
    expect(row(d, 'tiny_helper')).toMatchObject({ size: 0xb, type: 't' });
    expect(row(d, 'lio_get_msglevel')).toMatchObject({ size: 0x3e, modules: ['liquidio', 'liquidio_vf'] });
    expect(row(d, 'dummy_xmit')).toMatchObject({ key: keyFromHex('ffffffffc0a01000'), modules: ['dummy'] });
  });
});

describe('parseKallmodsyms: hidden addresses, junk, empty', () => {
  it('flags all-zero addresses', () => {
    const d = parse('0000000000000000 t test_msr\t[rapl]\n0000000000000000 T perf_msr_probe\n');
    expect(d.addressesHidden).toBe(true);
    expect(d.modules[0]).toEqual(['rapl']);
    const v1 = parse('0000000000000000 0 t rapl_event_update\t[intel_rapl_perf]\n0000000000000000 0 T x\n');
    expect(v1.addressesHidden).toBe(true);
    expect(v1.hasSize).toBe(true);
    expect(parse('0000000000000000 T a\nffffffff81000000 T b\n').addressesHidden).toBe(false);
  });

  it('warns about junk lines, naming the line, and keeps the rest', () => {
    const warnings: Warning[] = [];
    const d = parse([
      'ffffffff81000000 T _text',
      'this is not a symbol line',
      'zzzzzzzzzzzzzzzz t bad_address',
      'ffffffff81000010 tt bad_type',
      'ffffffff81000020 t bad_annotation\t[unclosed',
      'ffffffff81000030 t obj_before_mod\t{x.o} [m]',
      '',
      'ffffffff81000040 t good\t[m]',
      ...['a', 'b', 'c', 'd', 'e'].map((n, i) => `ffffffff8100005${i} t ${n}`),
    ].join('\n'), warnings);
    expect(d.names).toEqual(['_text', 'good', 'a', 'b', 'c', 'd', 'e']);
    expect(warnings.map((w) => w.message.replace(/:.*/, ''))).toEqual(['line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    expect(warnings.every((w) => w.source === 'test.kallmodsyms')).toBe(true);
  });

  it('rejects a file that is mostly junk with a one-line error naming file and line', () => {
    const junk = '\x7fELF\x02\x01\x01\0\0\0garbage\nmore garbage here\nffffffff81000000 T ok\n';
    expect(() => parse(junk)).toThrow(KallmodError);
    expect(() => parse(junk)).toThrow(/^test\.kallmodsyms:1: not a \/proc\/kallmodsyms file/);
    expect(() => parseKallmodsyms(Buffer.from([0, 1, 2, 255, 10, 9, 9, 10]), 'bin')).toThrow(/^bin:1: /);
  });

  it('accepts an empty file', () => {
    const d = parse('');
    expect(d.names).toEqual([]);
    expect(d.addressesHidden).toBe(false);
  });

  it('does not crash on random bytes', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const alphabet = 'ff81 \t\n[]{}.otT0x';
    for (let round = 0; round < 50; round++) {
      let s = '';
      for (let i = 0; i < 400; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        const d = parse(s);
        expect(d.keys.length).toBe(d.names.length);
      } catch (e) {
        expect(e).toBeInstanceOf(KallmodError);
        expect((e as Error).message).not.toMatch(/\n/);
      }
    }
  });
});

// /proc/kallsyms is format C without annotations except loadable `[mod]`: a real-data check.
const kallsymsPath = k('boot-nokaslr/kallsyms.xz');

/** readSourceFile, or `xz -dc` when the install's xz binding is broken; null = skip. */
function readXz(path: string): Buffer | null {
  try {
    return readSourceFile(path);
  } catch (e) {
    if (!(e instanceof KallmodError) || !/cannot decompress/.test(e.message)) throw e;
    try {
      return execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
    } catch {
      console.warn(`kallmodsyms real-data test skipped: ${e.message.split('\n')[0]} (and no xz binary)`);
      return null;
    }
  }
}

describe('parseKallmodsyms: real /proc/kallsyms of the 6.12 guest', () => {
  it('reads all 160641 lines, loadable modules included', (ctx) => {
    const data = readXz(kallsymsPath);
    if (data === null) return ctx.skip();
    const warnings: Warning[] = [];
    const t0 = performance.now();
    const d = parseKallmodsyms(data, kallsymsPath, (w) => warnings.push(w));
    console.log(`kallmodsyms: ${d.names.length} lines in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(warnings).toEqual([]);
    expect(d.names).toHaveLength(160641);
    expect(d.hasSize).toBe(false);
    expect(d.addressesHidden).toBe(false);
    expect(row(d, '_text')).toMatchObject({ key: keyFromHex('ffffffff81000000'), type: 'T', modules: [] });
    expect(row(d, 'null_queue_rq').modules).toEqual(['null_blk']);
  });
});
