import type { LoadedTable } from '@kallmod/core/load';

/** One thing kallmod can add to kernel text, whether this kernel's files give it, and how to get it. */
export interface Capability { what: string; have: boolean; how: string }

/** The package that puts an unstripped vmlinux and debug modules under /usr/lib/debug, per distribution. */
export function debugPackage(distro: string[], rel: string): string {
  const is = (x: string) => distro.includes(x);
  if (is('ubuntu')) return `apt install linux-image-unsigned-${rel}-dbgsym (from ddebs.ubuntu.com)`;
  if (is('debian')) return `apt install linux-image-${rel}-dbg`;
  if (is('fedora') || is('rhel') || is('centos') || is('rocky') || is('almalinux') || is('amzn')) return `debuginfo-install kernel-${rel}`;
  if (is('suse') || is('opensuse') || is('sles')) return 'zypper install kernel-default-debuginfo';
  return `your distribution's kernel debug-info package (it installs /usr/lib/debug/boot/vmlinux-${rel} ` +
    `or /usr/lib/debug/lib/modules/${rel}/vmlinux)`;
}

/** What each capability needs on the running kernel (or --root), from what the defaults found. */
export function capabilities(l: LoadedTable): Capability[] {
  const d = l.discovery;
  if (!d) return [];
  const roles = new Set(l.loaded.map((x) => x.role));
  const used = (role: string) => l.loaded.find((x) => x.role === role);
  const hidden = l.parsed?.kallsyms?.addressesHidden === true;
  const list = used('kallmodsyms') ?? used('kallsyms');
  const vm = used('vmlinux');
  const install = debugPackage(d.distro, d.release);
  const ranges = used('ranges');
  return [
    {
      what: 'addresses', have: !!list && !hidden,
      how: !list ? 'needs /proc/kallsyms' : hidden ? `${list.path} hides them (kptr_restrict): run as root, or lower kernel.kptr_restrict` : list.path,
    },
    {
      what: 'built-in modules', have: !!ranges || roles.has('kallmodsyms'),
      how: ranges ? ranges.path : roles.has('kallmodsyms') ? 'kallmodsyms'
        : !d.libModulesExists ? `needs ${d.libModules}/modules.builtin.ranges, and that directory is missing (modules of ${d.release} not installed?)`
        : d.rangesConfig === false
          ? 'needs modules.builtin.ranges: this kernel is built without CONFIG_BUILTIN_MODULE_RANGES (Linux >= 6.12; Ubuntu sets it), no package adds it'
        : `needs ${d.libModules}/modules.builtin.ranges (Linux >= 6.12 with CONFIG_BUILTIN_MODULE_RANGES installs it)`,
    },
    {
      what: 'objnames, core kernel', have: !!vm || roles.has('kallmodsyms'),
      how: vm ? `DWARF of ${vm.path}${vm.detail ? ` (${vm.detail})` : ''}` : roles.has('kallmodsyms') ? 'kallmodsyms'
        : `needs an unstripped vmlinux with the kernel's build-id: ${install}`,
    },
    {
      what: 'objnames, modules', have: !!d.debugModules,
      how: d.debugModules ? `DWARF of the loaded modules' .ko under ${d.debugModules}`
        : `needs the debug modules under /usr/lib/debug/lib/modules/${d.release}: ${install}`,
    },
    {
      what: 'source lines (--lines)', have: !!vm || !!d.debugModules,
      how: vm || d.debugModules
        ? `DWARF line tables of ${[vm ? vm.path : null, d.debugModules ? `the .ko under ${d.debugModules}` : null].filter(Boolean).join(' and ')}`
          + ', read on the first --lines lookup'
        : `needs the DWARF of the vmlinux and modules: ${install}`,
    },
    {
      what: 'exact sizes', have: !!vm,
      how: vm ? 'ELF symtab of the vmlinux' : `inferred (distance to the next symbol); exact ones need the vmlinux: ${install}`,
    },
  ];
}
