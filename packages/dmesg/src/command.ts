import { KallmodError } from '@kallmod/core/errors';
import type { TransformerSpec } from '@kallmod/core/stream/spec';
import { kmsgStream, KMSG_PATH } from './kmsg.js';

export const spec: TransformerSpec = {
  name: 'dmesg',
  summary: 'annotate kernel symbols in kernel logs: dmesg, dmesg -w, journalctl -k[f], serial consoles, syslog, crash reports',
  help: `Recognises stack frames (func+0x12/0x40, ? func+.., func+.. [mod], [mod buildid],
[<addr>] func+.. (the address decides), :mod:func+.., RIP: 0010:func+.., arm64 pc : / lr :,
arm (func) from [<..>]), header lines that name a function (WARNING: ... at, BUG: KASAN: ... in,
lockdep at:, hardirqs last enabled at (N): [<addr>] func+..), Workqueue: wq func, and
func file.c:NN [inline]; behind any prefix (timestamps, <level>, dmesg -x/-T, caller ids,
syslog/journalctl, /dev/kmsg records, \\r and escape codes of serial consoles).
RIP: 0033 (user space), Code: and Modules linked in: lines and register dumps stay untouched.
The printed /size picks between same-name symbols (the kernel's kallsyms size).

  --place WHERE      before (default): "? [ext4] {super.o} func+0x12/0x40" - keeps
                     scripts/decode_stacktrace.sh working on the output; after: kallmodsyms
                     order "func+0x12/0x40 [ext4] {super.o}" (decode_stacktrace.sh then skips
                     the line)
  --lines            adds lines: before a frame, one "func file:line [inline]" line
                     per function inlined into it, innermost first (syzbot's layout),
                     and " file:line" after the frame (a call trace's frames are
                     return addresses: looked up at address - 1; RIP:/pc : exactly);
                     " (discriminator N)" after each file:line when the address's
                     line row has one, as addr2line (decode_stacktrace.sh) prints it.
                     Without --lines the line count is always kept.
  -f, --follow       read ${KMSG_PATH} and keep following it (records pass through raw, as
                     cat ${KMSG_PATH} prints them); or pipe: dmesg -w | kallmod dmesg`,
  flags: {
    place: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
  },
  loadAnnotator: () => import('./annotator.js'),
  annotatorModule: '@kallmod/dmesg/annotator',
  extraOptions(values) {
    const place = values['place'] ?? 'before';
    if (place !== 'before' && place !== 'after') throw new KallmodError(`--place: before or after, not ${String(place)}`, { exitCode: 2 });
    return { place };
  },
  async openInput(values) {
    if (!values['follow']) return null;
    try {
      return { stream: await kmsgStream() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new KallmodError(`--follow: cannot read ${KMSG_PATH} (${code}); try: dmesg -w | kallmod dmesg`, { exitCode: 1 });
    }
  },
};
