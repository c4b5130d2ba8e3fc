import { describe, expect, it } from 'vitest';
import { buildTable } from './build.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  crc32Js, decodeTable, encodeTable, readSnapshot, readSnapshotBytes, readSnapshotBytesAsync, tableFromSnapshot, TABLE_FORMAT, writeSnapshot,
} from './snapshot.js';
import { KallmodError } from '../errors.js';
import { SymbolTable } from './symbol-table.js';
import { parseNmList } from '../sources/nm-list.js';
import { keyFromHex } from '../address.js';

// hand-written: a few kallsyms lines, one loadable module, one padding symbol
const KS = `ffffffff81000000 T _text
ffffffff81000000 T startup_64
ffffffff81000060 T __pfx_init_once
ffffffff81000070 t init_once
ffffffff81000090 t init_once
ffffffff810000c0 T end_of_text
ffffffffc0010000 t init_once\t[udf]
ffffffffc0010040 t udf_fill\t[udf]
`;

describe('snapshot', () => {
  it('round-trips the table byte for byte and answers the same', () => {
    const { table } = buildTable({ kallsyms: parseNmList(Buffer.from(KS), 'k') });
    const meta = { format: TABLE_FORMAT, kallmodVersion: 't', created: 'now', sources: [], warnings: [{ source: 'k', message: 'w' }] };
    const buf = encodeTable(table, meta, [{ role: 'kallsyms', path: '/proc/kallsyms', data: Buffer.from(KS) }]);
    const dec = decodeTable(buf);
    const t2 = new SymbolTable(dec.data);
    expect(dec.meta.warnings).toEqual(meta.warnings);
    expect(dec.files[0]!.path).toBe('/proc/kallsyms');
    expect(encodeTable(t2, meta, [])).toEqual(encodeTable(table, meta, []));
    for (const q of ['ffffffff81000065', 'ffffffff81000075', 'ffffffffc0010044']) {
      expect(t2.resolveKey(keyFromHex(q))).toEqual(table.resolveKey(keyFromHex(q)));
    }
    expect(t2.resolveName({ name: 'init_once' }).candidates.length).toBe(3);
    expect(t2.resolveName({ name: 'init_once', module: 'udf' }).address).toBe('0xffffffffc0010000');
  });
  it('refuses what is not a snapshot, or a truncated one, in one line', () => {
    expect(() => decodeTable(Buffer.from('hello world, not a snapshot'), 'f')).toThrow(/^f: not a kallmod snapshot/);
    const { table } = buildTable({ kallsyms: parseNmList(Buffer.from(KS), 'k') });
    const buf = encodeTable(table, { format: TABLE_FORMAT, kallmodVersion: 't', created: '', sources: [], warnings: [] });
    expect(() => decodeTable(buf.subarray(0, buf.length - 40), 'f')).toThrow(/truncated/);
  });
  it('reads the same from a file, in parallel slices or not; the address index comes with it', async () => {
    const { table } = buildTable({ kallsyms: parseNmList(Buffer.from(KS), 'k') });
    const meta = { format: TABLE_FORMAT, kallmodVersion: 't', created: '', sources: [], warnings: [] };
    const dir = mkdtempSync(join(tmpdir(), 'kallmod-snap-'));
    try {
      const f = join(dir, 's.snap');
      writeSnapshot(f, table, meta, [{ role: 'kallsyms', path: '/proc/kallsyms', data: Buffer.from(KS) }]);
      const plain = readSnapshot(f).table;
      const bytes = await readSnapshotBytesAsync(f);
      expect(bytes.equals(readSnapshotBytes(f))).toBe(true);
      const ahead = tableFromSnapshot(bytes, f).table;
      for (const t of [plain, ahead]) {
        expect(encodeTable(t, meta)).toEqual(encodeTable(table, meta));
        expect(t.addressIndex()).toEqual(table.addressIndex());
      }
      // a truncated file, a missing one: both readers say what is wrong, in one line
      const whole = readFileSync(f);
      writeFileSync(f, whole.subarray(0, 200));
      await expect(readSnapshotBytesAsync(f)).rejects.toThrow(/truncated/);
      expect(() => readSnapshot(f)).toThrow(/truncated/);
      await expect(readSnapshotBytesAsync(join(dir, 'absent'))).rejects.toThrow(/cannot read snapshot: ENOENT/);
      expect(() => readSnapshot(join(dir, 'absent'))).toThrow(/cannot read snapshot: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a damaged snapshot', () => {
  const { table } = buildTable({ kallsyms: parseNmList(Buffer.from(KS), 'k') });
  const meta = { format: TABLE_FORMAT, kallmodVersion: 't', created: '', sources: [], warnings: [] };
  const good = encodeTable(table, meta, [{ role: 'kallsyms', path: '/proc/kallsyms', data: Buffer.from(KS) }]);
  const flip = (at: number) => { const b = Buffer.from(good); b[at]! ^= 0x40; return b; };
  const start = 12 + good.readUInt32LE(8) + 4;
  it('is refused wherever one byte flipped: header, every table blob, an embedded source file', () => {
    expect(() => decodeTable(good, 'f')).not.toThrow();
    expect(() => decodeTable(flip(20), 'f')).toThrow(KallmodError);
    expect(() => decodeTable(flip(20), 'f')).toThrow(/^f: damaged snapshot: header checksum mismatch/);
    // a byte of each stretch of the blob area (keys, sizes, names, indexes...)
    for (let at = start + 8; at < good.length; at += 37) {
      const b = flip(at);
      let why = '';
      try { decodeTable(b, 'f'); } catch (e) { why = (e as Error).message; }
      // padding between blobs carries no data; anything else must be caught
      if (why === '') expect(isPadding(good, at), `byte ${at}`).toBe(true);
      else expect(why, `byte ${at}`).toMatch(/^f: damaged snapshot: checksum mismatch/);
    }
  });
  it('refuses one of an older format by name', () => {
    const hlen = good.readUInt32LE(8);
    const old = Buffer.from(good);
    const h = old.toString('utf8', 12, 12 + hlen).replace(`"format":${TABLE_FORMAT}`, '"format":2');
    old.write(h, 12, 'utf8');
    expect(() => decodeTable(old, 'f')).toThrow(/^f: snapshot table format 2 \(made by an older kallmod\), this kallmod reads 3/);
  });
  it('computes the CRC-32 zlib does (the fallback for node < 20.15)', async () => {
    const { crc32 } = await import('node:zlib');
    for (const d of [Buffer.alloc(0), Buffer.from('123456789'), good]) expect(crc32Js(d)).toBe(crc32(d));
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

/** Is byte `at` of an encoded snapshot outside every blob (alignment padding)? */
function isPadding(buf: Buffer, at: number): boolean {
  const hlen = buf.readUInt32LE(8);
  const h = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as { blobs: { offset: number; length: number }[] };
  const start = (12 + hlen + 4 + 7) & ~7;
  if (at < start) return at >= 12 + hlen + 4;
  return !h.blobs.some((r) => at >= start + r.offset && at < start + r.offset + r.length);
}

describe('table from kallsyms alone', () => {
  const { table } = buildTable({ kallsyms: parseNmList(Buffer.from(KS), 'k') });
  it('infers kallsyms sizes per block (core kernel, each module)', () => {
    const r = table.resolveKey(keyFromHex('ffffffff81000075'));
    expect(r.name).toBe('init_once');
    expect(r.kallsymsSize).toBe(0x20);
    expect(r.sizeInferred).toBe(true);
    expect(table.resolveKey(keyFromHex('ffffffffc0010000')).kallsymsSize).toBe(0x40);
  });
  it('prefers the first alias kallsyms lists, and knows padding', () => {
    expect(table.resolveKey(keyFromHex('ffffffff81000000')).name).toBe('_text');
    expect(table.resolveKey(keyFromHex('ffffffff81000068')).paddingOf).toBe('init_once');
  });
  it('marks a loadable module as not built in', () => {
    const r = table.resolveName({ name: 'udf_fill' });
    expect(r.modules).toEqual(['udf']);
    expect(r.builtin).toBe(false);
  });
  it('shows {obj} only when name+module is shared, and says ambiguous otherwise', () => {
    const i = table.lookupKey(keyFromHex('ffffffffc0010000'));
    expect(table.annotation(i, 'ambiguous')).toBe(' [udf]');
    expect(table.annotationOf(table.resolveName({ name: 'init_once' }), 'ambiguous')).toBe(' {?[udf]|+2 unknown}'); // objnames unknown (kallsyms alone)
  });
});
