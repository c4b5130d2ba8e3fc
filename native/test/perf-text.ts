/**
 * Seeded random perf-script-like text over a real kernel's table, for the tests that compare
 * the native path with the TS one (perf-rewrite.test.ts, report-memo.test.ts).
 */
import { keyToPaddedHex, type SymbolTable } from '@kallmod/core';

/** Random perf script text over `table`: every shape scan.ts handles, and near misses. */
export function perfText(table: SymbolTable, seed: number, lines: number): Buffer {
  let s = seed >>> 0;
  const rnd = (n: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.floor((s / 2 ** 32) * n); };
  const pick = <T>(a: readonly T[]) => a[rnd(a.length)]!;
  const d = table.d;
  const n = table.length;
  const text: number[] = [];
  for (let i = 0; i < n; i++) if (table.isText(i)) text.push(i);
  const hot = Array.from({ length: 64 }, () => pick(text));
  const sym = () => (rnd(4) ? pick(hot) : pick(text));
  const hex = (k: number) => keyToPaddedHex(k);
  const size = (i: number) => Math.max(1, d.ksizes[i]! || 1);
  const addrIn = (i: number) => d.keys[i]! + rnd(size(i));
  const off = (a: number, i: number) => `+0x${(a - d.keys[i]!).toString(16)}`;
  const dso = () => pick(['([kernel.kallsyms])', '([guest.kernel.kallsyms])', '(/usr/lib/debug/boot/vmlinux-6.12)', '([ext4])',
    '(/lib/modules/6.12/kernel/fs/ext4/ext4.ko)', '([unknown])', '(inlined)', '([vsyscall])']);
  const ind = () => pick(['\t', '\t', '\t', '        ', '\t  ', ' ']);
  const out: string[] = [];
  while (out.length < lines) {
    const i = sym();
    const a = addrIn(i);
    const name = table.name(i);
    const other = table.name(pick(text));
    const shape = rnd(36);
    let l: string;
    switch (shape) {
      case 0: l = `${pick(['dd', 'swapper', 'kworker/1:1-vir', 'perf-exec'])} ${rnd(30000)} [00${rnd(2)}]  ` +
        `${rnd(2000)}.${100000 + rnd(899999)}:     250000 cpu-clock:ppp: `; break;
      case 1: l = ''; break;
      case 2: l = `${ind()}${(0x7f0000000000 + rnd(2 ** 30)).toString(16).padStart(16, ' ')} ` +
        `${other}+0x${rnd(999).toString(16)} (/usr/lib/x86_64-linux-gnu/libc.so.6)`; break;
      case 3: l = `${ind()}${hex(a)} [unknown] ([unknown])`; break;
      case 4: l = `${ind()}${pick(['386c616e6f697461', 'ffffffffffffffff', 'ffff000000000000', '0000000000000000', hex(a)])} [unknown] ([unknown])`; break;
      case 5: l = `${ind()}${hex(a)}`; break;
      case 6: l = `${ind()}${hex(a)} ${name}`; break;
      case 7: l = `${ind()}${hex(a)} ${other}${off(a, i)} ([kernel.kallsyms])`; break; // printed name disagrees
      case 8: l = `${ind()}${hex(d.keys[i]! + size(i))} ${name}${off(d.keys[i]! + size(i), i)} ([kernel.kallsyms])`; break; // return address past the end
      case 9: l = `${ind()}${hex(a)} ${name}${off(a, i)} ${dso()}`; break;
      case 10: l = `${pick(['perf', 'a'])} ${rnd(99)} [000] 1.5: 1 cycles:  ${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 11: l = `0x${hex(a)}/0x${hex(addrIn(sym()))}/P/-/-/0  0x7f12a0b1c2d3/0x${hex(a)}/M/-/-/3`; break;
      case 12: l = `${name}${off(a, i)}/${other}+0x5/P/-/-/0 ${name}+0x1 ([kernel.kallsyms])/x+0x2 ([kernel.kallsyms])/P/-/-/0`; break;
      case 13: l = `${ind()}${hex(a).toUpperCase()} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 14: l = `${ind()}${hex(a).slice(1)} ${name}${off(a, i)} ([kernel.kallsyms])`; break; // 15 digits
      case 15: l = `${ind()}${hex(a)} ${name}+0xzz ([kernel.kallsyms])`; break;
      case 16: l = `${ind()}${hex(a)} ${name}+0x ([kernel.kallsyms])`; break;
      case 17: l = `${ind()}${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms]) trailing`; break;
      case 18: l = `${ind()}${hex(a)}  ${name}${off(a, i)} ([kernel.kallsyms])`; break; // two spaces
      case 19: l = `${ind()}${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms]`; break; // unclosed
      case 20: l = `${ind()}${hex(a)}g ${name} ([kernel.kallsyms])`; break;
      case 21: l = `${ind()}${hex(a)} ${name}+0x1+0x2 ([kernel.kallsyms])`; break;
      case 22: l = `comm 1 [000] 2.0: ffff in a header ${'/'.repeat(rnd(6))}`; break;
      case 23: l = `${ind()}${hex(a)} ${name}${off(a, i)} (inlined)`; break;
      case 24: l = `${pick(['   ', '\t', ' '])}perf-exec  9317/9317  [001]   749.01: 250000 cpu-clock:ppp:  ` +
        `${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 25: l = `${pick(['   ', '\t'])}readelf 7466/7466 [000] 749.0: 250000 cpu-clock:ppp:      55d4f0af7fc7 [unknown] (/usr/bin/readelf)`; break;
      case 26: l = `${ind()}${pick(['ffff', 'fff', 'abc', 'Ffff'])}${hex(a).slice(4, 12)} x`; break;
      // right-aligned headers whose comm reads as hex, " 0x" brstack lines, user frames with "ffff"
      case 27: l = `${pick(['             cat', '      dd', '  bash', ' 0'])}  1234 [000]   1.5:  250000 cycles:  ` +
        `${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`; break;
      case 28: l = ` 0x${hex(a)}/0x${hex(addrIn(sym()))}/P/-/-/0  ${name}${off(a, i)}/${other}+0x5/P/-/-/0`; break;
      case 29: l = `${ind()}    7fffffffe${rnd(4096).toString(16).padStart(3, '0')} user_fn+0x5 (/lib/x.so)`; break;
      case 31: l = `${ind()}${hex(a)} ${dso()}`; break; // -F ip,dso
      case 30: l = `${ind()}${pick(['ABC', 'dd', 'Dd', '7f00', 'cafe'])} ${pick(['123', '1/2', '12/', 'x', ''])} ${pick(['[000] 1.0: 1 cycles: ', ''])}` +
        `${hex(a)} ${pick([name + off(a, i), '[unknown]'])} ([kernel.kallsyms]) ${pick(['', '0x' + hex(a) + '/0x' + hex(a) + '/P/-/-/0'])}`; break;
      default: l = `${ind()}${hex(a)} ${name}${off(a, i)} ([kernel.kallsyms])`;
    }
    if (rnd(40) === 0) l += '\r';
    if (rnd(200) === 0) l += '\u00e9\u00ff'; // non-ASCII bytes pass through
    out.push(l);
  }
  let t = out.join('\n') + (rnd(3) ? '\n' : '');
  if (rnd(10) === 0) t = t.replace(/\n/g, '\r\n');
  return Buffer.from(t, 'utf8');
}
