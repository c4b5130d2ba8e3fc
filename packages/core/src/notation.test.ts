import { describe, expect, it } from 'vitest';
import { formatAmbiguous, formatTriplet, parseTriplet } from './notation.js';

describe('notation (follows /proc/kallmodsyms)', () => {
  it('prints modules and objnames as kallmodsyms does', () => {
    expect(formatTriplet([], null)).toBe('');
    expect(formatTriplet(['ext4'], null)).toBe(' [ext4]');
    expect(formatTriplet(['ti_cpsw', 'ti_cpsw_new'], 'davinci_cpdma.o')).toBe(' [ti_cpsw] [ti_cpsw_new] {davinci_cpdma.o}');
    expect(formatTriplet([], 'lib/sort.o')).toBe(' {lib/sort.o}');
  });
  it('marks ambiguity with every candidate, capped', () => {
    expect(formatAmbiguous([{ modules: [], objnameShort: 'a.o' }, { modules: ['udf'], objnameShort: 'super.o' }, { modules: [], objnameShort: null }]))
      .toBe(' {?a.o|[udf]super.o|+1 unknown}');
  });
  it('counts candidates it cannot spell instead of printing {??|?}', () => {
    const none = { modules: [], objnameShort: null };
    expect(formatAmbiguous([none, none])).toBe(' {?2 candidates}');
    expect(formatAmbiguous([none, { modules: ['udf'], objnameShort: null }, none])).toBe(' {?[udf]|+2 unknown}');
    const many = Array.from({ length: 11 }, (_, i) => ({ modules: [], objnameShort: `o${i}.o` }));
    expect(formatAmbiguous(many)).toMatch(/\|\+3\}$/);
  });
  it('parses the notation back for queries', () => {
    expect(parseTriplet('init_once [udf] {super.o}')).toEqual({ name: 'init_once', offset: null, size: null, modules: ['udf'], objname: 'super.o' });
    expect(parseTriplet('type_show')).toEqual({ name: 'type_show', offset: null, size: null, modules: null, objname: null });
    expect(parseTriplet('f+0x10 [a] [b]')).toEqual({ name: 'f', offset: 16, size: null, modules: ['a', 'b'], objname: null });
    // the func+off/size form kernel logs print
    expect(parseTriplet('load_elf_binary+0x10/0x1a10')).toEqual({ name: 'load_elf_binary', offset: 16, size: 0x1a10, modules: null, objname: null });
    expect(parseTriplet('f {')).toBeNull();
  });
});
