import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { keyFromHex } from '../../address.js';
import { openElf, openElfAny, openElfBuffer, cuToObject, type CuRange, type ElfObject } from './index.js';

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const HAVE_GCC = which('gcc');
const HAVE_OBJCOPY = which('objcopy');
if (!HAVE_GCC) console.log('skipping gcc-compiled ELF/DWARF tests: gcc not found in PATH');
if (HAVE_GCC && !HAVE_OBJCOPY) console.log('skipping .debug_aranges-removal tests: objcopy not found in PATH');

const A_C = `
static __attribute__((noinline)) int helper_a(int x) { return x * 3 + 1; }
__attribute__((noinline, cold, section(".text.unlikely"))) int a_cold(int x) { return x - 7; }
__attribute__((noinline, section(".text.other"))) int a_other(int x) { return helper_a(x) ^ 5; }
int a_main(int x) { return helper_a(x) + a_cold(x) + a_other(x); }
`;
const B_C = `
int b_value = 3;
int b_func(int y) { return y * b_value; }
`;

/** CU containing (section, off): linear scan (the test does not trust the reader's sort). */
function cuAt(ranges: CuRange[], section: string | null, off: number): string | null {
  const hits = ranges.filter((r) => r.section === section && r.start <= off && off < r.end);
  expect(hits.length).toBeLessThanOrEqual(1);
  return hits[0]?.cu ?? null;
}

/** Every function symbol lies in the CU named after its prefix (a_* / helper_a → src/a.c, b_* → src/b.c). */
function checkFuncs(o: ElfObject): number {
  const ranges = o.cuRanges();
  let n = 0;
  for (const s of o.symbols()) {
    if (s.type !== 'func') continue;
    const want = s.name.startsWith('b_') ? 'src/b.c' : s.name.startsWith('a_') || s.name === 'helper_a' ? 'src/a.c' : null;
    if (!want) continue;
    expect(cuAt(ranges, o.kind === 'rel' ? s.section : null, s.value), `${s.name} in ${s.section}`).toBe(want);
    n++;
  }
  return n;
}

describe.skipIf(!HAVE_GCC)('gcc-compiled objects', () => {
  let dir = '';
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kallmod-elf-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/a.c'), A_C);
    writeFileSync(join(dir, 'src/b.c'), B_C);
    for (const v of ['4', '5']) {
      for (const f of ['a', 'b']) run('gcc', ['-c', '-O1', `-gdwarf-${v}`, '-o', `${f}${v}.o`, `src/${f}.c`]);
      run('gcc', ['-nostdlib', '-static', '-no-pie', '-Wl,-e,a_main', '-o', `prog${v}`, `a${v}.o`, `b${v}.o`]);
      run('gcc', ['-nostdlib', '-r', '-o', `ab${v}.o`, `a${v}.o`, `b${v}.o`]);
      if (HAVE_OBJCOPY) {
        for (const f of [`a${v}.o`, `ab${v}.o`, `prog${v}`]) {
          run('objcopy', ['--remove-section=.debug_aranges', '--remove-section=.rela.debug_aranges', f, `noar-${f}`]);
        }
      }
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const v of ['4', '5']) {
    describe(`DWARF ${v}`, () => {
      it('ET_REL with three code sections: CU ranges per section, relocated', () => {
        const o = openElf(join(dir, `a${v}.o`));
        expect(o.kind).toBe('rel');
        const ranges = o.cuRanges();
        expect(new Set(ranges.map((r) => r.section))).toEqual(new Set(['.text', '.text.unlikely', '.text.other']));
        expect(ranges.every((r) => r.cu === 'src/a.c' && r.compDir === dir)).toBe(true);
        expect(cuToObject(ranges[0]!.cu, ranges[0]!.compDir)).toBe('src/a.o');
        expect(checkFuncs(o)).toBe(4);
        const file = o.symbols().find((s) => s.name === 'helper_a')!;
        expect(file.file).toBe('a.c');
        expect(file.bind).toBe('local');
        expect(o.symbols().find((s) => s.name === 'a_main')!.file).toBeNull();
        o.close();
      });

      it('ld -r object with two CUs (like a .ko)', () => {
        const o = openElf(join(dir, `ab${v}.o`));
        expect(new Set(o.cuRanges().map((r) => r.cu))).toEqual(new Set(['src/a.c', 'src/b.c']));
        expect(checkFuncs(o)).toBe(5);
        o.close();
      });

      it('ET_EXEC: ranges are address keys', () => {
        const o = openElf(join(dir, `prog${v}`));
        expect(o.kind).toBe('exec');
        const ranges = o.cuRanges();
        expect(ranges.every((r) => r.section === null)).toBe(true);
        for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1]!.start).toBeLessThanOrEqual(ranges[i]!.start);
        expect(checkFuncs(o)).toBe(5);
        // symbol values agree with nm
        const nm = execFileSync('nm', [join(dir, `prog${v}`)], { encoding: 'utf8' });
        const line = nm.split('\n').find((l) => l.endsWith(' a_main'))!;
        expect(o.symbols().find((s) => s.name === 'a_main')!.value).toBe(keyFromHex(line.split(' ')[0]!));
        const text = o.sections.find((s) => s.name === '.text')!;
        expect(text.addr).toBeGreaterThan(0);
        o.close();
      });

      it.skipIf(!HAVE_OBJCOPY)('without .debug_aranges: DW_AT_ranges / low_pc+high_pc fallback gives the same ranges', () => {
        for (const f of [`a${v}.o`, `ab${v}.o`, `prog${v}`]) {
          const o1 = openElf(join(dir, f));
          const o2 = openElf(join(dir, `noar-${f}`));
          expect(o2.sections.some((s) => s.name === '.debug_aranges')).toBe(false);
          expect(o2.cuRanges().length).toBeGreaterThan(0);
          expect(o2.cuRanges(), f).toEqual(o1.cuRanges());
          o1.close();
          o2.close();
        }
      });

      it('compressed debug sections (gcc -gz=zlib)', (ctx) => {
        try {
          run('gcc', ['-c', '-O1', `-gdwarf-${v}`, '-gz=zlib', '-o', `z${v}.o`, 'src/a.c']);
        } catch (e) {
          console.log(`skipping: gcc -gz=zlib failed: ${(e as Error).message.split('\n')[0]}`);
          ctx.skip();
          return;
        }
        const o = openElf(join(dir, `z${v}.o`));
        const info = o.sections.find((s) => s.name === '.debug_info')!;
        if ((info.flags & 0x800) === 0) {
          console.log('skipping: toolchain did not produce SHF_COMPRESSED sections');
          ctx.skip();
          return;
        }
        const plain = openElf(join(dir, `a${v}.o`));
        expect(o.cuRanges()).toEqual(plain.cuRanges().map((r) => ({ ...r })));
        o.close();
        plain.close();
      });

      it.skipIf(!HAVE_OBJCOPY)('-gsplit-dwarf skeleton unit: rnglists via .debug_addr (addrx, relocated)', (ctx) => {
        try {
          run('gcc', ['-c', '-O1', `-gdwarf-${v}`, '-gsplit-dwarf', '-o', `sp${v}.o`, 'src/a.c']);
          run('objcopy', ['--remove-section=.debug_aranges', '--remove-section=.rela.debug_aranges', `sp${v}.o`, `noar-sp${v}.o`]);
        } catch (e) {
          console.log(`skipping: gcc -gsplit-dwarf failed: ${(e as Error).message.split('\n')[0]}`);
          ctx.skip();
          return;
        }
        const o1 = openElf(join(dir, `sp${v}.o`));
        const o2 = openElf(join(dir, `noar-sp${v}.o`));
        const r1 = o1.cuRanges();
        expect(new Set(r1.map((r) => r.section))).toEqual(new Set(['.text', '.text.unlikely', '.text.other']));
        expect(r1.every((r) => r.compDir === dir)).toBe(true);
        expect(o2.cuRanges()).toEqual(r1);
        o1.close();
        o2.close();
      });

      it('openElfAny / openElfBuffer on gzip-compressed content', () => {
        const raw = readFileSync(join(dir, `ab${v}.o`));
        writeFileSync(join(dir, `ab${v}.o.gz`), gzipSync(raw));
        const a = openElfAny(join(dir, `ab${v}.o.gz`));
        const b = openElfBuffer(raw, 'ab.o');
        expect(a.cuRanges()).toEqual(b.cuRanges());
        expect(a.symbols()).toEqual(b.symbols());
        expect(a.path).toBe(join(dir, `ab${v}.o.gz`));
      });
    });
  }
});
