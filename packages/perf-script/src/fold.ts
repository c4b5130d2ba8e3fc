/**
 * `--fold`: folded stacks (`comm;root;...;leaf PERIOD`), written straight from the annotated
 * text with FlameGraph's stackcollapse-perf.pl rules, so kernel frames are module-qualified and
 * grouped by (name, module, objname) exactly as FlameGraph would group annotated output
 * (fixtures/flamegraph holds the script; the tests compare the two on every real perf fixture).
 *
 * One line per sample, in input order (flamegraph.pl and inferno sum equal stacks): a chunk
 * never needs another chunk's state, so 1 and N workers give the same bytes. Not done: the
 * Perl script's "first event type only" filter (select events with `perf script --event`),
 * which needs the first sample of the whole input.
 */
/*
 * stackcollapse-perf.pl's two line patterns, as JS regexes:
 *   EVENT = /^(\S.+?)\s+(\d+)\/*(\d+)*\s+/    (a sample header: the comm is group 1)
 *   STACK = /^\s*(\w+)\s*(.+) \((\S*)\)/       (a frame: symbol group 2, dso group 3)
 * Run as regexes they backtrack: a line of a space run, or of one long word, took quadratic
 * time (10 s for 100 kB). eventComm and stackFrame give the same groups in one pass.
 */

/** `\s` on a latin1 string. */
function isWs(c: number): boolean { return (c >= 9 && c <= 13) || c === 32 || c === 160; }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
function isWord(c: number): boolean { return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; }

/**
 * EVENT's group 1, or null. Its tail `\s+(\d+)\/*(\d+)*\s+` is `\s+\d+\/*\d*\s`; every start
 * inside one run of spaces gives the same answer, so each run is tried once, at its first
 * position (the shortest group 1, as `.+?` takes). `.` stops at a CR.
 */
export function eventComm(l: string): string | null {
  const n = l.length;
  if (n < 2 || isWs(l.charCodeAt(0))) return null;
  for (let e = 2; e < n;) {
    if (l.charCodeAt(e - 1) === 13) return null; // `.+?` cannot pass a CR
    if (!isWs(l.charCodeAt(e))) { e++; continue; }
    let w = e, cr = false;
    for (; w < n && isWs(l.charCodeAt(w)); w++) if (l.charCodeAt(w) === 13) cr = true;
    let k = w;
    while (k < n && isDigit(l.charCodeAt(k))) k++;
    if (k > w) {
      while (l.charCodeAt(k) === 47) k++;
      while (isDigit(l.charCodeAt(k))) k++;
      if (k < n && isWs(l.charCodeAt(k))) return l.slice(0, e);
    }
    if (cr) return null;
    e = w;
  }
  return null;
}

/**
 * STACK's groups 2 and 3, or null. The regex tries group 2's start c from the end of the
 * spaces after the word down to the word's second character (a shorter `\w+`), and for each c
 * the last ` (` whose space-free run holds a `)` that `.+` reaches without crossing a CR;
 * group 3 ends at that run's last `)`. The ` (` positions are listed once, so each c costs
 * no more than the ` (` and CRs it passes.
 */
export function stackFrame(l: string): [string, string] | null {
  const n = l.length;
  let a = 0;
  while (a < n && isWs(l.charCodeAt(a))) a++;
  let b = a;
  while (b < n && isWord(l.charCodeAt(b))) b++;
  if (b === a) return null;
  let c = b;
  while (c < n && isWs(l.charCodeAt(c))) c++;
  const xs: number[] = [], closes: number[] = [];
  for (let x = l.indexOf(' (', a); x >= 0; x = l.indexOf(' (', x)) {
    let e = x + 2, close = -1;
    for (; e < n && !isWs(l.charCodeAt(e)); e++) if (l.charCodeAt(e) === 41) close = e;
    if (close >= 0) { xs.push(x); closes.push(close); }
    x = e;
  }
  const crs: number[] = [];
  for (let r = l.indexOf('\r', a); r >= 0; r = l.indexOf('\r', r + 1)) crs.push(r);
  let ri = 0;
  while (ri < crs.length && crs[ri]! < c) ri++;
  let xi = xs.length - 1;
  while (c >= a + 1) {
    while (ri > 0 && crs[ri - 1]! >= c) ri--;
    const reach = ri < crs.length ? crs[ri]! : n; // `.+` from c stops at the first CR
    while (xi >= 0 && xs[xi]! > reach) xi--;
    const x = xi >= 0 ? xs[xi]! : -1;
    if (x >= c + 1) return [l.slice(c, x), l.slice(x + 2, closes[xi]!)];
    c = Math.min(c - 1, x - 1); // no start in [x, c) reaches a later ` (`
  }
  return null;
}

/**
 * The sample's period, as the script's `/:\s*(\d+)*\s+(\S+):\s*$/` on a header takes it (it weighs
 * each stack by it: frequency-mode periods vary); 1 when the header prints none. Read from the
 * line's end in one pass: that pattern is anchored there, and as a regex it backtracks.
 */
export function samplePeriod(l: string): number {
  let e = l.length;
  while (e > 0 && isWs(l.charCodeAt(e - 1))) e--;
  if (e === 0 || l.charCodeAt(e - 1) !== 58) return 1; // `(\S+):\s*$`
  let t = e - 1;
  while (t > 0 && !isWs(l.charCodeAt(t - 1))) t--;
  let w = t;
  while (w > 0 && isWs(l.charCodeAt(w - 1))) w--;
  if (t === e - 1 || w === t) return 1; // no event name, or no `\s+` before it
  let d = w;
  while (d > 0 && isDigit(l.charCodeAt(d - 1))) d--;
  if (d === w) return 1; // no digits: a match or not, the period is 1 either way
  let c = d;
  while (c > 0 && isWs(l.charCodeAt(c - 1))) c--;
  return c > 0 && l.charCodeAt(c - 1) === 58 ? Number(l.slice(d, w)) || 1 : 1; // `:\s*` before them; 0 counts as 1, as in Perl
}

/** One frame name as stackcollapse-perf.pl derives it (default options: tidy generic on). */
export function collapseFrame(rawfunc: string, mod: string): string | null {
  rawfunc = rawfunc.replace(OFFSET, '');
  if (rawfunc.startsWith('(')) return null;
  let func = rawfunc;
  // the Perl script's s/.*\/// (the regex read the rest of the name again from every position)
  if (func === '[unknown]') func = mod !== '[unknown]' ? `[${mod.slice(mod.lastIndexOf('/') + 1)}]` : '[unknown]';
  func = func.replace(/;/g, ':');
  // /\.\(.*\)\./: a ".(" before a later ")."
  const open = func.indexOf('.('), close = func.lastIndexOf(').');
  if (!(open >= 0 && close >= open + 2)) func = func.replace(/\((?!anonymous namespace\)).*/, '');
  return func.replace(/["']/g, '');
}

const OFFSET = /\+0x[\da-f]+$/;

/**
 * A sample can straddle two live chunks (a pipe delivers lines as they come), so the sample
 * being read is kept between calls; a blank line ends it, as in the Perl script. Batch chunks
 * are cut after blank lines (cutPoint), so nothing is carried there. perf script ends every
 * sample with a blank line, `perf script | head -N` does not: the end of the input ends the
 * last sample too (end()).
 */
export class Folder {
  /**
   * `markInlined` (--lines=fold): a frame of an `(inlined)` line gets `_[i]`, the mark
   * stackcollapse-perf.pl gives the inlined parts of a `outer->inlined` frame (flamegraph.pl's
   * and inferno's java palettes colour it; kallmod report reads it). Without it perf's own
   * `(inlined)` lines fold as the Perl script folds them, as plain frames.
   */
  constructor(private readonly markInlined = false) {}

  private pname: string | null = null;
  private period = 1;
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
      const comm = eventComm(l);
      if (comm !== null) { this.pname = comm.replace(/ /g, '_'); this.period = samplePeriod(l); continue; }
      const m = stackFrame(l);
      if (m) {
        const f = collapseFrame(m[0], m[1]);
        // leaf first: reversed when the sample ends
        if (f !== null) this.stack.push(this.markInlined && m[1] === 'inlined' && !f.endsWith('_[i]') ? `${f}_[i]` : f);
      }
    }
    return out;
  }

  /** The input has ended: its last sample, when no blank line ended it. */
  end(): string {
    return this.flush();
  }

  /** The sample read so far, as the Perl script remembers it: none without an event line (perf script -F ip,sym has none). */
  private flush(): string {
    const s = this.pname !== null ? `${[this.pname, ...this.stack.reverse()].join(';')} ${this.period}\n` : '';
    this.pname = null; this.period = 1; this.stack = [];
    return s;
  }
}
