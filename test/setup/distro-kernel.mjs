#!/usr/bin/env node
/**
 * A real distro kernel as a root tree, for test/distro-kernel.test.ts: Debian's 6.12 cloud
 * kernel (`linux-image-6.12.N+deb12-cloud-amd64-dbg` and `-unsigned`), unpacked where the
 * packages install it (DIR/usr/lib/debug/boot/vmlinux-REL with DWARF, DIR/usr/lib/debug/lib/
 * modules/REL/kernel/..., DIR/lib/modules/REL/modules.*, DIR/boot/config-REL, Debian's one-line
 * placeholder DIR/boot/System.map-REL), plus what a booted machine would add: DIR/proc/kallsyms
 * made from the real System.map at a KASLR slide, with [mod] lines for a few loadable modules
 * (their real .ko symtabs) placed at module addresses that DIR/proc/modules and
 * DIR/sys/module/M/sections agree with, DIR/sys/kernel/notes and DIR/sys/module/M/notes holding
 * the real build-id notes, DIR/proc/sys/kernel/osrelease, DIR/etc/os-release.
 * Truth, computed with binutils (readelf), not with kallmod: truth/vmlinux-text.tsv (each text
 * symbol's DWARF compile unit from .debug_aranges) and truth/module-text.tsv.
 *
 * Everything lives in a machine-level cache, $KALLMOD_TEST_CACHE (default ~/.cache/kallmod-test):
 * debs/ (the downloads, 352 MB, kept so that CI does not download them again) and
 * distro/REL/ (the tree, ~360 MB); distro/current points at the one the tests use, and so does
 * test/.distro-kernel in the clone (git-ignored).
 * Offline or without apt-get: says why and exits 0 (the tests then skip, saying why).
 * Usage: node test/setup/distro-kernel.mjs [--force]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SETUP_VERSION = 3;
const CACHE = process.env.KALLMOD_TEST_CACHE || join(homedir(), '.cache', 'kallmod-test');
const DEBS = join(CACHE, 'debs');
const DISTRO = join(CACHE, 'distro');
const CURRENT = join(DISTRO, 'current');
/** KASLR slide of the made-up boot (2 MiB aligned, as x86-64 KASLR) and the module area's start. */
const SLIDE = 0x2b400000n;
const MODULE_AREA = 0xffffffffc0a00000n;
/** The loadable modules "loaded" in that boot: their debug .ko files are extracted. */
const LOADED = ['fat', 'vfat', 'isofs', 'udf', 'virtio_net'];
const KO_PATHS = {
  fat: 'kernel/fs/fat/fat.ko', vfat: 'kernel/fs/fat/vfat.ko', isofs: 'kernel/fs/isofs/isofs.ko', udf: 'kernel/fs/udf/udf.ko',
  virtio_net: 'kernel/drivers/net/virtio_net.ko',
};

const log = (m) => process.stderr.write(`distro-kernel: ${m}\n`);
const t0 = Date.now();
const secs = (t) => ((Date.now() - t) / 1000).toFixed(1);

function ready() {
  try { return JSON.parse(readFileSync(join(CURRENT, 'ready.json'), 'utf8')).version === SETUP_VERSION; } catch { return false; }
}

function debPair() {
  // a pair already downloaded first: CI must not download 352 MB each run
  const have = existsSync(DEBS) ? readdirSync(DEBS) : [];
  const ver = (f) => f.match(/^linux-image-(6\.12\.\d+\+deb12-cloud-amd64)-dbg_(.+)_amd64\.deb$/);
  const cached = have.map(ver).filter(Boolean).sort((a, b) => cmpVer(b[1], a[1]));
  for (const m of cached) {
    const u = have.find((f) => f.startsWith(`linux-image-${m[1]}-unsigned_${m[2]}_`));
    if (u) return { rel: m[1], dbg: join(DEBS, m[0]), unsigned: join(DEBS, u) };
  }
  const search = () => spawnSync('apt-cache', ['search', '--names-only', '^linux-image-6\\.12\\.[0-9]+\\+deb12-cloud-amd64-dbg$'], { encoding: 'utf8' });
  const releases = (r) => [...r.stdout.matchAll(/^linux-image-(6\.12\.\d+\+deb12-cloud-amd64)-dbg /gm)].map((m) => m[1]).sort(cmpVer).reverse();
  let found = search();
  if (found.status !== 0) return { why: `apt-cache not usable: ${found.error?.message ?? found.stderr.trim()}` };
  let rels = releases(found);
  // a fresh machine's package lists predate bookworm-security's 6.12 kernels: refresh them once
  if (!rels.length && process.getuid?.() === 0) {
    const t = Date.now();
    const up = spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
    log(`apt-get update: ${up.status === 0 ? `done in ${secs(t)} s` : `failed (${(up.stderr || '').trim().split('\n').pop()})`}`);
    found = search();
    if (found.status === 0) rels = releases(found);
  }
  if (!rels.length) return { why: 'apt-cache knows no linux-image-6.12.*+deb12-cloud-amd64-dbg (no Debian bookworm-security source?)' };
  mkdirSync(DEBS, { recursive: true });
  for (const rel of rels.slice(0, 2)) {
    const t = Date.now();
    const dl = spawnSync('apt-get', ['download', '-q', `linux-image-${rel}-dbg`, `linux-image-${rel}-unsigned`], { cwd: DEBS, encoding: 'utf8' });
    const got = readdirSync(DEBS);
    const dbg = got.find((f) => f.startsWith(`linux-image-${rel}-dbg_`) && f.endsWith('.deb'));
    const uns = got.find((f) => f.startsWith(`linux-image-${rel}-unsigned_`) && f.endsWith('.deb'));
    if (dl.status === 0 && dbg && uns) { log(`downloaded ${rel} in ${secs(t)} s`); return { rel, dbg: join(DEBS, dbg), unsigned: join(DEBS, uns) }; }
    log(`apt-get download ${rel} failed: ${(dl.stderr || '').trim().split('\n').pop()}`);
  }
  return { why: 'apt-get download failed (offline?)' };
}

function cmpVer(a, b) {
  const pa = a.split(/[.+~-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x)), pb = b.split(/[.+~-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    return typeof pa[i] === 'number' && typeof pb[i] === 'number' ? pa[i] - pb[i] : String(pa[i]) < String(pb[i]) ? -1 : 1;
  }
  return 0;
}

/** dpkg-deb --fsys-tarfile | tar -x of the given paths (globs) only. */
function extract(deb, dir, paths) {
  const r = spawnSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards ${paths.map((p) => `'${p}'`).join(' ')}`, 'sh', deb, dir],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`extracting ${deb}: ${r.stderr.trim()}`);
}

const readelf = (...args) => execFileSync('readelf', args, { encoding: 'latin1', maxBuffer: 1 << 30 });
const hex = (n) => n.toString(16).padStart(16, '0');

/** Section headers: index → { name, type, addr, off, size, flags, align }. */
function sections(file) {
  const out = new Map();
  for (const l of readelf('-SW', file).split('\n')) {
    const m = l.match(/^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+(\d+)/);
    if (m) {
      out.set(Number(m[1]), {
        name: m[2], type: m[3], addr: BigInt('0x' + m[4]), off: parseInt(m[5], 16), size: parseInt(m[6], 16), flags: m[7], align: BigInt(m[8]),
      });
    }
  }
  return out;
}

/** The raw bytes of a section. */
function sectionBytes(file, s) {
  const b = readFileSync(file);
  return b.subarray(s.off, s.off + s.size);
}

function symbols(file) {
  const out = [];
  for (const l of readelf('-sW', file).split('\n')) {
    // readelf prints sizes over 99999 in hex
    const m = l.match(/^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(.*)$/);
    if (m) out.push({ value: BigInt('0x' + m[1]), size: Number(m[2]), type: m[3], bind: m[4], ndx: m[5], name: m[6] });
  }
  return out;
}

function buildRoot(pair, dest) {
  const { rel } = pair;
  const root = join(dest, 'root');
  mkdirSync(root, { recursive: true });
  let t = Date.now();
  const dbgMods = `./usr/lib/debug/lib/modules/${rel}`;
  extract(pair.dbg, root, ['./usr/lib/debug/boot/*', `${dbgMods}/modules.*`, ...LOADED.map((m) => `${dbgMods}/${KO_PATHS[m]}`)]);
  extract(pair.unsigned, root, ['./boot/config-*', './boot/System.map-*', `./lib/modules/${rel}/modules.*`]);
  const extractSecs = secs(t);
  log(`extracted in ${extractSecs} s`);
  const vmlinux = join(root, `usr/lib/debug/boot/vmlinux-${rel}`);
  const w = (p, data) => { mkdirSync(join(root, p, '..'), { recursive: true }); writeFileSync(join(root, p), data); };

  // the kernel's own notes: /sys/kernel/notes is the content of vmlinux's .notes section
  const vsecs = sections(vmlinux);
  const notes = [...vsecs.values()].find((s) => s.name === '.notes');
  w('sys/kernel/notes', sectionBytes(vmlinux, notes));
  w('proc/sys/kernel/osrelease', `${rel}\n`);
  w('etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\n' +
    'VERSION_CODENAME=bookworm\nID=debian\n');

  // kallsyms of a boot at SLIDE: percpu offsets are printed as they are (type A), the rest moved
  t = Date.now();
  const map = readFileSync(join(root, `usr/lib/debug/boot/System.map-${rel}`), 'latin1').split('\n').filter(Boolean);
  const lines = [];
  for (const l of map) {
    const [a, ty, name] = l.split(' ');
    const addr = BigInt('0x' + a);
    lines.push(addr < 0xffffffff00000000n ? `${a} A ${name}` : `${hex(addr + SLIDE)} ${ty} ${name}`);
  }
  // loadable modules: text, rodata and data allocations one after the other, as since 6.4
  const procModules = [], moduleTruth = [];
  let cursor = MODULE_AREA;
  const page = (x) => (x + 0xfffn) & ~0xfffn;
  for (const mod of LOADED) {
    const ko = join(root, `usr/lib/debug/lib/modules/${rel}/${KO_PATHS[mod]}`);
    const ss = sections(ko);
    const alloc = [...ss.entries()].filter(([, s]) => s.flags.includes('A') && !s.name.startsWith('.init') && s.size > 0);
    const kinds = [
      alloc.filter(([, s]) => s.flags.includes('X')),
      alloc.filter(([, s]) => !s.flags.includes('X') && !s.flags.includes('W')),
      alloc.filter(([, s]) => !s.flags.includes('X') && s.flags.includes('W')),
    ];
    const base = new Map();
    const textBase = cursor;
    for (const group of kinds) {
      for (const [i, s] of group) {
        const al = s.align > 0n ? s.align : 1n;
        cursor = (cursor + al - 1n) / al * al;
        base.set(i, cursor);
        cursor += BigInt(s.size);
      }
      cursor = page(cursor);
    }
    procModules.push(`${mod} ${Number(cursor - textBase)} 0 - Live 0x${hex(textBase)}`);
    for (const [i, b] of base) w(`sys/module/${mod}/sections/${ss.get(i).name}`, `0x${hex(b)}\n`);
    const bid = [...ss.values()].find((s) => s.name === '.note.gnu.build-id');
    w(`sys/module/${mod}/notes/.note.gnu.build-id`, sectionBytes(ko, bid));
    for (const s of symbols(ko)) {
      if (!/^\d+$/.test(s.ndx) || !base.has(Number(s.ndx)) || !s.name || !['FUNC', 'OBJECT', 'NOTYPE'].includes(s.type)) continue;
      const sec = ss.get(Number(s.ndx));
      let c = sec.flags.includes('X') ? 't' : sec.type === 'NOBITS' ? 'b' : sec.flags.includes('W') ? 'd' : 'r';
      if (s.bind === 'GLOBAL') c = c.toUpperCase();
      if (s.bind === 'WEAK') c = sec.flags.includes('X') ? 'W' : 'V';
      const addr = base.get(Number(s.ndx)) + s.value;
      lines.push(`${hex(addr)} ${c} ${s.name}\t[${mod}]`);
      if (sec.flags.includes('X')) moduleTruth.push(`${hex(addr)}\t${s.name}\t${mod}`);
    }
  }
  w('proc/kallsyms', lines.join('\n') + '\n');
  w('proc/modules', procModules.reverse().join('\n') + '\n');
  log(`proc/ and sys/ made in ${secs(t)} s (${lines.length} kallsyms lines, ${LOADED.length} modules)`);

  // truth, with readelf: each vmlinux text symbol's compile unit from .debug_aranges
  t = Date.now();
  const cuName = new Map();
  let cur = null;
  for (const l of readelf('--debug-dump=info', '--dwarf-depth=1', vmlinux).split('\n')) {
    const u = l.match(/Compilation Unit @ offset (0x[0-9a-f]+|0):/);
    if (u) { cur = parseInt(u[1], 16); continue; }
    const n = l.match(/DW_AT_name\s+:\s+(?:\([^)]*\):\s+)?(.*)$/);
    if (n && cur !== null && !cuName.has(cur)) cuName.set(cur, n[1].trim());
  }
  const ranges = [];
  let cu = null;
  for (const l of readelf('--debug-dump=aranges', vmlinux).split('\n')) {
    const o = l.match(/Offset into \.debug_info:\s+(0x[0-9a-f]+|\d+)/);
    if (o) { cu = parseInt(o[1], o[1].startsWith('0x') ? 16 : 10); continue; }
    const r = l.match(/^\s+([0-9a-f]{16})\s+([0-9a-f]{16})\s*$/);
    if (r && cu !== null) { const s = BigInt('0x' + r[1]), n = BigInt('0x' + r[2]); if (n > 0n && s > 0n) ranges.push([s, s + n, cu]); }
  }
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const find = (x) => {
    let lo = 0, hi = ranges.length - 1, best = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (ranges[mid][0] <= x) { best = mid; lo = mid + 1; } else hi = mid - 1; }
    for (let i = best; i >= 0 && i > best - 64; i--) if (ranges[i][0] <= x && x < ranges[i][1]) return ranges[i][2];
    return null;
  };
  const truth = [];
  const vsyms = symbols(vmlinux);
  const textSecs = new Set([...vsecs.entries()].filter(([, s]) => s.flags.includes('X')).map(([i]) => String(i)));
  for (const s of vsyms) {
    if (!textSecs.has(s.ndx) || !s.name || s.type === 'SECTION' || s.type === 'FILE') continue;
    // __pfx_/__cfi_ padding: the compile unit of the function it pads (aranges start at its entry)
    const at = /^__(pfx|cfi)_/.test(s.name) ? s.value + BigInt(s.size) : s.value;
    const c = find(at);
    const name = c === null ? '-' : cuName.get(c) ?? '-';
    truth.push(`${hex(s.value + SLIDE)}\t${s.name}\t${name}\t${s.size}`);
  }
  mkdirSync(join(dest, 'truth'), { recursive: true });
  writeFileSync(join(dest, 'truth', 'vmlinux-text.tsv'),
    '# runtime address\tname\tDWARF compile unit (DW_AT_name, from .debug_aranges; - none)\tst_size\n' + truth.join('\n') + '\n');
  writeFileSync(join(dest, 'truth', 'module-text.tsv'), '# runtime address\tname\tmodule\n' + moduleTruth.join('\n') + '\n');
  log(`truth from readelf in ${secs(t)} s (${truth.length} vmlinux text symbols, ${moduleTruth.length} module text symbols)`);
  return { extractSecs };
}

/** test/.distro-kernel (git-ignored): where this clone's tests find the machine-level tree. */
function linkIntoClone() {
  const here = join(dirname(fileURLToPath(import.meta.url)), '..', '.distro-kernel');
  try { rmSync(here, { force: true }); symlinkSync(CURRENT, here); } catch (e) { log(`no ${here}: ${e.message}`); }
}

function main() {
  const force = process.argv.includes('--force');
  if (!force && ready()) { linkIntoClone(); log(`ready: ${readFileSync(join(CURRENT, 'ready.json'), 'utf8').trim()}`); return; }
  for (const tool of ['readelf', 'dpkg-deb', 'tar']) {
    if (spawnSync(tool, ['--version']).status !== 0) { log(`not set up: ${tool} is missing (binutils / dpkg)`); return; }
  }
  const pair = debPair();
  if (pair.why) { log(`not set up: ${pair.why}; the distro-kernel tests skip`); return; }
  const tmp = join(DISTRO, `${pair.rel}.tmp`), dest = join(DISTRO, pair.rel);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const { extractSecs } = buildRoot(pair, tmp);
  const info = {
    version: SETUP_VERSION, release: pair.rel, slide: `0x${SLIDE.toString(16)}`, modules: LOADED,
    extractSeconds: Number(extractSecs), totalSeconds: Number(secs(t0)),
  };
  writeFileSync(join(tmp, 'ready.json'), JSON.stringify(info) + '\n');
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  rmSync(CURRENT, { force: true });
  symlinkSync(pair.rel, CURRENT);
  linkIntoClone();
  const vmlinuxMB = Math.round(statSync(join(dest, 'root', `usr/lib/debug/boot/vmlinux-${pair.rel}`)).size / 1e6);
  log(`ready in ${secs(t0)} s: ${JSON.stringify(info)} (${vmlinuxMB} MB vmlinux)`);
}

try { main(); } catch (e) { log(`not set up: ${e.message.split('\n')[0]}`); }
