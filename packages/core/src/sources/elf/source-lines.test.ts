/**
 * Source lines and inline frames of real gcc output (DWARF 4 and 5, plain and zlib compressed
 * (SHF_COMPRESSED and .zdebug; this gcc and binutils write no zstd: elf tests read zstd .ko),
 * linked and relocatable) against binutils `addr2line -fi` at every byte of the program's
 * functions (file:line and discriminator of every frame): a C file with static inline functions nested three deep, a cold split
 * (.text.unlikely: DW_AT_ranges), a function in another section.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyToHex } from '../../address.js';
import { openElf } from './index.js';
import { SourceLines, type SourceFrame } from './source-lines.js';

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE = which('gcc') && which('addr2line');
if (!HAVE) console.log('skipping source-line tests of gcc output: gcc or addr2line (binutils) not found in PATH');

const C = `
#include <stdlib.h>
volatile int sink;
static inline __attribute__((always_inline)) int leaf(int x) { sink = x; return x * 7 + sink; }
static inline __attribute__((always_inline)) int middle(int x) {
  int r = leaf(x + 1);
  if (r > 100) r -= leaf(r);
  return r;
}
static inline __attribute__((always_inline)) int outer(int x) { return middle(x) + middle(x * 2); }
__attribute__((noinline)) int work(int n) {
  int s = 0;
  for (int i = 0; i < n; i++) s += outer(i);
  if (__builtin_expect(n > 1000000, 0)) { sink = s; abort(); }
  return s;
}
__attribute__((noinline, section(".text.other"))) int other(int x) { return middle(x) ^ 5; }
int main(int argc, char **argv) { (void)argv; return work(argc) + other(argc); }
`;

/** addr2line -a -fi output: per address, its [function, file:line (discriminator N)] pairs. */
function addr2line(file: string, addrs: string[], extra: string[] = []): string[][] {
  const r = spawnSync('addr2line', ['-a', '-f', '-i', ...extra, '-e', file], { input: addrs.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
  const out: string[][] = [];
  let cur: string[] = [];
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^0x[0-9a-f]+$/.test(l)) { cur = []; out.push(cur); continue; }
    if (l && lines[i + 1] !== undefined && !/^0x[0-9a-f]+$/.test(l)) {
      cur.push(`${l} ${lines[i + 1]!.replace(/:\?$/, ':0')}`);
      i++;
    }
  }
  return out;
}

describe.skipIf(!HAVE)('source lines of gcc output vs addr2line -fi', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kallmod-lines-'));
    writeFileSync(join(dir, 'prog.c'), C);
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const variants: [string, string[]][] = [
    ['dwarf-4', ['-gdwarf-4']],
    ['dwarf-5', ['-gdwarf-5']],
    ['dwarf-5, zlib-compressed sections', ['-gdwarf-5', '-gz=zlib']],
    ['dwarf-4, .zdebug sections (zlib-gnu)', ['-gdwarf-4', '-gz=zlib-gnu']],
  ];
  for (const [label, flags] of variants) {
    for (const rel of [false, true]) {
      it(`${label}, ${rel ? 'relocatable object (.o, as a .ko)' : 'linked executable'}: every byte of the functions`, (ctx) => {
        const out = join(dir, `p-${label.replace(/\W+/g, '_')}${rel ? '.o' : ''}`);
        const cc = spawnSync('gcc', ['-O2', ...flags, ...(rel ? ['-c'] : []), '-o', out, 'prog.c'], { cwd: dir, encoding: 'utf8' });
        if (cc.status !== 0 && /-gz/.test(cc.stderr)) {
          console.log(`skipped ${label}: this gcc/ld cannot write it (${cc.stderr.split('\n')[0]})`);
          ctx.skip();
        }
        expect(cc.status, cc.stderr).toBe(0);
        const o = openElf(out);
        // work.cold: the cold split, whose rows have discriminators (gcc 12: `if (...) { sink = s; abort(); }`)
        const funcs = o.symbols().filter((s) => s.type === 'func' && s.size > 0 && ['work', 'work.cold', 'other', 'main'].includes(s.name));
        o.close();
        expect(funcs.length).toBe(4);
        const sl = SourceLines.open(out);
        let compared = 0, inlined = 0, discriminated = 0;
        for (const f of funcs) {
          const addrs: number[] = [];
          for (let a = f.value; a < f.value + f.size; a++) addrs.push(a);
          const hex = addrs.map((a) => (rel ? '0x' + a.toString(16) : keyToHex(a)));
          const ref = addr2line(out, hex, rel ? ['-j', f.section!] : []);
          expect(ref.length).toBe(addrs.length);
          const sec = rel ? sl.sectionIndex(f.section!) : -1;
          for (let i = 0; i < addrs.length; i++) {
            const fr = sl.frames(addrs[i]!, sec);
            // the address's row's discriminator (the innermost frame's), after every line as binutils prints it
            const d = fr[0]?.discriminator ? ` (discriminator ${fr[0].discriminator})` : '';
            if (d) discriminated++;
            expect(fr.slice(1).every((x) => x.discriminator === 0)).toBe(true);
            const path = (x: SourceFrame) => (x.file ? (x.file.startsWith('/') ? x.file : join(dir, x.file)) : '??');
            const mine = fr.map((x) => `${x.name ?? '??'} ${path(x)}:${x.line}${x.line ? d : ''}`);
            const want = ref[i]!.map((x) => x.replace(/ prog\.c:/, ` ${join(dir, 'prog.c')}:`));
            expect(mine, `${f.name}+0x${(addrs[i]! - f.value).toString(16)}`).toEqual(want);
            compared++;
            if (fr.length > 1) inlined++;
          }
        }
        sl.close();
        expect(compared).toBeGreaterThan(100);
        expect(inlined, 'addresses inside inlined code').toBeGreaterThan(20);
        expect(discriminated, 'addresses whose line row has a discriminator').toBeGreaterThan(5);
      });
    }
  }

  it('an address no unit covers has no frames; a file without DWARF is refused in one line', () => {
    const out = join(dir, 'stripped');
    execFileSync('gcc', ['-O2', '-o', out, 'prog.c'], { cwd: dir });
    expect(() => SourceLines.open(out)).toThrow(/stripped|no DWARF|\.debug_line/);
    const dbg = join(dir, 'dbg');
    execFileSync('gcc', ['-O2', '-g', '-o', dbg, 'prog.c'], { cwd: dir });
    const sl = SourceLines.open(dbg);
    expect(sl.frames(0x10)).toEqual([]);
    sl.close();
  });
});
