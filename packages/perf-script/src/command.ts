import type { TransformerSpec } from '@kallmod/core';

export const spec: TransformerSpec = {
  name: 'perf',
  summary: 'annotate kernel symbols in `perf script` text',
  help: `Reads \`perf script\` output (any -F field set, -g callchains, -G one-line samples,
brstack/brstacksym). Every kernel frame (its address is in the kernel half: [kernel.kallsyms],
[guest.kernel.kallsyms], vmlinux, [mod], *.ko, [unknown]) is resolved by address and gets
its module(s) and, when name+module is not unique, its object file, inserted right after the name and before the offset, so flame-graph folding keeps working:
    ffffffff812da8e0 vfs_read [ext4] {inode.o}+0x12 ([kernel.kallsyms])
Frames perf printed without a name get the resolved one in angle brackets:
    ffffffff812da8e0 [unknown] <vfs_read [ext4]> ([unknown])
Branch records keep one token: 0xffffffff812da8e0<vfs_read[ext4]>/0x4011a0/P/-/-/0

  --fold             write folded stacks (comm;root;...;leaf PERIOD), one line per sample,
                     with FlameGraph stackcollapse-perf rules over the annotated frames
  --dso-module       also name the module in the dso: ([kernel.kallsyms]) becomes
                     ([kernel.kallsyms:ext4]) (one token, still [ and kallsyms), so tools that
                     group by dso (Firefox Profiler, speedscope, inferno) show built-in modules
  --lines            append " file:line" after a frame's (dso) (folding ignores it)
  --lines=fold       --lines, and each function inlined at a frame's address as a frame
                     line of its own before it, innermost first, as perf script --inline
                     prints them (perf's own (inlined) lines are kept, not repeated);
                     with --fold they are frames marked _[i], FlameGraph's inline mark
                     (...;dump_stack_lvl;__dump_stack_[i]). On Debian 6.12:
  ffffffffad067f63 __dump_stack+0x53 (inlined) lib/dump_stack.c:96
  ffffffffad067f63 dump_stack_lvl+0x53 ([kernel.kallsyms]) lib/dump_stack.c:123`,
  flags: { fold: { type: 'boolean' }, 'dso-module': { type: 'boolean' } },
  extraOptions: (v) => ({ fold: Boolean(v['fold']), dsoModule: Boolean(v['dso-module']), linesFold: Boolean(v['lines-fold']) }),
  loadAnnotator: () => import('./annotator.js'),
  annotatorModule: '@kallmod/perf-script/annotator',
};
