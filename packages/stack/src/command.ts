import type { TransformerSpec } from '@kallmod/core/stream/spec';

export const spec: TransformerSpec = {
  name: 'stack',
  summary: 'annotate kernel stack frames: bpftrace, bcc, /proc/PID/stack, crash bt, drgn, perf report --stdio',
  help: `Recognises, one line at a time:
  bpftrace kstack        "    tcp_transmit_skb+1308" (decimal offset); kstack(perf) "\\tffffffff8160babb find_vma+59"
  bcc                    "    do_sys_open+0x1 [kernel]" ([kernel]: built-in; the module is added), "... [kvm]",
                         bare "    submit_bio" (stackcount, profile, offcputime; after "    --": user frames, skipped)
  folded (profile -f)    "dd;read;-;entry_SYSCALL_64;vfs_read 1", "...;vfs_read_[k];... 1": kernel frames are
                         those after "-" or marked _[k]; the notation goes inside the frame, before _[k]
  /proc/PID/stack        "[<0>] proc_pid_stack+0xb1/0x150" (a zero address is never looked up)
  crash bt               " #4 [ffffc900..] func at ffffffffc01fd398 [xen_gntdev]", "[exception RIP: func+489]"
  drgn                   "#5  func (file.c:12:3)", "#5 at 0xffff.. (func+0x400/0x578) in ..."
  perf report --stdio    "     1.49%  [k] exc_page_fault"
The notation goes right after the function name (before +off, " at", _[k]). A printed address decides
which symbol is meant; otherwise the name, narrowed by a printed [mod] and /size.`,
  loadAnnotator: () => import('./annotator.js'),
  annotatorModule: '@kallmod/stack/annotator',
};
