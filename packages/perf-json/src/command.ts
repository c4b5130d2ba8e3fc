/**
 * `kallmod json`: perf JSON is one document, not lines, so it replaces the line driver
 * (spec.run): a streaming byte pass (json-scan.ts) with kernel callchain entries extended.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { writeAsync } from '@kallmod/core/stream/run';
import type { TransformerSpec } from '@kallmod/core/stream/spec';
import { CallchainScanner } from './json-scan.js';
import { EntryAnnotator } from './entry.js';

export const spec: TransformerSpec = {
  name: 'json',
  summary: 'annotate `perf data convert --to-json` output',
  help: `Reads the JSON that \`perf data convert --to-json\` writes and adds, to every callchain
entry whose dso is a kernel one ([kernel.kallsyms], a module, vmlinux, *.ko) or that has only a
kernel "ip", the fields "modules" (array), "builtin", "objname" (path, null when unknown) and
"ambiguous", after its last field and on its line (the line count is kept), with the entry's
\`key: value\` spacing; an entry that resolves to no symbol is left as it is. Every other byte is kept. Streams: constant memory.
--refs writes one JSON line per kernel callchain entry instead; --jobs is ignored.
--lines adds "file", "line", "column" (null when the DWARF has none) and "inlined" (the
functions inlined at the address, innermost first: [{"name", "file", "line", "column"}]),
the fields of \`kallmod lookup --lines --json\`; a callchain's first entry is the sample's ip
(looked up exactly), the others return addresses (address - 1).`,
  async run({ table, opts, input, output }) {
    const ann = new EntryAnnotator(table, opts);
    // --lines: a callchain's first entry is the sample's ip, the others return addresses
    const hooks = opts.lines ? { start: () => ann.sampleStart(), end: () => {} } : null;
    const scanner = opts.refs
      ? new CallchainScanner((e, line, out) => ann.ref(e, line, out), true, hooks)
      : new CallchainScanner((e, _line, out) => ann.annotate(e, out), false, hooks);
    const src: Readable = 'stream' in input ? input.stream : createReadStream('', { fd: input.fd, highWaterMark: 1 << 20, autoClose: true });
    for await (const chunk of src as AsyncIterable<Buffer>) {
      await writeAsync(output, scanner.push(chunk));
    }
    await writeAsync(output, scanner.end());
  },
};
