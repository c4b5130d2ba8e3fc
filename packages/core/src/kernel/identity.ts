/**
 * Which kernel the running-kernel defaults describe: its root (/ or --root DIR), release and
 * GNU build-id. Cheap on purpose (a few small reads, no parser): the cached start-up path asks
 * it before anything else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { KallmodError } from '../errors.js';

export interface KernelIdentity {
  /** '' for the running system, else the --root directory. */
  root: string;
  release: string;
  /** Hex GNU build-id from ROOT/sys/kernel/notes, null when that cannot be read. */
  buildId: string | null;
}

/** A path of the running system, below --root when one is given. */
export function rootPath(root: string, p: string): string {
  return root ? join(root, p) : p;
}

const NT_GNU_BUILD_ID = 3;

/**
 * The GNU build-id in a run of ELF notes (a .notes section, /sys/kernel/notes,
 * /sys/module/M/notes/.note.gnu.build-id): namesz, descsz, type, then name and desc, each
 * padded to 4 bytes.
 */
export function gnuBuildId(notes: Buffer): string | null {
  let o = 0;
  while (o + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(o), descsz = notes.readUInt32LE(o + 4), type = notes.readUInt32LE(o + 8);
    const name = o + 12, desc = name + ((namesz + 3) & ~3), next = desc + ((descsz + 3) & ~3);
    if (desc + descsz > notes.length) return null;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && notes.toString('latin1', name, name + 3) === 'GNU') {
      return descsz > 0 ? notes.toString('hex', desc, desc + descsz) : null;
    }
    o = next;
  }
  return null;
}

function readOrNull(p: string): Buffer | null {
  try { return readFileSync(p); } catch { return null; }
}

export function identifyKernel(opts: { root?: string; release?: string }): KernelIdentity {
  const root = opts.root ?? '';
  let release = opts.release;
  if (release === undefined) {
    if (root) {
      const f = rootPath(root, '/proc/sys/kernel/osrelease');
      const r = readOrNull(f)?.toString('latin1').trim();
      if (!r) throw new KallmodError(`--root: cannot read ${f}: give the kernel release with --release REL`, { exitCode: 2 });
      release = r;
    } else release = osRelease();
  }
  const notes = readOrNull(rootPath(root, '/sys/kernel/notes'));
  return { root, release, buildId: notes ? gnuBuildId(notes) : null };
}

/** The build-id of loaded module `mod` as this kernel says (null: not said, or not readable). */
export function moduleBuildId(root: string, mod: string): string | null {
  const b = readOrNull(rootPath(root, `/sys/module/${mod}/notes/.note.gnu.build-id`));
  return b ? gnuBuildId(b) : null;
}

/**
 * The build-ids a kernel says of itself and of every loaded module (ROOT/sys/module/M/notes), for
 * a snapshot: `--lines --snapshot` on another machine then refuses DWARF of another build.
 */
export function kernelBuildIds(k: KernelIdentity): { kernel: string | null; modules: Record<string, string> } {
  const modules: Record<string, string> = {};
  let dirs: string[];
  try { dirs = readdirSync(rootPath(k.root, '/sys/module')); } catch { dirs = []; }
  for (const m of dirs.sort()) {
    const id = moduleBuildId(k.root, m);
    if (id !== null) modules[m] = id;
  }
  return { kernel: k.buildId, modules };
}
