/**
 * What a table can add to kernel text, and what it lacks: a run on sources without built-in
 * module info or object names prints its input unchanged, and `--verbose` (or a terminal) says
 * why once instead of leaving the user to guess (transform.ts).
 */
import { F_DYNAMIC, F_LOADABLE, type SymbolTable } from './symbol-table.js';

export interface Coverage {
  /** Text symbols of the kernel image (not in a loadable module), and of loadable modules. */
  vmlinuxText: number;
  loadableText: number;
  /** vmlinux text symbols with a built-in module: modules.builtin.ranges or kallmodsyms. */
  withBuiltinModule: number;
  vmlinuxWithObjname: number;
  loadableWithObjname: number;
}

export function coverage(t: SymbolTable): Coverage {
  const c: Coverage = { vmlinuxText: 0, loadableText: 0, withBuiltinModule: 0, vmlinuxWithObjname: 0, loadableWithObjname: 0 };
  const { flags, objIds } = t.d;
  for (let i = 0; i < t.length; i++) {
    if (!t.isText(i) || flags[i]! & F_DYNAMIC) continue;
    const obj = objIds[i]! >= 0 ? 1 : 0;
    if (flags[i]! & F_LOADABLE) { c.loadableText++; c.loadableWithObjname += obj; continue; }
    c.vmlinuxText++;
    c.vmlinuxWithObjname += obj;
    if (t.isBuiltin(i)) c.withBuiltinModule++;
  }
  return c;
}

/** What the sources lack and what would add it, in one sentence; null when nothing is missing. */
export function missingSources(c: Coverage): string | null {
  const missing: string[] = [];
  if (c.vmlinuxText && !c.withBuiltinModule) {
    missing.push('no built-in module names, so built-in functions print without [module]: modules.builtin.ranges would add them '
      + '(Linux >= 6.12 installs it in /lib/modules/RELEASE; --ranges F), or /proc/kallmodsyms (--kallmodsyms F)');
  }
  if (c.vmlinuxText && !c.vmlinuxWithObjname) {
    missing.push('no object file names for the kernel image, so duplicated names stay ambiguous: the build\'s linker maps '
      + '(--linker-map vmlinux.map --linker-map vmlinux.o.map) or an unstripped vmlinux (--vmlinux F, a debug package) would add them');
  }
  if (c.loadableText && !c.loadableWithObjname) {
    missing.push('no object file names for loadable modules: unstripped .ko files would add them (a debug package under '
      + '/usr/lib/debug/lib/modules/RELEASE, or --modules-dir D)');
  }
  // which package installs them on this distribution is known to `kallmod sources` (capabilities.ts)
  return missing.length ? `${missing.join('; ')} (\`kallmod sources\` says what to install)` : null;
}
