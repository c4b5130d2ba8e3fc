import type { TransformerSpec } from '@kallmod/core';

export const spec: TransformerSpec = {
  name: 'perf',
  summary: 'annotate kernel symbols in `perf script` text',
  help: `Reads \`perf script\` output (any -F field set, -g callchains, -G one-line samples,
brstack/brstacksym). Every kernel frame (its address is in the kernel half:
[kernel.kallsyms], [guest.kernel.kallsyms], vmlinux, [mod], *.ko, [unknown]) is resolved by
address and gets its module(s) and, when name+module is not unique, its object file, inserted
right after the name and before the offset, so flame-graph folding keeps working:
    ffffffff812da8e0 vfs_read [ext4] {inode.o}+0x12 ([kernel.kallsyms])
Frames perf printed without a name get the resolved one in angle brackets:
    ffffffff812da8e0 [unknown] <vfs_read [ext4]> ([unknown])
Branch records keep one token: 0xffffffff812da8e0<vfs_read[ext4]>/0x4011a0/P/-/-/0

  --fold             write folded stacks (comm;root;...;leaf PERIOD), one line per sample,
                     with FlameGraph stackcollapse-perf rules over the annotated frames
  --dso-module       also name the module in the dso: ([kernel.kallsyms]) becomes
                     ([kernel.kallsyms:ext4]) (one token, still [ and kallsyms), so tools that
                     group by dso (Firefox Profiler, speedscope, inferno) show built-in modules`,
  flags: { fold: { type: 'boolean' }, 'dso-module': { type: 'boolean' } },
  extraOptions: (v) => ({ fold: Boolean(v['fold']), dsoModule: Boolean(v['dso-module']) }),
  loadAnnotator: () => import('./annotator.js'),
  annotatorModule: '@kallmod/perf-script/annotator',
};
