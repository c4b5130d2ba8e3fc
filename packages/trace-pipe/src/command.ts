import { existsSync, openSync } from 'node:fs';
import { KallmodError } from '@kallmod/core/errors';
import type { TransformerSpec, FlagValues, TransformInput } from '@kallmod/core/stream/spec';

/** Where tracefs is mounted (the first that has a trace_pipe), or null. */
export function findTracefs(candidates = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']): string | null {
  for (const d of candidates) if (existsSync(`${d}/trace_pipe`)) return d;
  return null;
}

/** The trace_pipe path for --follow [--instance NAME] [--tracefs DIR]. */
export function tracePipePath(values: FlagValues): string {
  const dir = typeof values['tracefs'] === 'string' ? values['tracefs'] : findTracefs();
  if (!dir) {
    throw new KallmodError('no tracefs with a trace_pipe at /sys/kernel/tracing or /sys/kernel/debug/tracing (mount -t tracefs nodev /sys/kernel/tracing)',
      { exitCode: 2 });
  }
  const inst = values['instance'];
  if (typeof inst === 'string') {
    if (!inst || inst.includes('/') || inst === '.' || inst === '..') throw new KallmodError(`bad instance name: ${inst}`, { exitCode: 2 });
    const p = `${dir}/instances/${inst}/trace_pipe`;
    if (!existsSync(p)) throw new KallmodError(`no such tracefs instance: ${dir}/instances/${inst}`, { exitCode: 2 });
    return p;
  }
  return `${dir}/trace_pipe`;
}

export const spec: TransformerSpec = {
  name: 'trace',
  summary: 'annotate kernel symbols in ftrace text (trace, trace_pipe, trace-cmd report, stack_trace)',
  help: `Annotates every kernel symbol of the function tracer (func <-parent, sym-offset, sym-addr,
latency format), function_graph (func() {, func();, } /* func */, irq and CPU-switch markers),
stack traces (" => func", "=> func+off/size [mod]", trace-cmd "=> func (addr)", the stack
tracer's table) and event fields printed with %pS/%ps (call_site=, function=, (func+0x0/0x20),
kretprobe (ret+0x../0x.. <- func), trace_printk). The notation goes right after the symbol
(after +off/size and a printed [mod]). A bare name that several symbols share is marked
ambiguous, except when the caller (<-parent, the enclosing function_graph call) is in a module
that exactly one candidate belongs to: then resolvedBy says evidence:... Always one thread
(--jobs is ignored): function_graph's call depth per CPU crosses every place a file could be cut.

Input:
  --follow           read trace_pipe itself, line by line, until interrupted (reading
                     trace_pipe consumes the ring buffer's entries)
  --instance NAME    with --follow: the tracefs instance instances/NAME
  --tracefs DIR      with --follow: tracefs mount point (default /sys/kernel/tracing, then
                     /sys/kernel/debug/tracing)`,
  flags: {
    follow: { type: 'boolean', short: 'f' },
    instance: { type: 'string' },
    tracefs: { type: 'string' },
  },
  loadAnnotator: () => import('./annotator.js'),
  annotatorModule: '@kallmod/trace-pipe/annotator',
  async openInput(values: FlagValues): Promise<TransformInput | null> {
    if (!values['follow']) {
      if (values['instance'] !== undefined || values['tracefs'] !== undefined) {
        throw new KallmodError('--instance and --tracefs need --follow', { exitCode: 2 });
      }
      return null;
    }
    const path = tracePipePath(values);
    try {
      // read by a thread of its own (core's blocking-reader.ts says why); Ctrl-C ends the
      // process by its default action, the output written so far is out
      return { fd: openSync(path, 'r'), path, blocking: true };
    } catch (e) {
      throw new KallmodError(`cannot open: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: path });
    }
  },
};
