/**
 * The running kernel's files (or those of another root, --root): what the distribution installs
 * where, tried in perf's order (tools/perf/util/symbol.c, vmlinux_path), and checked against the
 * kernel's own GNU build-id, so that a debug file of another build is never used.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Warning } from '../errors.js';
import { rootPath, type KernelIdentity } from '../kernel/identity.js';
import { lazyModule } from '../lazy.js';
import type { SourceOptions } from './options.js';
import { readSourceFile } from './read-file.js';

const elfReader = () => lazyModule('@kallmod/core/sources/elf/index') as typeof import('./elf/index.js');

/** A file the defaults looked at and did not use, and why. */
export interface SkippedFile { path: string; why: string }

/** What the defaults found: for `kallmod sources`, and kept in the cache with the table. */
export interface Discovery {
  root: string;
  release: string;
  buildId: string | null;
  /** The directories the defaults read, existing or not (so `sources` can say which is missing). */
  libModules: string;
  libModulesExists: boolean;
  debugModules: string | null;
  vmlinux: { path: string; buildId: string | null } | null;
  /** vmlinux paths tried, in order. */
  vmlinuxTried: string[];
  skipped: SkippedFile[];
  /** CONFIG_BUILTIN_MODULE_RANGES of /boot/config-REL: true, false, or null (no config found). */
  rangesConfig: boolean | null;
  /** ID and ID_LIKE of ROOT/etc/os-release, for the install hints. */
  distro: string[];
}

/** perf's vmlinux_path, the distribution's debug locations first (they are the unstripped ones). */
export function vmlinuxCandidates(root: string, rel: string): string[] {
  const boot = `/boot/vmlinux-${rel}`;
  return [
    `/usr/lib/debug/boot/vmlinux-${rel}`,
    `/usr/lib/debug/lib/modules/${rel}/vmlinux`,
    boot, `${boot}.gz`, `${boot}.xz`, `${boot}.zst`,
    `/lib/modules/${rel}/build/vmlinux`,
    `/usr/lib/debug/boot/vmlinux-${rel}.debug`,
  ].map((p) => rootPath(root, p));
}

function readable(p: string): string | null {
  try { closeSync(openSync(p, 'r')); return null; } catch (e) { return (e as NodeJS.ErrnoException).code ?? 'unreadable'; }
}

/**
 * The first vmlinux with DWARF whose build-id is the kernel's. When the kernel's build-id cannot
 * be read, the first one with DWARF is taken: the KASLR anchors (table/kaslr.ts) still refuse one
 * of another build.
 */
function findVmlinux(kernel: KernelIdentity, d: Discovery, warn: (w: Warning) => void): void {
  for (const p of d.vmlinuxTried) {
    if (!existsSync(p)) continue;
    let st;
    try { st = statSync(p); } catch { continue; }
    if (!st.isFile()) { d.skipped.push({ path: p, why: 'not a regular file' }); continue; }
    const err = readable(p);
    if (err) { d.skipped.push({ path: p, why: `unreadable (${err})` }); continue; }
    let id: string | null, dwarf: boolean;
    try {
      const elf = elfReader().openElfAny(p);
      try { id = elf.buildId(); dwarf = elf.hasDwarf(); } finally { elf.close(); }
    } catch (e) {
      d.skipped.push({ path: p, why: (e as Error).message.replace(`${p}: `, '') });
      continue;
    }
    if (kernel.buildId !== null && id !== kernel.buildId) {
      const why = `build-id ${id ?? '(none)'}, the running kernel's is ${kernel.buildId}: another build, not used`;
      d.skipped.push({ path: p, why });
      warn({ source: p, message: why });
      continue;
    }
    if (!dwarf) { d.skipped.push({ path: p, why: 'stripped (no DWARF)' }); continue; }
    d.vmlinux = { path: p, buildId: id };
    return;
  }
}

function rangesConfig(root: string, rel: string): boolean | null {
  try {
    const cfg = readSourceFile(rootPath(root, `/boot/config-${rel}`)).toString('latin1');
    return /^CONFIG_BUILTIN_MODULE_RANGES=y$/m.test(cfg);
  } catch { return null; }
}

function distro(root: string): string[] {
  try {
    const t = readFileSync(rootPath(root, '/etc/os-release'), 'utf8');
    const v = (k: string) => (t.match(new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm'))?.[1] ?? '').split(/\s+/).filter(Boolean);
    return [...v('ID'), ...v('ID_LIKE')];
  } catch { return []; }
}

/** The running kernel's files that exist and can be read, and what was found. */
export function runningKernelOptions(notes: Warning[], kernel: KernelIdentity, warn: (w: Warning) => void = (w) => notes.push(w),
  opt: { skipVmlinux?: boolean } = {}): { options: SourceOptions; discovery: Discovery } {
  const { root, release: rel } = kernel;
  const at = (p: string) => rootPath(root, p);
  const lib = at(`/lib/modules/${rel}`);
  const o: SourceOptions = {};
  const d: Discovery = {
    root, release: rel, buildId: kernel.buildId, libModules: lib, libModulesExists: existsSync(lib), debugModules: null,
    vmlinux: null, vmlinuxTried: vmlinuxCandidates(root, rel), skipped: [], rangesConfig: rangesConfig(root, rel), distro: distro(root),
  };
  if (existsSync(at('/proc/kallmodsyms'))) o.kallmodsyms = at('/proc/kallmodsyms');
  else o.kallsyms = at('/proc/kallsyms');
  if (existsSync(at('/proc/modules'))) o.procModules = at('/proc/modules');
  // the debug package carries its own copy of the modules.* lists (Debian): either will do
  const dbgLib = at(`/usr/lib/debug/lib/modules/${rel}`);
  const lists = [
    ['builtin', 'modules.builtin'], ['modinfo', 'modules.builtin.modinfo'], ['order', 'modules.order'], ['ranges', 'modules.builtin.ranges'],
  ] as const;
  for (const [k, f] of lists) {
    const p = [join(lib, f), join(dbgLib, f)].find(existsSync);
    if (p) o[k] = p;
  }
  // module objnames need DWARF, which distributions strip from /lib/modules and ship in debug
  // packages: look there only (opening every loaded, stripped .ko.xz at each run would cost
  // seconds and give nothing)
  if (existsSync(dbgLib)) { o.modulesDir = [dbgLib]; d.debugModules = dbgLib; }
  if (!opt.skipVmlinux) findVmlinux(kernel, d, warn);
  if (d.vmlinux) o.vmlinux = d.vmlinux.path;
  if (d.vmlinux && kernel.buildId === null) {
    notes.push({ source: d.vmlinux.path, message: `used unverified: the kernel's build-id is unknown (no readable ${rootPath(root, '/sys/kernel/notes')}); ` +
      'its symbols must still agree with kallsyms at one KASLR slide' });
  }
  // Debian's /boot/System.map is a one-line placeholder pointing at the -dbg package's copy
  for (const sm of [at(`/boot/System.map-${rel}`), at(`/usr/lib/debug/boot/System.map-${rel}`)]) {
    if (!existsSync(sm)) continue;
    const err = readable(sm);
    if (err) { d.skipped.push({ path: sm, why: `unreadable (${err})` }); continue; }
    if (statSync(sm).size < 4096) { d.skipped.push({ path: sm, why: 'a placeholder, not a symbol list' }); continue; }
    o.systemMap = sm;
    break;
  }
  if (!d.libModulesExists) {
    notes.push({ source: lib,
      message: `no such directory: no modules.* lists for release ${rel} (modules of that release not installed${root ? ' in that root' : ''}?)` });
  } else if (!o.ranges) {
    notes.push({ source: lib, message: d.rangesConfig === false
      ? 'no modules.builtin.ranges: this kernel is built without CONFIG_BUILTIN_MODULE_RANGES, so built-in symbols get no module'
      : 'no modules.builtin.ranges for the running kernel: built-in symbols get no module (Linux >= 6.12 with CONFIG_BUILTIN_MODULE_RANGES installs it)' });
  }
  return { options: o, discovery: d };
}

/** /sys/module/<m>/sections/* of the running kernel (root only; zeros otherwise), as saved-sections text. */
export function sysModuleSectionLines(root: string): string[] | undefined {
  const base = rootPath(root, '/sys/module');
  let mods: string[];
  try { mods = readdirSync(base); } catch { return undefined; }
  const lines: string[] = [];
  for (const m of mods) {
    const dir = join(base, m, 'sections');
    let secs: string[];
    try { secs = readdirSync(dir); } catch { continue; }
    for (const s of secs) {
      try { lines.push(`${m} ${s} ${readFileSync(join(dir, s), 'latin1').trim()}`); } catch { /* unreadable */ }
    }
  }
  return lines;
}
