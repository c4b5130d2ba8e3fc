/**
 * The unpacked Debian distro kernel of `node test/setup/distro-kernel.mjs` (a root tree with a
 * debug vmlinux and .ko files, a made-up boot's /proc/kallsyms at a KASLR slide), for the tests
 * that need DWARF of a whole kernel; `distroSkipReason` says why not when it is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const LINKED = join(import.meta.dirname, '.distro-kernel');
export const DISTRO = process.env['KALLMOD_DISTRO_TREE'] ?? (existsSync(join(LINKED, 'ready.json')) ? LINKED
  : join(process.env['KALLMOD_TEST_CACHE'] ?? join(homedir(), '.cache', 'kallmod-test'), 'distro', 'current'));
const ready = existsSync(join(DISTRO, 'ready.json'));
/** Its release and the made-up boot's KASLR slide. */
export const distroMeta = ready ? (JSON.parse(readFileSync(join(DISTRO, 'ready.json'), 'utf8')) as { release: string; slide: string })
  : { release: '', slide: '0' };
/** The root tree (`--root`). */
export const DISTRO_ROOT = join(DISTRO, 'root');
export const DISTRO_VMLINUX = join(DISTRO_ROOT, `usr/lib/debug/boot/vmlinux-${distroMeta.release}`);
/** comp_dir of every unit of this build: addr2line prints paths under it. */
export const DISTRO_BUILD_DIR = 'debian/build/build_amd64_none_cloud-amd64/';

/** Null when the tree is there (and `commands` are on PATH), else why not. */
export function distroSkipReason(commands: string[] = []): string | null {
  if (!ready) return `no ${join(DISTRO, 'ready.json')} (run \`node test/setup/distro-kernel.mjs\`)`;
  for (const c of commands) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) return `${c} not found in PATH`;
  return null;
}
