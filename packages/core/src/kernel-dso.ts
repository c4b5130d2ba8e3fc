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
