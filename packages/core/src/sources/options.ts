/**
 * The source flags every command shares, and the options they make. Kept apart from the
 * readers so that parsing flags loads no parser.
 */
import { KallmodError } from '../errors.js';

export interface SourceOptions {
  kallsyms?: string;
  kallmodsyms?: string;
  systemMap?: string;
  ranges?: string;
  builtin?: string;
  modinfo?: string;
  order?: string;
  linkerMap?: string[];
  vmlinux?: string;
  modulesDir?: string[];
  procModules?: string;
  moduleSections?: string;
  snapshot?: string;
  kaslrOffset?: number;
  /** Read the running-kernel defaults below this directory instead of / (not a source: defaults stay on). */
  root?: string;
  /** The kernel release whose /lib/modules, /boot and debug files are used (default: uname -r, or ROOT's osrelease). */
  release?: string;
  /** Where the per-kernel cache lives (default $XDG_CACHE_HOME/kallmod); noCache: neither read nor write it. */
  cacheDir?: string;
  noCache?: boolean;
}

/** Options that say where the defaults come from, not which files to read: they leave the defaults on. */
const DEFAULTS_KEYS = new Set<keyof SourceOptions>(['kaslrOffset', 'root', 'release', 'cacheDir', 'noCache']);

/** Flags shared by every command (node:util parseArgs options). */
export const SOURCE_FLAGS = {
  kallsyms: { type: 'string' },
  kallmodsyms: { type: 'string' },
  'system-map': { type: 'string' },
  ranges: { type: 'string' },
  builtin: { type: 'string' },
  modinfo: { type: 'string' },
  'modules-order': { type: 'string' },
  'linker-map': { type: 'string', multiple: true },
  vmlinux: { type: 'string' },
  'modules-dir': { type: 'string', multiple: true },
  'proc-modules': { type: 'string' },
  'module-sections': { type: 'string' },
  snapshot: { type: 'string' },
  'kaslr-offset': { type: 'string' },
  root: { type: 'string' },
  release: { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

export const SOURCE_FLAGS_HELP = `Symbol sources (default: the running kernel; any of these turns the defaults off):
  --kallsyms F          /proc/kallsyms or a saved copy (.xz/.gz/.zst read directly)
  --kallmodsyms F       /proc/kallmodsyms (Oracle/patched kernels)
  --system-map F        System.map of the same build
  --ranges F            modules.builtin.ranges (Linux >= 6.12)
  --builtin F           modules.builtin
  --modinfo F           modules.builtin.modinfo
  --modules-order F     modules.order
  --linker-map F        vmlinux.map / vmlinux.o.map (repeat the flag for both)
  --vmlinux F           unstripped vmlinux (ELF symtab sizes, DWARF objnames)
  --modules-dir D       directory tree of .ko/.ko.xz/.ko.gz/.ko.zst files (repeatable)
  --proc-modules F      /proc/modules copy
  --module-sections F   saved "module section address" lines
  --snapshot F          a file written by \`kallmod capture\` (loads instantly, another machine's kernel)
  --kaslr-offset HEX    KASLR slide when only link-time sources are given
Running-kernel defaults (these keep the defaults on):
  --root DIR            read them below DIR: DIR/proc/kallsyms, DIR/sys, DIR/boot,
                        DIR/lib/modules/REL, DIR/usr/lib/debug (a crash-dump host, an image)
  --release REL         their kernel release (default: DIR/proc/sys/kernel/osrelease, uname -r)
  --cache-dir D         per-kernel cache of parsed debug info ($XDG_CACHE_HOME/kallmod)
  --no-cache            neither read nor write that cache`;

type FlagValues = Partial<Record<keyof typeof SOURCE_FLAGS, string | string[] | boolean | undefined>>;

export function sourceOptionsFromFlags(v: FlagValues): SourceOptions {
  const s = (k: keyof typeof SOURCE_FLAGS) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const a = (k: keyof typeof SOURCE_FLAGS) => (Array.isArray(v[k]) ? (v[k] as string[]) : undefined);
  const o: SourceOptions = {};
  const set = <K extends keyof SourceOptions>(k: K, x: SourceOptions[K] | undefined) => { if (x !== undefined) o[k] = x; };
  set('kallsyms', s('kallsyms')); set('kallmodsyms', s('kallmodsyms')); set('systemMap', s('system-map'));
  set('ranges', s('ranges')); set('builtin', s('builtin')); set('modinfo', s('modinfo')); set('order', s('modules-order'));
  set('linkerMap', a('linker-map')); set('vmlinux', s('vmlinux')); set('modulesDir', a('modules-dir'));
  set('procModules', s('proc-modules')); set('moduleSections', s('module-sections')); set('snapshot', s('snapshot'));
  set('root', s('root')); set('release', s('release')); set('cacheDir', s('cache-dir'));
  if (v['no-cache'] === true) o.noCache = true;
  if (o.release !== undefined && !/^[\w.+~-]+$/.test(o.release)) throw new KallmodError(`--release: not a kernel release: ${o.release}`, { exitCode: 2 });
  const ko = s('kaslr-offset');
  if (ko !== undefined) {
    const neg = ko.startsWith('-');
    const x = parseInt(ko.replace(/^-/, '').replace(/^0x/i, ''), 16);
    if (!Number.isFinite(x)) throw new KallmodError(`--kaslr-offset: not a hex number: ${ko}`, { exitCode: 2 });
    o.kaslrOffset = neg ? -x : x;
  }
  if ((o.root !== undefined || o.release !== undefined) && hasExplicitSources(o)) {
    throw new KallmodError('--root and --release choose where the running-kernel defaults come from; explicit source flags turn those defaults off: ' +
      'give one or the other', { exitCode: 2 });
  }
  return o;
}

export function hasExplicitSources(o: SourceOptions): boolean {
  return (Object.keys(o) as (keyof SourceOptions)[]).some((k) => !DEFAULTS_KEYS.has(k));
}

