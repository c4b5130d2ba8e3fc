import { describe, expect, it } from 'vitest';
import { parseBuiltinRanges } from './builtin-ranges.js';
import { buildTable } from '../table/build.js';
import { parseNmList } from './nm-list.js';
import { keyFromHex } from '../address.js';
import type { Warning } from '../errors.js';

// The first lines of the real 6.12 modules.builtin.ranges (fixtures/kernel-6.12) and the
// matching kallsyms lines, shortened by hand to a few symbols.
const RANGES = `.text 00000000-00000000 = _text
.text 0000b940-0000c23e rapl
.text 008b9070-008bb109 ti_cpsw ti_cpsw_new ti_davinci_emac
.data 00000000-00000000 = _sdata
.data 00000100-00000200 rapl
`;
const KS = `ffffffff81000000 T _text
ffffffff8100b940 t rapl_pmu_event_init
ffffffff8100c23e t after_rapl
ffffffff818b9070 t cpdma_desc_pool_destroy
ffffffff818bb109 T past_cpdma
`;

describe('modules.builtin.ranges', () => {
  it('parses anchors and half-open ranges with several modules', () => {
    const s = parseBuiltinRanges(Buffer.from(RANGES), 'r');
    expect(s[0]).toMatchObject({ name: '.text', anchor: '_text', anchorOffset: 0 });
    expect(s[0]!.ranges[1]).toEqual({ start: 0x8b9070, end: 0x8bb109, modules: ['ti_cpsw', 'ti_cpsw_new', 'ti_davinci_emac'] });
  });
  it('places ranges through the anchor symbol (KASLR-proof) and keeps the end exclusive', () => {
    const w: Warning[] = [];
    const slid = KS.replace(/^ffffffff8/gm, 'ffffffffb'); // the same kernel 0x30000000 higher
    for (const ks of [KS, slid]) {
      const { table } = buildTable({
        kallsyms: parseNmList(Buffer.from(ks), 'k'), ranges: { path: 'r', sections: parseBuiltinRanges(Buffer.from(RANGES), 'r') },
      });
      const mods = (n: string) => table.resolveName({ name: n }).modules;
      expect(mods('rapl_pmu_event_init')).toEqual(['rapl']);
      expect(mods('after_rapl')).toEqual([]);
      expect(mods('cpdma_desc_pool_destroy')).toEqual(['ti_cpsw', 'ti_cpsw_new', 'ti_davinci_emac']);
      expect(mods('past_cpdma')).toEqual([]);
      const rep = buildTable({
        kallsyms: parseNmList(Buffer.from(ks), 'k'), ranges: { path: 'r', sections: parseBuiltinRanges(Buffer.from(RANGES), 'r') },
      }).report;
      w.push(...rep.warnings);
    }
    // .data's anchor _sdata is not in kallsyms (no KALLSYMS_ALL): said, not guessed
    expect(w.every((x) => /section \.data: anchor _sdata not found/.test(x.message))).toBe(true);
    expect(keyFromHex('ffffffffb100b940')).toBeGreaterThan(0);
  });
  it('a file whose anchors do not resolve: a warning per section, no modules', () => {
    const { table, report } = buildTable({
      kallsyms: parseNmList(Buffer.from('ffffffff81000000 T startup_64\nffffffff8100b940 t rapl_pmu_event_init\n'), 'k'),
      ranges: { path: 'r', sections: parseBuiltinRanges(Buffer.from(RANGES), 'r') },
    });
    expect(report.warnings.map((x) => x.message)).toContain('section .text: anchor _text not found in the symbol sources; its 2 range(s) are not used');
    expect(table.resolveName({ name: 'rapl_pmu_event_init' }).modules).toEqual([]);
  });
  it('junk: one warning with the first bad line, or an error naming the file when nothing is left', () => {
    const w: Warning[] = [];
    parseBuiltinRanges(Buffer.from(RANGES + 'garbage here\n.text zz-yy foo\n'), 'r', (x) => w.push(x));
    expect(w[0]!.message).toBe('2 malformed line(s) skipped, first at line 6');
    expect(() => parseBuiltinRanges(Buffer.from('\x00\x01binary'), 'ranges.bin')).toThrow(/^ranges.bin:1: no ranges found/);
  });
});
