import type { WarnFn } from '../errors.js';

/**
 * modules.builtin / modules.order (one `kernel/path/name.ko` per line) and
 * modules.builtin.modinfo (NUL-separated `module.key=value`). All three only name modules;
 * they validate the names that ranges and kallsyms give.
 */

/** `kernel/fs/ext4/ext4.ko` (`.ko.xz`, Fedora's debuginfo `.ko.debug`) → `ext4`; `-` becomes `_` as in the kernel's module names. */
export function moduleNameFromPath(p: string): string {
  const base = p.slice(p.lastIndexOf('/') + 1).replace(/\.ko(\.(xz|gz|zst|debug))?$/, '').replace(/\.o$/, '');
  return base.replace(/-/g, '_');
}

export function parseModulesList(data: Buffer): { names: Set<string>; paths: Map<string, string> } {
  const names = new Set<string>();
  const paths = new Map<string, string>();
  for (const raw of data.toString('latin1').split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const n = moduleNameFromPath(l);
    names.add(n);
    paths.set(n, l);
  }
  return { names, paths };
}

export function parseBuiltinModinfo(data: Buffer, _path: string, _warn?: WarnFn): { names: Set<string>; files: Map<string, string> } {
  const names = new Set<string>();
  const files = new Map<string, string>();
  for (const rec of data.toString('latin1').split('\0')) {
    const dot = rec.indexOf('.');
    const eq = rec.indexOf('=');
    if (dot <= 0 || eq < dot) continue;
    const mod = rec.slice(0, dot);
    names.add(mod);
    if (rec.slice(dot + 1, eq) === 'file') files.set(mod, rec.slice(eq + 1));
  }
  return { names, files };
}
