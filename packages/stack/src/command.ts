import type { TransformerSpec } from '@kallmod/core/stream/spec';

export const spec: TransformerSpec = {
  name: 'stack',
  summary: 'annotate kernel stacks: bpftrace, bcc, /proc/PID/stack, crash bt, drgn, perf report',
  help: `Recognises, one line at a time:
  bpftrace kstack     "    tcp_transmit_skb+1308" (decimal offset),
                      kstack(perf) "\\tffffffff8160babb find_vma+59"
  bcc                 "    do_sys_open+0x1 [kernel]" ([kernel]: built-in, the module is added),
                      "    start_sw_timer+0x173 [kvm]", bare "    submit_bio" at bcc's 2 or 4
                      space indent (stackcount, profile, offcputime; after "    --": user frames)
  folded stacks       "dd;read;-;entry_SYSCALL_64;vfs_read 1", "...;vfs_read_[k];... 1": frames
                      after "-" or marked _[k]; the notation goes inside the frame, before _[k]
  /proc/PID/stack     "[<0>] proc_pid_stack+0xb1/0x150" (a zero address is never looked up)
  crash bt            " #4 [ffffc900..] func at ffffffffc01fd398 [xen_gntdev]", bt -t words,
                      "[exception RIP: func+489]"
  drgn                "#5  func (file.c:12:3)", "#5 at 0xffff.. (func+0x400/0x578) in ..."
  perf report         "     1.49%  [k] exc_page_fault" (--stdio)
The notation goes right after the function name (before +off, " at", _[k]). A printed address
decides which symbol is meant; otherwise the name, narrowed by a printed [mod] and /size.
--lines appends " file:line" to a frame line that says a place in the function (an offset or
an address): bpftrace, bcc, /proc/PID/stack, crash, drgn's "at 0x..." frames; the first frame
of a bpftrace/bcc stack, crash's exception RIP and drgn's #0 looked up exactly, the others as
return addresses (address - 1). Folded stacks, perf report rows and bare names get none (they
name functions, not places), nor drgn frames that print their own.`,
  loadAnnotator: () => import('./annotator.js'),
  annotatorModule: '@kallmod/stack/annotator',
};
