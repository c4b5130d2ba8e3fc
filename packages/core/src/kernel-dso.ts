/**
 * Is a perf DSO name a kernel one? The one home of the spellings perf prints (inferno's
 * matcher.rs lists the same): [kernel.kallsyms], [guest.kernel.kallsyms], a module `[ext4]`,
 * a vmlinux path (`/boot/vmlinux-6.12.0`), a module file (`.../ext4.ko`, `.ko.xz|gz|zst`).
 * Not kernel: [unknown], [vdso], [vsyscall], [heap], [stack], [anon...], user paths.
 */
const USER_BRACKETED = new Set(['[unknown]', '[vdso]', '[vsyscall]', '[heap]', '[stack]', '[vvar]', '[uprobes]']);

export function isKernelDso(dso: string): boolean {
  if (dso.startsWith('[')) return dso.endsWith(']') && !USER_BRACKETED.has(dso) && !dso.startsWith('[anon');
  const base = dso.slice(dso.lastIndexOf('/') + 1);
  return base.startsWith('vmlinux') || /\.ko(\.(xz|gz|zst))?$/.test(base);
}

/**
 * The loadable module a kernel DSO names (`[ext4]`, `.../ext4.ko.xz` -> "ext4"; module file
 * names use "-" where module names use "_"), or null for the core kernel and non-module DSOs.
 */
export function moduleOfDso(dso: string): string | null {
  if (dso.startsWith('[')) {
    if (!isKernelDso(dso) || dso === '[kernel.kallsyms]' || dso === '[guest.kernel.kallsyms]') return null;
    return dso.slice(1, -1);
  }
  const m = /([^/]+)\.ko(?:\.(?:xz|gz|zst))?$/.exec(dso);
  return m ? m[1]!.replace(/-/g, '_') : null;
}
