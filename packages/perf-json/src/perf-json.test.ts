/** `kallmod json` through the built CLI: the real perf JSON of fixtures/perf, and hand-written shapes. */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSourceFile } from '@kallmod/core';
import { CLI, k, ROOT as root, sourceFlags } from '../../../test/kernel-fixture.js';
import { tempDir } from '../../../test/temp-dir.js';

const KALLSYMS = join(root, 'fixtures/perf/kallsyms.xz');
const tmp = tempDir('json');

function km(args: string[], input: Buffer | string): Buffer {
  const file = join(tmp(), `in-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, input);
  return execFileSync(CLI, [...args, file], { maxBuffer: 1 << 30 });
}

/** Remove what kallmod json inserts; what is left must be the input, byte for byte. */
const INSERTED = /,\s*"modules":\s*\[[^\]]*\],\s*"builtin":\s*(?:true|false),\s*"objname":\s*(?:null|"[^"]*"),\s*"ambiguous":\s*(?:true|false)/g;

describe('real perf data convert --to-json output of this machine', () => {
  const input = readSourceFile(join(root, 'fixtures/perf/system-g.json.xz'));
  const out = km(['json', '--kallsyms', KALLSYMS], input);

  it('every byte kept: output minus the insertions is the input', () => {
    expect(Buffer.from(out.toString('latin1').replace(INSERTED, ''), 'latin1').equals(input)).toBe(true);
  });

  it('kernel callchain entries extended after their last field, in their layout; others untouched', () => {
    const a = JSON.parse(input.toString()), b = JSON.parse(out.toString());
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(b.headers).toEqual(a.headers);
    let kernel = 0;
    a.samples.forEach((s: any, i: number) => {
      expect(Object.keys(b.samples[i])).toEqual(Object.keys(s));
      s.callchain.forEach((e: any, j: number) => {
        const o = b.samples[i].callchain[j];
        if (e.dso !== '[kernel.kallsyms]') return expect(o).toEqual(e);
        kernel++;
        expect(Object.keys(o)).toEqual([...Object.keys(e), 'modules', 'builtin', 'objname', 'ambiguous']);
        expect(o).toMatchObject({ ...e, modules: [], builtin: false, objname: null, ambiguous: false });
      });
    });
    expect(kernel).toBeGreaterThan(1000);
    // on the last field's line: a transformer keeps the line count
    expect(out.toString()).toMatch(/\t{5}"dso": "\[kernel\.kallsyms\]", "modules": \[\], "builtin": false, "objname": null, "ambiguous": false\n/);
    expect(out.toString().split('\n').length).toBe(input.toString().split('\n').length);
  });

  it('--refs: one line per kernel entry, resolved by address to the symbol perf printed', () => {
    const refs = km(['json', '--refs', '--kallsyms', KALLSYMS], input).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const text = input.toString().split('\n');
    // kernel entries: a kernel dso, or only an ip in the kernel half (perf found no symbol)
    const entries = (JSON.parse(input.toString()).samples as { callchain?: { ip: string; dso?: string }[] }[]).flatMap((x) => x.callchain ?? []);
    const kernel = entries.filter((e) => (e.dso === undefined ? e.ip.startsWith('0xffff') : e.dso === '[kernel.kallsyms]'));
    expect(refs.length).toBe(kernel.length);
    for (const r of refs) {
      if (r.name !== null) expect(r.symbolName).toBe(r.name);
      expect(r.ambiguous).toBe(false);
      expect(text[r.line - 1]).toMatch(/^\s*\{\s*$/);
      expect(text[r.line]).toContain(r.address);
    }
  });
});

describe('hand-written shapes', () => {
  it('printed symbols are checked against the sources, every entry counted: silent here, a warning with figures on another kernel', () => {
    const input = readSourceFile(join(root, 'fixtures/perf/system-g.json.xz'));
    const file = join(tmp(), 'system-g.json');
    writeFileSync(file, input);
    const own = spawnSync(CLI, ['json', '--kallsyms', KALLSYMS, file], { maxBuffer: 1 << 30 });
    expect([own.status, own.stderr.toString()]).toEqual([0, '']);
    // the 6.12 fixture kernel is not the one this profile ran on: before the one policy, json said nothing
    const kernelEntries = km(['json', '--kallsyms', KALLSYMS], input).toString().match(/"ambiguous":/g)!.length;
    for (const mode of [[], ['--refs']]) {
      const other = spawnSync(CLI, ['json', ...mode, ...sourceFlags('nokaslr', { modules: false }), file], { maxBuffer: 1 << 30 });
      expect(other.status).toBe(0);
      const m = /warning: (\d+) of (\d+) printed symbols checked do not match the symbol sources/.exec(other.stderr.toString());
      expect(m, other.stderr.toString()).not.toBeNull();
      expect(Number(m![2])).toBeGreaterThanOrEqual(kernelEntries / 2);
    }
  });

  it('compact JSON, escapes, invalid UTF-8, numbers as written, split anywhere: kept', () => {
    const doc = Buffer.concat([
      Buffer.from('{"samples":[{"comm":"a\\"b\\u00e9\\/","x":1.50e+3,"callchain":' +
        '[{"ip":"0xffffffff81b954cc","symbol":"iowrite16","dso":"[kernel.kallsyms]"},{"ip":"0x1","dso":"/bin/\xff"}]}]}', 'latin1'),
    ]);
    const out = km(['json', '--kallsyms', KALLSYMS], doc).toString('latin1');
    expect(out).toBe(doc.toString('latin1')
      .replace('"dso":"[kernel.kallsyms]"}', '"dso":"[kernel.kallsyms]","modules":[],"builtin":false,"objname":null,"ambiguous":false}'));
  });

  it('an entry with only a kernel ip is resolved by it; one that resolves to nothing is left as it is', () => {
    const doc = '{"samples":[{"callchain":[{"ip":"0xffffffff81b954cc"},{"ip":"0xffffffff90000000","symbol":"no_such_fn","dso":"[kernel.kallsyms]"},' +
      '{"ip":"0x7f0000001000"}]}]}';
    const out = km(['json', '--kallsyms', KALLSYMS], doc).toString();
    expect(out).toBe(doc.replace('{"ip":"0xffffffff81b954cc"}', '{"ip":"0xffffffff81b954cc","modules":[],"builtin":false,"objname":null,"ambiguous":false}'));
    const refs = km(['json', '--refs', '--kallsyms', KALLSYMS], doc).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(refs.map((r) => r.symbolName)).toEqual(['iowrite16', null]);
  });

  it('a document larger than one read (several MiB) gives the same bytes as its pieces', () => {
    const entry = '\t\t\t\t{\n\t\t\t\t\t"ip": "0xffffffff81b954cc",\n\t\t\t\t\t"symbol": "iowrite16",\n\t\t\t\t\t"dso": "[kernel.kallsyms]"\n\t\t\t\t}';
    const sample = `\t\t{\n\t\t\t"callchain": [\n${entry},\n${entry}\n\t\t\t]\n\t\t}`;
    const doc = `{\n\t"samples": [\n${Array.from({ length: 30000 }, () => sample).join(',\n')}\n\t]\n}\n`;
    const out = km(['json', '--kallsyms', KALLSYMS], doc).toString();
    const parsed = JSON.parse(out);
    expect(parsed.samples.length).toBe(30000);
    expect(parsed.samples.every((s: any) => s.callchain.every((e: any) => e.ambiguous === false && e.modules.length === 0))).toBe(true);
    expect(out.replace(INSERTED, '')).toBe(doc);
  });
});

// ---- modules and objnames: the 6.12 kernel of fixtures/kernel-6.12 (this machine has neither) ----
describe('modules and objnames (6.12 kernel; entries SYNTHESISED from its real symbols)', () => {
  it('a loadable module, a built-in module, a duplicated name: modules, builtin, objname filled in', () => {
    const src = ['--kallsyms', k('boot-nokaslr/kallsyms.xz'), '--system-map', k('System.map.xz'), '--ranges', k('modules.builtin.ranges.xz'),
      '--linker-map', k('vmlinux.map.xz'), '--linker-map', k('vmlinux.o.map.xz')];
    const ks = readSourceFile(k('boot-nokaslr/kallsyms.xz')).toString('latin1');
    const find = (re: RegExp) => { const m = re.exec(ks)!; return { ip: `0x${(BigInt('0x' + m[1]) + 4n).toString(16)}`, symbol: m[2]!, mod: m[3] }; };
    const ext4 = find(/^([0-9a-f]{16}) [tT] (ext4_file_read_iter)$/m);
    const loadable = find(/^([0-9a-f]{16}) [tT] (\S+)\t\[(\S+)\]$/m);
    const cmask = find(/^([0-9a-f]{16}) [tT] (cmask_show)$/m);
    const entries = [ext4, loadable, cmask].map((e) => ({ ip: e.ip, symbol: e.symbol, dso: e.mod ? `[${e.mod}]` : '[kernel.kallsyms]' }));
    const doc = JSON.stringify({ samples: [{ callchain: entries }] }, null, '\t');
    const out = JSON.parse(km(['json', ...src], doc).toString());
    const [a, b, c] = out.samples[0].callchain;
    expect(a).toMatchObject({ symbol: 'ext4_file_read_iter', modules: ['ext4'], builtin: true, ambiguous: false });
    expect(a.objname).toMatch(/ext4\/file\.o$/);
    expect(b).toMatchObject({ symbol: loadable.symbol, modules: [loadable.mod], builtin: false, ambiguous: false });
    expect(c).toMatchObject({ symbol: 'cmask_show', modules: [], builtin: false, ambiguous: false });
    expect(c.objname).toMatch(/core\.o$/);
  });
});
