/**
 * Inputs of `kallmod report` and `kallmod flame`, into a Profile: perf script text (through
 * the shared stream driver, core stream/run.ts, with perf-script's SampleWalker), perf JSON
 * (perf-json's CallchainScanner and EntryAnnotator) and folded stacks (`kallmod perf --fold`,
 * stackcollapse-perf.pl). Which one is read is told by the first bytes (`--input` says it).
 */
import type { Readable } from 'node:stream';
import { readSync } from 'node:fs';
import { KallmodError } from '@kallmod/core/errors';
import { runTransform } from '@kallmod/core/stream/run';
import { lineMemoWhenWorthIt, type NativeLineMemo } from '@kallmod/core/native';
import type { Annotator, AnnotatorModule, AnnotatorOptions } from '@kallmod/core/stream/annotator';
import type { TransformInput } from '@kallmod/core/stream/spec';
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { SampleWalker } from '@kallmod/perf-script/samples';
import { cutPoint } from '@kallmod/perf-script/cut-point';
import { CallchainScanner } from '@kallmod/perf-json/json-scan';
import { EntryAnnotator, fields } from '@kallmod/perf-json/entry';
import { SampleCollector, type Profile } from './profile.js';

export type InputFormat = 'perf' | 'json' | 'folded';

const NOTHING = Buffer.alloc(0);

/** What the input is, from its first bytes: `{` starts perf JSON; `a;b;c 12` lines are folded stacks. */
export function detectFormat(head: Buffer): InputFormat {
  const text = head.toString('latin1');
  const start = text.search(/\S/);
  if (start >= 0 && text[start] === '{') return 'json';
  for (const l of text.split('\n').slice(0, 20)) {
    const line = l.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    // a perf header ends with its event ("cycles:") or a frame's "(dso)"; a folded line with its count
    if (/^\S/.test(line) && /\s\d+$/.test(line) && (line.includes(';') || !/[:()]/.test(line))) return 'folded';
    return 'perf';
  }
  return 'perf';
}

/** The first bytes of the input without consuming them: pread on a file, read + unshift on a stream. */
export async function peek(input: TransformInput): Promise<Buffer> {
  if ('fd' in input) {
    try {
      const b = Buffer.alloc(4096);
      return b.subarray(0, readSync(input.fd, b, 0, b.length, 0));
    } catch (e) {
      // not seekable (a pipe given as a path): read as a stream instead
      if ((e as NodeJS.ErrnoException).code !== 'ESPIPE') throw e;
      return NOTHING;
    }
  }
  const s = input.stream;
  const chunk = await new Promise<Buffer | null>((res, rej) => {
    const done = () => { s.off('readable', done); s.off('end', done); s.off('error', rej); res(s.read() as Buffer | null); };
    s.on('readable', done); s.on('end', done); s.once('error', rej);
  });
  if (chunk) s.unshift(chunk);
  return chunk ?? NOTHING;
}

/** perf script text: the shared driver reads it (live or in chunks cut after blank lines), the walker counts. */
async function readPerfText(profile: Profile, table: SymbolTable, opts: AnnotatorOptions, input: TransformInput): Promise<void> {
  const collector = new SampleCollector(profile);
  const walker = new SampleWalker(table, opts, collector, { comm: Boolean(profile.opts.paths), period: Boolean(profile.opts.period) });
  // the addon's line memo where it pays (core native.ts): callchain lines repeat, and reading
  // each one again was most of the time (bench/report.mjs)
  let memoFor: (seen: number) => NativeLineMemo | null = () => null;
  let seen = 0;
  const ann: Annotator = {
    chunk(buf) { walker.chunk(buf, memoFor(seen += buf.length)); return NOTHING; },
    end() { walker.end(); return NOTHING; },
  };
  // one aggregate, in this thread: never a worker pool
  const mod: AnnotatorModule = {
    createAnnotator: (_t, o) => { memoFor = lineMemoWhenWorthIt(o.inputSize); return ann; },
    cutPoint,
    inlineOnly: true,
  };
  const { Writable } = await import('node:stream');
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  await runTransform({ table, annotator: mod, annotatorModule: '@kallmod/report/readers', opts, input, output: sink, jobs: 1 });
}

function streamOf(input: TransformInput): Promise<Readable> | Readable {
  if ('stream' in input) return input.stream;
  return import('node:fs').then(({ createReadStream }) => createReadStream('', { fd: input.fd, highWaterMark: 1 << 20, autoClose: false }));
}

const COMM = /"comm"\s*:\s*"((?:[^"\\]|\\.)*)"/;
const PERIOD = /"period"\s*:\s*(\d+)/;

/** perf JSON: one sample per callchain, its comm (and period, where perf wrote one) from the fields before it. */
async function readPerfJson(profile: Profile, table: SymbolTable, opts: AnnotatorOptions, input: TransformInput): Promise<void> {
  const collector = new SampleCollector(profile);
  const entries = new EntryAnnotator(table, opts);
  // the same entry bytes, the same frame: callchains repeat their frames
  const seen = new Map<string, number>();
  const stack: number[] = [];
  let comm: string | null = null, period = 1, printed = false;
  const scanner = new CallchainScanner((e) => {
    const key = e.toString('latin1');
    let id = seen.get(key);
    if (id === undefined) {
      const r = entries.kernelResolution(e);
      if (r) id = profile.resolvedFrame(r, null);
      else {
        const f = fields(e);
        const dso = f.dso ?? '[unknown]';
        id = profile.userFrame(f.symbol ?? (dso !== '[unknown]' ? `[${dso.slice(dso.lastIndexOf('/') + 1)}]` : '[unknown]'), dso);
      }
      if (seen.size > 100_000) seen.clear();
      seen.set(key, id);
    }
    stack.push(id);
  }, true, {
    start(head) {
      const h = head.toString('utf8');
      const c = COMM.exec(h), p = PERIOD.exec(h);
      comm = c ? (JSON.parse(`"${c[1]}"`) as string) : null;
      printed = p !== null;
      period = p ? Number(p[1]) || 1 : 1;
      stack.length = 0;
    },
    end() {
      collector.profile.addSample(stack, period, printed, comm);
      stack.length = 0;
    },
  });
  for await (const chunk of (await streamOf(input)) as AsyncIterable<Buffer>) scanner.push(chunk);
  scanner.end();
}

/**
 * Folded stacks (`comm;root;...;leaf COUNT`, `kallmod perf --fold`, stackcollapse-perf.pl): the
 * count is the sample's weight already (--fold sums periods). A frame is a kernel one when it
 * carries kallmod's notation, `_[k]`, or names a kernel symbol; the notation it carries picks
 * among the symbols of that name, as `kallmod perf` chose when it wrote it. A frame marked
 * `_[i]` (`--lines=fold`, stackcollapse-perf.pl's inline mark) is code inlined into the frame
 * before it (Profile.inlinedFrame).
 */
async function readFolded(profile: Profile, table: SymbolTable, input: TransformInput, name: string): Promise<void> {
  profile.foldedCounts = true;
  const frames = new Map<string, number>();
  const frameOf = (text: string): number => {
    let id = frames.get(text);
    if (id === undefined) { id = foldedFrame(profile, table, text); if (frames.size > 100_000) frames.clear(); frames.set(text, id); }
    return id;
  };
  const inlined = new Map<string, number>();
  const inlinedOf = (text: string, outer: number): number => {
    const key = `${outer}\0${text}`;
    let id = inlined.get(key);
    if (id === undefined) {
      const t = text.slice(0, -4), sp = t.indexOf(' ');
      // the notation it carries is its outer function's (where its code is): the name alone
      id = profile.inlinedFrame(sp >= 0 && NOTATION.test(t.slice(sp + 1)) ? t.slice(0, sp) : t, outer);
      if (inlined.size > 100_000) inlined.clear();
      inlined.set(key, id);
    }
    return id;
  };
  let rest = '';
  let lineNo = 0;
  const line = (l: string) => {
    lineNo++;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l === '' || l.startsWith('#')) return;
    const sp = l.lastIndexOf(' ');
    const count = sp > 0 ? Number(l.slice(sp + 1)) : NaN;
    if (!(count >= 0) || !/^\d+(\.\d+)?$/.test(l.slice(sp + 1))) {
      throw new KallmodError(`not a folded stack (FRAMES COUNT): ${l.length > 60 ? l.slice(0, 60) + '…' : l}`, { file: name, line: lineNo });
    }
    const parts = l.slice(0, sp).split(';');
    const comm = parts.shift()!;
    // root first, so that an inlined frame (`name_[i]`) knows the function it is inlined into
    const stack: number[] = new Array<number>(parts.length);
    let outer = -1;
    for (let k = 0; k < parts.length; k++) {
      const t = parts[k]!;
      if (outer >= 0 && t.endsWith('_[i]')) stack[parts.length - 1 - k] = inlinedOf(t, outer);
      else stack[parts.length - 1 - k] = outer = frameOf(t);
    }
    profile.addSample(stack, count, count !== 1, comm, count);
  };
  for await (const chunk of (await streamOf(input)) as AsyncIterable<Buffer>) {
    const s = rest + chunk.toString('latin1');
    const last = s.lastIndexOf('\n');
    if (last < 0) { rest = s; continue; }
    for (const l of s.slice(0, last).split('\n')) line(l);
    rest = s.slice(last + 1);
  }
  if (rest) line(rest);
}

const NOTATION = /^(?:\[[^\]\s]+\](?: |$))*(?:\{[^}\s]*\})?$/;

/** One folded frame's text (`name [mod] {obj.o}`, `name_[k]`, `name {?…}`, a user name) as a Profile frame. */
function foldedFrame(profile: Profile, table: SymbolTable, text: string): number {
  let t = text;
  const k = t.endsWith('_[k]');
  if (k) t = t.slice(0, -4);
  const sp = t.indexOf(' ');
  // only kallmod's notation after the name (`[m1] [m2] {obj.o}`); a user name may have spaces
  if (sp >= 0 && !NOTATION.test(t.slice(sp + 1))) return k ? profile.unknownKernelFrame(t) : profile.userFrame(t, '');
  const name = sp < 0 ? t : t.slice(0, sp);
  const notation = sp < 0 ? '' : t.slice(sp + 1);
  const modules = [...notation.matchAll(/\[([^\]\s]+)\]/g)].map((m) => m[1]!);
  const obj = /\{([^?}][^}]*)\}/.exec(notation)?.[1] ?? null;
  const candidates = table.indicesByName(name);
  if (candidates.length === 0) return k || notation ? profile.unknownKernelFrame(name) : profile.userFrame(name, '');
  if (notation.includes('{?')) return profile.resolvedFrame(table.resolveName({ name }), name);
  // as kallmod perf prints: no module part means the core kernel, no objname means one was not needed
  const mods = modules.join(' ');
  let pick = candidates.filter((i) => table.modules(i).join(' ') === mods);
  if (obj !== null) pick = pick.filter((i) => table.objnameShort(i) === obj);
  // aliases at one address are one function
  const uniq = pick.filter((i, n) => n === 0 || table.d.keys[i] !== table.d.keys[pick[n - 1]!]);
  if (uniq.length === 1) return profile.symbolFrame(uniq[0]!);
  if (uniq.length > 1) return profile.resolvedFrame(table.resolveName({ name, module: modules[0] ?? null }), name);
  return profile.unknownKernelFrame(name);
}

export async function readProfile(
  profile: Profile, table: SymbolTable, opts: AnnotatorOptions, input: TransformInput, format: InputFormat | null, name: string,
): Promise<InputFormat> {
  const fmt = format ?? detectFormat(await peek(input));
  if (fmt === 'json') await readPerfJson(profile, table, opts, input);
  else if (fmt === 'folded') await readFolded(profile, table, input, name);
  else await readPerfText(profile, table, opts, input);
  return fmt;
}
