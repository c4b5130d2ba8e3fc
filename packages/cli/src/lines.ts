/**
 * `--lines` for every command: the DWARF files of the loaded table (the vmlinux and module
 * directories it was built from, or that the running-kernel defaults found), opened lazily by
 * core's LineSource, and the one stderr note when there are none.
 */
import type { Warning } from '@kallmod/core/errors';
import type { LoadedTable } from '@kallmod/core/load';
import { moduleBuildId } from '@kallmod/core/kernel/identity';
import { LineSource, type LineSourceFiles } from '@kallmod/core/lines/line-source';
import { debugPackage } from './commands/capabilities.js';
import { cacheBaseDir } from '@kallmod/core/kernel/cache';

/** The DWARF files a table was made from (explicit flags, the defaults, a cache or a snapshot's record). */
export function lineSourceFiles(l: LoadedTable): LineSourceFiles {
  const all = [...l.loaded, ...(l.snapshot?.sources ?? [])];
  const o = l.options;
  // --vmlinux / --modules-dir given beside --snapshot: the table is the snapshot's, the DWARF theirs
  const vm = (l.snapshot ? o?.vmlinux : undefined) ?? all.find((x) => x.role === 'vmlinux')?.path ?? l.discovery?.vmlinux?.path ?? null;
  const dirs = l.snapshot && o?.modulesDir?.length ? [...o.modulesDir]
    : all.filter((x) => x.role === 'modules-dir').flatMap((x) => x.path.split(','));
  if (!dirs.length && l.discovery?.debugModules) dirs.push(l.discovery.debugModules);
  const running = l.loaded.some((x) => x.origin === 'running-kernel');
  const root = l.kernel?.root ?? l.discovery?.root ?? '';
  // the vmlinux's line index beside the per-kernel cache (keyed by the same build-id), unless --no-cache
  const indexDir = o?.noCache ? null : cacheBaseDir({ ...(o?.cacheDir ? { cacheDir: o.cacheDir } : {}) });
  const progress = (m: string) => { if (process.stderr.isTTY) process.stderr.write(`kallmod: ${m}\n`); };
  // which build the DWARF must be of: what the running kernel says, or what it said when captured
  const ids = l.snapshot?.buildIds;
  return {
    vmlinux: vm, modulesDirs: [...new Set(dirs)], indexDir, progress,
    ...(running ? { moduleBuildId: (m: string) => moduleBuildId(root, m), kernelBuildId: l.kernel?.buildId ?? null } : {}),
    ...(ids ? { moduleBuildId: (m: string) => ids.modules[m] ?? null, kernelBuildId: ids.kernel } : {}),
  };
}

export interface Lines { source: LineSource; done(): void }

/**
 * A LineSource for `l`. Said once on stderr: that there is no DWARF to read (and what to
 * install), or at the end which kinds of references found none.
 */
export function openLines(l: LoadedTable, cmd: string, warn: (w: Warning) => void): Lines {
  const files = lineSourceFiles(l);
  const source = new LineSource(l.table, files, warn);
  const install = l.discovery ? debugPackage(l.discovery.distro, l.discovery.release)
    : 'an unstripped vmlinux (--vmlinux F) and debug modules (--modules-dir D)';
  if (!source.hasFiles) {
    process.stderr.write(`kallmod ${cmd}: --lines: no DWARF to read (no unstripped vmlinux or debug modules among the sources): ${install}\n`);
  }
  return {
    source,
    done() {
      if (!source.hasFiles) return;
      const m = [...source.missing];
      if (m.includes('vmlinux')) {
        process.stderr.write(`kallmod ${cmd}: --lines: core-kernel references got no lines: no unstripped vmlinux among the sources: ${install}\n`);
      }
      const mods = m.filter((x) => x.startsWith('module ')).map((x) => x.slice(7));
      if (m.includes('modules') || mods.length) {
        const more = mods.length > 5 ? `, +${mods.length - 5}` : '';
        const which = mods.length ? `no debug .ko for ${mods.slice(0, 5).join(', ')}${more}` : 'no module directory among the sources';
        process.stderr.write(`kallmod ${cmd}: --lines: module references got no lines: ${which}: ${install}\n`);
      }
      source.close();
    },
  };
}
