/**
 * `--fold`: folded stacks (`comm;root;...;leaf 1`), written straight from the annotated text
 * with FlameGraph's stackcollapse-perf.pl rules, so kernel frames are module-qualified and
 * grouped by (name, module, objname) exactly as FlameGraph would group annotated output.
 *
 * One line per sample, in input order (flamegraph.pl and inferno sum equal stacks): a chunk
 * never needs another chunk's state, so 1 and N workers give the same bytes. Not done: the
 * Perl script's "first event type only" filter (select events with `perf script --event`).
 */
const EVENT = /^(\S.+?)\s+(\d+)\/*(\d+)*\s+/;
const STACK = /^\s*(\w+)\s*(.+) \((\S*)\)/;
const OFFSET = /\+0x[\da-f]+$/;

/** One frame name as stackcollapse-perf.pl derives it (default options: tidy generic on). */
export function collapseFrame(rawfunc: string, mod: string): string | null {
  rawfunc = rawfunc.replace(OFFSET, '');
  if (rawfunc.startsWith('(')) return null;
  let func = rawfunc;
  if (func === '[unknown]') func = mod !== '[unknown]' ? `[${mod.replace(/.*\//, '')}]` : '[unknown]';
  func = func.replace(/;/g, ':');
  if (!/\.\(.*\)\./.test(func)) func = func.replace(/\((?!anonymous namespace\)).*/, '');
  return func.replace(/["']/g, '');
}

/**
 * A sample can straddle two live chunks (a pipe delivers lines as they come), so the sample
 * being read is kept between calls; a blank line ends it, as in the Perl script. Batch chunks
 * are cut after blank lines (cutPoint), so nothing is carried there. perf script ends every
 * sample with a blank line, `perf script | head -N` does not: the end of the input ends the
 * last sample too (end()).
 */
export class Folder {
  private pname: string | null = null;
  private stack: string[] = [];

  /** Annotated text (latin1: bytes kept) in, folded lines of the samples it completes out. */
  fold(text: string): string {
    let out = '';
    let pos = 0;
    while (pos < text.length) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      let l = text.slice(pos, nl);
      pos = nl + 1;
      if (l.endsWith('\r')) l = l.slice(0, -1);
      if (l === '') { out += this.flush(); continue; }
      if (l.startsWith('#')) continue;
      let m = EVENT.exec(l);
      if (m) { this.pname = m[1]!.replace(/ /g, '_'); continue; }
      m = STACK.exec(l);
      if (m) {
        const f = collapseFrame(m[2]!, m[3]!);
        if (f !== null) this.stack.unshift(f);
      }
    }
    return out;
  }

  /** The input has ended: its last sample, when no blank line ended it. */
  end(): string {
    return this.flush();
  }

  private flush(): string {
    const s = this.pname !== null || this.stack.length ? [this.pname ?? '', ...this.stack].join(';') + ' 1\n' : '';
    this.pname = null; this.stack = [];
    return s;
  }
}
