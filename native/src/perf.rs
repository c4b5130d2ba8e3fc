//! The perf script text rewriter: one call per chunk of whole lines. Lines it recognises as
//! kernel frames get the symbol's annotation inserted (byte-identical to the TS scan); lines it
//! knows the TS scan leaves alone are copied in runs; any other line stops the call so that the
//! caller hands exactly that line to the TS scan and calls again after it (rare lines only).

use crate::table::{key_from_hex, Table};

/// Annotation text per symbol index: blob[offsets[i]..offsets[i+1]] (table.annotation(i, mode)).
pub struct Annotations {
    pub blob: &'static [u8],
    pub offsets: &'static [u32],
}

impl Annotations {
    #[inline]
    fn get(&self, i: usize) -> &[u8] {
        &self.blob[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// Why a call returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stop {
    /// Every line of the chunk was written.
    Done = 0,
    /// The lines [at, line_end) are for the TS scan.
    Defer = 1,
    /// The output is full; the line at `at` was not written.
    Full = 2,
}

pub struct Outcome {
    pub written: usize,
    /// Where the call stopped (a line start).
    pub at: usize,
    /// Defer: end of the run of consecutive lines for the TS scan (after the last "\n").
    pub line_end: usize,
    pub stop: Stop,
    /// Lines between `from` and `at`.
    pub lines: usize,
}

/// What one line is, for the native path.
enum Line {
    /// Copy unchanged.
    Pass,
    /// Insert `ann` at offset `at` (relative to the chunk).
    Insert { at: usize, sym: usize },
    /// Not for the native path.
    Defer,
}

const KERNEL_DSO: &[u8] = b"([kernel.kallsyms])";

/// Classify line [s, e) (e excludes the "\n"; a CR stays in).
#[inline]
fn classify(table: &Table, b: &[u8], s: usize, e: usize) -> Line {
    let line = &b[s..e];
    if line.is_empty() {
        return Line::Pass;
    }
    // callchain frame: leading blanks, hex address, space, symbol, " (dso)"
    let mut p = 0;
    while p < line.len() && (line[p] == b'\t' || line[p] == b' ') {
        p += 1;
    }
    if p == 0 {
        return Line::Defer;
    }
    let h = p;
    while p < line.len() && line[p].is_ascii_hexdigit() {
        p += 1;
    }
    if p == h || p >= line.len() || line[p] != b' ' {
        return Line::Defer;
    }
    if !line.ends_with(KERNEL_DSO) {
        return Line::Defer;
    }
    let dso_at = line.len() - KERNEL_DSO.len();
    if dso_at < p + 2 || line[dso_at - 1] != b' ' {
        return Line::Defer;
    }
    let key = key_from_hex(&line[h..p]);
    let i = table.lookup(key);
    if i < 0 {
        return Line::Defer;
    }
    Line::Insert { at: s + dso_at - 1, sym: i as usize }
}

/// Rewrite chunk[from..] into out; stops at the first lines for the TS scan, or at a line that
/// does not fit (`from` and every stop are line starts, so the caller resumes there).
pub fn rewrite(table: &Table, ann: &Annotations, chunk: &[u8], from: usize, out: &mut [u8]) -> Outcome {
    let cap = out.len();
    let n = chunk.len();
    let mut w = 0usize;
    let mut pos = from;
    let mut lines = 0usize;
    // pending run of unchanged bytes [run, pos); invariant: w + (pos - run) <= cap
    let mut run = pos;
    while pos < n {
        let next = line_end(chunk, pos);
        match classify(table, chunk, pos, content_end(chunk, pos, next)) {
            Line::Pass => {
                if w + (next - run) > cap {
                    return stop_at(chunk, out, run, w, Outcome { written: 0, at: pos, line_end: pos, stop: Stop::Full, lines });
                }
            }
            Line::Insert { at, sym } => {
                let a = ann.get(sym);
                if w + (next - run) + a.len() > cap {
                    return stop_at(chunk, out, run, w, Outcome { written: 0, at: pos, line_end: pos, stop: Stop::Full, lines });
                }
                out[w..w + (at - run)].copy_from_slice(&chunk[run..at]);
                w += at - run;
                out[w..w + a.len()].copy_from_slice(a);
                w += a.len();
                run = at;
            }
            Line::Defer => {
                // hand over the whole run of consecutive lines for the TS scan at once
                let mut end = next;
                while end < n {
                    let e2 = line_end(chunk, end);
                    if !matches!(classify(table, chunk, end, content_end(chunk, end, e2)), Line::Defer) {
                        break;
                    }
                    end = e2;
                }
                return stop_at(chunk, out, run, w, Outcome { written: 0, at: pos, line_end: end, stop: Stop::Defer, lines });
            }
        }
        pos = next;
        lines += 1;
    }
    stop_at(chunk, out, run, w, Outcome { written: 0, at: n, line_end: n, stop: Stop::Done, lines })
}

/// End of the line starting at pos, after its "\n" (or the chunk's end).
#[inline]
fn line_end(chunk: &[u8], pos: usize) -> usize {
    match memchr(b'\n', &chunk[pos..]) {
        Some(k) => pos + k + 1,
        None => chunk.len(),
    }
}

/// End of the line's content (before its "\n", if any).
#[inline]
fn content_end(chunk: &[u8], pos: usize, next: usize) -> usize {
    if next > pos && chunk[next - 1] == b'\n' {
        next - 1
    } else {
        next
    }
}

/// Write the pending run [run, o.at) (it fits: see the invariant) and return the outcome.
fn stop_at(chunk: &[u8], out: &mut [u8], run: usize, w: usize, mut o: Outcome) -> Outcome {
    let len = o.at - run;
    out[w..w + len].copy_from_slice(&chunk[run..o.at]);
    o.written = w + len;
    o
}

/// Position of the first `c` in `s` (word-at-a-time; no crates).
#[inline]
fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pat = LO * c as u64;
    let mut i = 0;
    while i + 8 <= s.len() {
        let v = u64::from_le_bytes(s[i..i + 8].try_into().unwrap()) ^ pat;
        let z = v.wrapping_sub(LO) & !v & HI;
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&b| b == c).map(|k| i + k)
}
