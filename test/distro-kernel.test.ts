/**
 * A real distro kernel with no flags but --root: Debian's 6.12 cloud kernel as its packages
 * install it (test/setup/distro-kernel.mjs builds the tree and, with readelf, the truth).
 * The defaults must find the debug vmlinux and modules, check their build-ids, parse the DWARF
 * once into the per-kernel cache, and serve later runs from it.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync, statSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './kernel-fixture.js';

// test/.distro-kernel: the setup's link in this clone (git-ignored), else the machine-level tree
const LINKED = join(import.meta.dirname, '.distro-kernel');
const DISTRO = process.env['KALLMOD_DISTRO_TREE'] ?? (existsSync(join(LINKED, 'ready.json')) ? LINKED
  : join(process.env['KALLMOD_TEST_CACHE'] ?? join(homedir(), '.cache', 'kallmod-test'), 'distro', 'current'));
const READY = join(DISTRO, 'ready.json');
const ready = existsSync(READY);
if (!ready) console.warn(`distro-kernel tests skipped: no ${READY} (run \`node test/setup/distro-kernel.mjs\`; it needs apt-get and the network once)`);
const info = ready ? JSON.parse(readFileSync(READY, 'utf8')) as { release: string } : { release: '' };
const R = join(DISTRO, 'root');
const REL = info.release;
const VMLINUX = join(R, `usr/lib/debug/boot/vmlinux-${REL}`);

let tmp = '';
let cache = '';

function run(args: string[], input?: string, env: NodeJS.ProcessEnv = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(CLI, args, { input, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, XDG_CACHE_HOME: join(tmp, 'xdg'), ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

/** "fs/ext4/inode.c" → "fs/ext4/inode.o", as kbuild names objects (the truth's CU names are relative). */
const objectOf = (cu: string) => cu.replace(/\.[^./]+$/, '') + '.o';

function truth(file: string): string[][] {
  return readFileSync(join(DISTRO, 'truth', file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
}

/** A root of symlinks to the real tree, with some paths replaced (another boot, another build). */
function variant(name: string, replace: Record<string, string | Buffer | null>): string {
  const d = join(tmp, name);
  const link = (rel: string) => {
    const src = join(R, rel), dst = join(d, rel);
    const here = Object.keys(replace).filter((p) => p === rel || p.startsWith(rel + '/'));
    if (!here.length) { mkdirSync(join(dst, '..'), { recursive: true }); symlinkSync(src, dst); return; }
    if (here.includes(rel)) {
      const v = replace[rel]!;
      mkdirSync(join(dst, '..'), { recursive: true });
      if (v !== null) writeFileSync(dst, v);
      return;
    }
    mkdirSync(dst, { recursive: true });
    for (const e of readdirSync(src)) link(rel ? `${rel}/${e}` : e);
  };
  mkdirSync(d, { recursive: true });
  for (const e of readdirSync(R)) link(e);
  for (const [rel, v] of Object.entries(replace)) {
    if (existsSync(join(R, rel)) || v === null) continue;
    mkdirSync(join(d, rel, '..'), { recursive: true });
    writeFileSync(join(d, rel), v);
  }
  return d;
}

describe.skipIf(!ready)(`a distro kernel (Debian ${REL}) with --root and no other flag`, () => {
  const core = ready ? truth('vmlinux-text.tsv') : [];
  const mods = ready ? truth('module-text.tsv') : [];
  const queries = [...core.map((r) => r[0]!), ...mods.map((r) => r[0]!)].join('\n') + '\n';
  let first: ReturnType<typeof run>;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kallmod-distro-'));
    cache = join(tmp, 'cache');
    first = run(['lookup', '--json', '--root', R, '--cache-dir', cache], queries);
  }, 120_000);
  afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it('finds the debug vmlinux and gives its DWARF objname for >= 99.5% of text symbols, and the module of module symbols', () => {
    expect(first.code).toBe(0);
    // said once: what it does and where the result goes
    expect(first.err.match(/reading the DWARF of/g)).toHaveLength(1);
    expect(first.err).toContain(`reading the DWARF of ${VMLINUX}`);
    expect(first.err).toContain(`cached in ${cache}/`);
    type Answer = { objname: string | null; modules: string[]; builtin: boolean; name: string | null; size: number; sizeInferred: boolean };
    const out = first.out.trim().split('\n').map((l) => JSON.parse(l) as Answer);
    expect(out).toHaveLength(core.length + mods.length);
    let known = 0, right = 0;
    const wrong: string[] = [];
    core.forEach(([addr, name, cu], i) => {
      if (cu === '-') return;
      known++;
      if (out[i]!.objname === objectOf(cu!)) right++;
      else if (wrong.length < 5) wrong.push(`${addr} ${name}: ${out[i]!.objname} (truth ${cu})`);
    });
    console.log(`distro ${REL}: first run ${first.ms.toFixed(0)} ms; objnames ${right}/${known} (${(100 * right / known).toFixed(3)}%) ` +
      `of ${core.length} text symbols with a CU; wrong e.g. ${wrong.join('; ')}`);
    expect(known).toBeGreaterThan(90_000);
    // exact sizes from the vmlinux symtab (readelf's st_size), where the answer is that very symbol
    let sized = 0, sizeRight = 0;
    core.forEach(([, name, , size], i) => {
      if (out[i]!.name !== name || !(Number(size) > 0)) return;
      sized++;
      if (!out[i]!.sizeInferred && out[i]!.size === Number(size)) sizeRight++;
    });
    expect(sized).toBeGreaterThan(50_000);
    expect(sizeRight).toBe(sized);
    expect(right / known).toBeGreaterThanOrEqual(0.995);
    const modOut = out.slice(core.length);
    const badMod = mods.filter(([, , m], i) => modOut[i]!.modules.join(' ') !== m || modOut[i]!.builtin);
    expect(badMod).toEqual([]);
    // the debug .ko DWARF of the loaded modules is used too
    expect(modOut.filter((x) => x.objname !== null).length / mods.length).toBeGreaterThan(0.95);
  });

  it('serves the second run from the cache: the same answers, and `sources` says so', () => {
    const again = run(['lookup', '--json', '--root', R, '--cache-dir', cache], queries);
    expect(again.code).toBe(0);
    expect(again.err).not.toContain('reading the DWARF');
    expect(again.out).toBe(first.out);
    const s = JSON.parse(run(['sources', '--json', '--root', R, '--cache-dir', cache]).out);
    expect(s.cache).toMatchObject({ served: 'boot', keyedBy: 'build-id' });
    expect(s.kernel).toMatchObject({ release: REL, buildId: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const t = run(['lookup', '--root', R, '--cache-dir', cache, 'vfs_read']);
    const node = spawnSync(process.execPath, ['-e', '0']);
    expect(node.status).toBe(0);
    console.log(`distro ${REL}: cached lookup ${t.ms.toFixed(0)} ms ` +
      `(second run of ${queries.length >> 10} KiB of queries: ${again.ms.toFixed(0)} ms, first ${first.ms.toFixed(0)} ms)`);
    expect(t.out).toMatch(/^vfs_read\t0x[0-9a-f]+ T vfs_read\/0x[0-9a-f]+ \{read_write\.o\}  \(fs\/read_write\.o\)\n$/);
  });

  it('captures the tree into a snapshot that names the debug vmlinux without embedding its 341 MB', () => {
    const snap = join(tmp, 'tree.snap');
    const c = run(['capture', '-o', snap, '--root', R, '--cache-dir', cache]);
    expect(c.code, c.err).toBe(0);
    expect(statSync(snap).size).toBeLessThan(40e6);
    const a = run(['lookup', '--json', '--snapshot', snap, 'udf_fill_super', 'vfs_read']).out;
    expect(a).toBe(run(['lookup', '--json', '--root', R, '--cache-dir', cache, 'udf_fill_super', 'vfs_read']).out);
    expect(a).toContain('"objname":"fs/udf/super.o"');
    expect(run(['sources', '--json', '--snapshot', snap]).code).toBe(0);
  });

  it('another boot (another KASLR slide) merges its kallsyms with the cached vmlinux part, as if the DWARF were parsed again', () => {
    const delta = 0x600000n;
    const kallsyms = readFileSync(join(R, 'proc/kallsyms'), 'latin1').split('\n').map((l) => {
      const a = l.slice(0, 16);
      if (!/^ffffffff[89ab]/.test(a) || l.includes('\t[')) return l;
      return (BigInt('0x' + a) + delta).toString(16) + l.slice(16);
    }).join('\n');
    const boot2 = variant('boot2', { 'proc/kallsyms': Buffer.from(kallsyms, 'latin1') });
    const qs = core.slice(0, 20_000).map((r) => (BigInt('0x' + r[0]!) + delta).toString(16)).join('\n') + '\n';
    const s = run(['sources', '--json', '--root', boot2, '--cache-dir', cache]);
    expect(s.err).not.toContain('reading the DWARF');
    expect(JSON.parse(s.out).cache).toMatchObject({ served: 'link', misses: [expect.stringMatching(/boot\.snap: made in another boot/)] });
    const cached = run(['lookup', '--json', '--root', boot2, '--cache-dir', cache], qs);
    expect(cached.code).toBe(0);
    expect(JSON.parse(run(['sources', '--json', '--root', boot2, '--cache-dir', cache]).out).cache.served).toBe('boot');
    const fresh = run(['lookup', '--json', '--root', boot2, '--no-cache'], qs);
    expect(fresh.code).toBe(0);
    expect(cached.out).toBe(fresh.out);
    expect(cached.out).toContain('"objname":"fs/read_write.o"');
  });

  it('keeps no table of a boot whose kallsyms hides its addresses (a non-root reader)', () => {
    const zero = readFileSync(join(R, 'proc/kallsyms'), 'latin1').replace(/^[0-9a-f]{16}/gm, '0000000000000000');
    const d = variant('hidden', { 'proc/kallsyms': Buffer.from(zero, 'latin1') });
    const c = join(tmp, 'cache-hidden');
    cpSync(cache, c, { recursive: true });
    const [dir] = readdirSync(c);
    rmSync(join(c, dir!, 'boot.snap'));
    for (let i = 0; i < 2; i++) {
      const s = JSON.parse(run(['sources', '--json', '--root', d, '--cache-dir', c]).out);
      expect(s.cache).toMatchObject({ served: 'link', written: [] });
    }
    expect(readdirSync(join(c, dir!))).toEqual(['vmlinux.snap']);
  });

  it('does not serve this boot\'s table once a source file it was made from changed', () => {
    const order = `lib/modules/${REL}/modules.order`;
    const d = variant('stale', { [order]: readFileSync(join(R, order)) });
    const c = join(tmp, 'cache-stale');
    cpSync(cache, c, { recursive: true });
    expect(JSON.parse(run(['sources', '--json', '--root', d, '--cache-dir', c]).out).cache.served).toBe('link');
    expect(JSON.parse(run(['sources', '--json', '--root', d, '--cache-dir', c]).out).cache.served).toBe('boot');
    utimesSync(join(d, order), new Date(), new Date(Date.now() + 5000));
    const s = JSON.parse(run(['sources', '--json', '--root', d, '--cache-dir', c]).out);
    expect(s.cache).toMatchObject({ served: 'link', misses: [expect.stringMatching(/boot\.snap: its source files changed since/)] });
  });

  it('refuses a vmlinux and a module of another build (build-id), saying so once, and uses neither', () => {
    const notes = readFileSync(join(R, 'sys/kernel/notes'));
    const i = notes.indexOf(Buffer.from('GNU\0')) + 4;
    const other = Buffer.from(notes); other[i] = other[i]! ^ 0xff;
    const udfNote = readFileSync(join(R, 'sys/module/udf/notes/.note.gnu.build-id'));
    const otherUdf = Buffer.from(udfNote); otherUdf[udfNote.length - 1] = otherUdf[udfNote.length - 1]! ^ 0xff;
    const wrong = variant('other-build', { 'sys/kernel/notes': other, 'sys/module/udf/notes/.note.gnu.build-id': otherUdf });
    const c = join(tmp, 'cache-other');
    const r = run(['lookup', '--json', '--root', wrong, '--cache-dir', c, 'vfs_read', 'udf_fill_super']);
    expect(r.code).toBe(0);
    const lines = r.err.trim().split('\n');
    const anotherBuild = /build-id [0-9a-f]{40}, the running kernel's is [0-9a-f]{40}: another build, not used/;
    expect(lines.filter((l) => l.includes(VMLINUX.replace(R, wrong)) && anotherBuild.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /udf\.ko: not used: build-id [0-9a-f]{40}, the loaded udf has [0-9a-f]{40}/.test(l))).toHaveLength(1);
    expect(r.err).not.toContain('reading the DWARF');
    const [vfs, udf] = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(vfs).toMatchObject({ name: 'vfs_read', objname: null });
    expect(udf).toMatchObject({ name: 'udf_fill_super', modules: ['udf'], objname: null });
    expect(existsSync(c) ? readdirSync(c) : []).toEqual([]);
    const s = JSON.parse(run(['sources', '--json', '--root', wrong, '--cache-dir', c]).out);
    expect(s.skipped).toContainEqual({ path: VMLINUX.replace(R, wrong), why: expect.stringContaining('another build') });
  });

  it('--lines --snapshot: the capture keeps the build-ids the kernel said; DWARF of another build beside it is refused, once each', () => {
    const dbg = join(R, `usr/lib/debug/lib/modules/${REL}`);
    const qs = ['vfs_read+0x10', 'udf_fill_super+0x60 [udf]'];
    const lines = (snap: string) => run(['lookup', '--lines', '--json', '--snapshot', snap, '--vmlinux', VMLINUX, '--modules-dir', dbg, ...qs]);
    // the tree as it is: its snapshot, with the DWARF named beside it, gives the lines --root gives
    const good = join(tmp, 'ids.snap');
    expect(run(['capture', '-o', good, '--root', R, '--cache-dir', cache]).code).toBe(0);
    const ok = lines(good);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.err).toBe('');
    const direct = run(['lookup', '--lines', '--json', '--root', R, '--cache-dir', cache, ...qs]);
    expect(ok.out).toBe(direct.out);
    expect(ok.out.trim().split('\n').map((l) => JSON.parse(l).file)).toEqual(['fs/read_write.c', 'fs/udf/super.c']);
    // a kernel that said other build-ids when captured (labelled edge case: its notes doctored)
    const notes = readFileSync(join(R, 'sys/kernel/notes'));
    const other = Buffer.from(notes); other[notes.indexOf(Buffer.from('GNU\0')) + 4]! ^= 0xff;
    const udfNote = readFileSync(join(R, 'sys/module/udf/notes/.note.gnu.build-id'));
    const otherUdf = Buffer.from(udfNote); otherUdf[udfNote.length - 1]! ^= 0xff;
    const wrong = variant('other-build-snap', { 'sys/kernel/notes': other, 'sys/module/udf/notes/.note.gnu.build-id': otherUdf });
    const bad = join(tmp, 'other-ids.snap');
    expect(run(['capture', '-o', bad, '--root', wrong, '--no-cache']).code).toBe(0);
    const r = lines(bad);
    expect(r.code, r.err).toBe(0);
    const err = r.err.trim().split('\n');
    const said = (re: RegExp) => err.filter((l) => re.test(l));
    expect(said(/vmlinux-[^:]*: not used for --lines: build-id [0-9a-f]{40}, the kernel's is [0-9a-f]{40} \(another build\)/)).toHaveLength(1);
    expect(said(/udf\.ko: not used for --lines: build-id [0-9a-f]{40}, the loaded udf has [0-9a-f]{40} \(another build\)/)).toHaveLength(1);
    for (const o of r.out.trim().split('\n').map((l) => JSON.parse(l))) expect(o).toMatchObject({ file: null, line: null, inlined: [] });
  });

  it('without /sys/kernel/notes: the cache is keyed by release and System.map digest, the vmlinux used with a note', () => {
    const d = variant('no-notes', { 'sys/kernel/notes': null });
    const c = join(tmp, 'cache-no-notes');
    cpSync(cache, c, { recursive: true });
    const s = JSON.parse(run(['sources', '--json', '--root', d, '--cache-dir', c]).out);
    expect(s.kernel.buildId).toBeNull();
    expect(s.cache).toMatchObject({ keyedBy: 'release+digest', dir: expect.stringMatching(new RegExp(`/${REL.replace(/[.+]/g, '\\$&')}-[0-9a-f]{16}$`)) });
    // not the build-id entry: parsed again under the new key
    expect(s.cache.written).toHaveLength(2);
    expect(s.warnings).toContainEqual({ source: VMLINUX.replace(R, d), message: expect.stringMatching(/^used unverified: the kernel's build-id is unknown/) });
    expect(s.coverage.objname).toBeGreaterThan(0.9);
  });

  it('skips a vmlinux without DWARF (stripped) and says what to install; a placeholder System.map too', () => {
    // the real vmlinux's notes alone (objcopy): the kernel's build-id, no DWARF
    const stripped = join(tmp, 'stripped-vmlinux');
    const cp = spawnSync('objcopy', ['-j', '.notes', VMLINUX, stripped], { encoding: 'utf8' });
    expect(cp.status, cp.stderr).toBe(0);
    const build = `lib/modules/${REL}/build/vmlinux`;
    const d = variant('stripped', { [`usr/lib/debug/boot/vmlinux-${REL}`]: null, [build]: readFileSync(stripped) });
    const r = run(['sources', '--json', '--root', d, '--no-cache']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.skipped).toEqual([
      { path: join(d, build), why: 'stripped (no DWARF)' },
      { path: join(d, `boot/System.map-${REL}`), why: 'a placeholder, not a symbol list' },
    ]);
    const cap = Object.fromEntries(s.capabilities.map((c: { what: string }) => [c.what, c]));
    expect(cap['objnames, core kernel']).toMatchObject({ have: false, how: expect.stringContaining(`apt install linux-image-${REL}-dbg`) });
    expect(cap['objnames, modules']).toMatchObject({ have: true });
    expect(cap['built-in modules']).toMatchObject({ have: false, how: expect.stringContaining('built without CONFIG_BUILTIN_MODULE_RANGES') });
    expect(cap['addresses']).toMatchObject({ have: true });
    expect(s.coverage.objname).toBeLessThan(0.05);
    const text = run(['sources', '--root', d, '--no-cache']).out;
    expect(text).toMatch(/^  objnames, core kernel +NO +needs an unstripped vmlinux with the kernel's build-id: apt install /m);
    expect(text).toContain(`skipped:\n  ${join(d, build)}: stripped (no DWARF)\n`);
  });

  it('reads DWARF sections compressed with zlib and zstd (SHF_COMPRESSED, objcopy) and Fedora-named .ko.debug files as the plain ones', () => {
    const udf = join(R, `usr/lib/debug/lib/modules/${REL}/kernel/fs/udf/udf.ko`);
    const qs = mods.filter((m) => m[2] === 'udf').map((m) => m[0]).join('\n') + '\n';
    // and under Fedora's debuginfo name, udf.ko.debug
    const outs = [['none', 'udf.ko'], ['zlib-gabi', 'udf.ko'], ['zstd', 'udf.ko'], ['none', 'udf.ko.debug']].map(([how, file]) => {
      const d = join(tmp, `ko-${how}-${file}`);
      mkdirSync(d, { recursive: true });
      const cp = spawnSync('objcopy', [`--compress-debug-sections=${how}`, udf, join(d, file!)], { encoding: 'utf8' });
      expect(cp.status, cp.stderr).toBe(0);
      if (how !== 'none') {
        expect(spawnSync('readelf', ['-SW', join(d, file!)], { encoding: 'utf8' }).stdout).toMatch(/\.debug_info\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+\S+\s+C /);
      }
      const r = run(['lookup', '--json', '--kallsyms', join(R, 'proc/kallsyms'), '--proc-modules', join(R, 'proc/modules'), '--modules-dir', d], qs);
      expect(r.code, r.err).toBe(0);
      return r.out;
    });
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
    expect(outs[3]).toBe(outs[0]);
    expect(outs[0]).toContain('"objname":"fs/udf/super.o"');
  });

  it('rebuilds a truncated or corrupted cache entry, saying so, and gives the same answers', () => {
    const c = join(tmp, 'cache-cut');
    cpSync(cache, c, { recursive: true });
    const [dir] = readdirSync(c);
    const boot = join(c, dir!, 'boot.snap'), link = join(c, dir!, 'vmlinux.snap');
    truncateSync(boot, Math.floor(statSync(boot).size / 2));
    truncateSync(link, 1000);
    // on a terminal (script(1)): the re-parse draws its progress bar on stderr
    const q = join(tmp, 'queries.txt'), out = join(tmp, 'cut.json'), tty = join(tmp, 'tty.log');
    writeFileSync(q, queries);
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(tmp, 'xdg') };
    delete env['CI'];
    const haveScript = spawnSync('script', ['--version']).status === 0;
    const cmd = `${CLI} lookup --json --root ${R} --cache-dir ${c} < ${q} > ${out}`;
    const r = haveScript
      ? spawnSync('script', ['-qec', cmd, tty], { encoding: 'utf8', env, timeout: 120_000 })
      : spawnSync('sh', ['-c', `${cmd} 2> ${tty}`], { env });
    expect(r.status).toBe(0);
    const err = readFileSync(tty, 'latin1');
    if (!haveScript) console.warn('no script(1): the progress bar on a terminal is not checked');
    expect(err).toMatch(new RegExp(`${boot}: cache entry damaged \\(.*\\): not used, rebuilt`));
    expect(err).toMatch(new RegExp(`${link}: cache entry damaged \\(.*\\): not used, rebuilt`));
    expect(err).toContain('reading the DWARF');
    if (haveScript) expect(err).toMatch(/kallmod DWARF .*\d+% \d+\/\d+ compile units/);
    expect(readFileSync(out, 'utf8')).toBe(first.out);
    expect(JSON.parse(run(['sources', '--json', '--root', R, '--cache-dir', c]).out).cache.served).toBe('boot');
    // one flipped byte mid-file (the snapshot's checksums): reported, not used
    const b = readFileSync(boot);
    b[b.length >> 1] ^= 0x40;
    writeFileSync(boot, b);
    const f = JSON.parse(run(['sources', '--json', '--root', R, '--cache-dir', c]).out);
    expect(f.warnings).toContainEqual({ source: boot, message: expect.stringMatching(/^cache entry damaged \(.*checksum.*\): not used, rebuilt$/) });
    expect(f.cache.served).toBe('link');
    expect(JSON.parse(run(['sources', '--json', '--root', R, '--cache-dir', c]).out).cache.served).toBe('boot');
  });
});

describe('--root on a tree without the release\'s files', () => {
  it('refuses a file as --root, and --root with explicit source flags, in one line (exit 2)', () => {
    const f = join(import.meta.dirname, 'distro-kernel.test.ts');
    const a = spawnSync(CLI, ['lookup', '--root', f, 'vfs_read'], { encoding: 'utf8' });
    expect([a.status, a.stderr]).toEqual([2, `kallmod lookup: ${f}: --root takes a directory (a tree with proc/, sys/, lib/modules/...)\n`]);
    const b = spawnSync(CLI, ['lookup', '--root', tmpdir(), '--kallsyms', f, 'vfs_read'], { encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/^kallmod lookup: --root and --release choose where the running-kernel defaults come from; .*\n$/);
    // another tree's addresses never reach this machine's tracefs
    const c = spawnSync(CLI, ['resolve', '--root', tmpdir(), '--kprobe', '--apply', '--dry-run', 'vfs_read'], { encoding: 'utf8' });
    expect([c.status, c.stderr]).toEqual([2, "kallmod resolve: --apply writes into this machine's tracefs: not with --root (another tree's kernel)\n"]);
  });
  it('says the /lib/modules directory is missing (not that one file in it is), and needs a release', () => {
    const d = mkdtempSync(join(tmpdir(), 'kallmod-root-'));
    try {
      mkdirSync(join(d, 'proc/sys/kernel'), { recursive: true });
      // hand-written edge case: a root with nothing but a two-symbol kallsyms
      writeFileSync(join(d, 'proc/kallsyms'), 'ffffffff81000000 T _text\nffffffff81000100 T vfs_read\n');
      const noRel = spawnSync(CLI, ['sources', '--root', d, '--no-cache'], { encoding: 'utf8' });
      expect(noRel.status).toBe(2);
      expect(noRel.stderr).toBe(`kallmod sources: --root: cannot read ${d}/proc/sys/kernel/osrelease: give the kernel release with --release REL\n`);
      writeFileSync(join(d, 'proc/sys/kernel/osrelease'), '9.9.9-test\n');
      const r = spawnSync(CLI, ['sources', '--json', '--root', d, '--no-cache'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const s = JSON.parse(r.stdout);
      const w = s.warnings.map((x: { source: string; message: string }) => `${x.source}: ${x.message}`);
      expect(w).toContainEqual(expect.stringMatching(new RegExp(`^${d}/lib/modules/9.9.9-test: no such directory`)));
      expect(w.join('\n')).not.toContain('no modules.builtin.ranges');
      expect(s.sources.map((x: { path: string }) => x.path)).toEqual([join(d, 'proc/kallsyms')]);
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
});
