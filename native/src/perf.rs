//! The perf script text rewriter: one call per chunk of whole lines, byte-identical to the TS
//! scan (packages/perf-script/src/scan.ts, the reference; keep the two in step). Lines whose
//! outcome it knows are copied in runs or get the symbol's annotation inserted; any other line
//! stops the call so that the caller hands that run of lines to the TS scan and calls again.
//!
//! What it decides alone (everything else goes to the TS scan):
//!   "\tffffffff816b8aab vfs_read+0xbb ([kernel.kallsyms])"  → " [mod] {obj.o}" after the name,
//!       when the address lies in a symbol of exactly the printed name (scan.ts's fast path)
//!   "\t           f82ad read+0xd (/usr/lib/.../libc.so.6)"  → unchanged: not a kernel address
//!   "\tffffffff........ [unknown] ([unknown])", bare "\tffffffff........" → unchanged when the
//!       address is in no symbol
//!   "dd 18806 [000]  1109.575586:     250000 cpu-clock:ppp: " → unchanged: a sample header
//!       with no kernel address token ("ffff...") and no branch record (4 "/")

use crate::table::{key_from_parts, Table};

/// What the rewriter knows of a symbol, set by the TS side the first time it meets it: its name
/// (latin1 bytes, as the TS scan compares them) and its annotation (`table.annotation(i, mode)`
/// as UTF-8, the source of truth). A profile touches a few thousand of ~10^5 symbols.
pub struct Symbols {
    /// name at blob[start[i]..+name_len[i]], annotation right after it (ann_len[i] bytes)
    start: Vec<u32>,
    name_len: Vec<u32>,
    ann_len: Vec<u32>,
    blob: Vec<u8>,
}

const UNKNOWN: u32 = u32::MAX;

impl Symbols {
    pub fn new(n: usize) -> Symbols {
        Symbols { start: vec![UNKNOWN; n], name_len: vec![0; n], ann_len: vec![0; n], blob: Vec::new() }
    }

    /// (name, annotation) of symbol i, None until set.
    #[inline]
    fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let s = self.start[i];
        if s == UNKNOWN {
            return None;
        }
        let (s, nl, al) = (s as usize, self.name_len[i] as usize, self.ann_len[i] as usize);
        Some((&self.blob[s..s + nl], &self.blob[s + nl..s + nl + al]))
    }

    pub fn set(&mut self, i: usize, name: &[u8], ann: &[u8]) -> bool {
        if i >= self.start.len() || self.blob.len() + name.len() + ann.len() >= UNKNOWN as usize {
            return false;
        }
        self.start[i] = self.blob.len() as u32;
        self.name_len[i] = name.len() as u32;
        self.ann_len[i] = ann.len() as u32;
        self.blob.extend_from_slice(name);
        self.blob.extend_from_slice(ann);
        true
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
    /// The line at `at` needs symbol `line_end`'s name and annotation (set them, call again).
    NeedSymbol = 3,
}

pub struct Outcome {
    pub written: usize,
    /// Where the call stopped (a line start).
    pub at: usize,
    /// Defer: end of the run of consecutive lines for the TS scan (after the last "\n");
    /// NeedSymbol: the symbol index.
    pub line_end: usize,
    pub stop: Stop,
    /// Lines between `from` and `at`.
    pub lines: usize,
    /// Of them, kernel frames whose printed name the address confirmed (the TS scan's
    /// `consistency.checked` on its fast path: both paths count the same references).
    pub frames: usize,
}

/// What one line is, for the native path.
enum Line {
    /// Copy unchanged.
    Pass,
    /// Insert the annotation `ann` (a range of the symbols' blob) at chunk offset `at`.
    Insert { at: usize, sym: usize },
    /// Symbol `sym` is not known yet.
    Need(usize),
    /// For the TS scan.
    Defer,
}

/// Classify the line starting at s: `e` is its content end (before the "\n" and a CR before
/// it), `b` the whole chunk. Mirrors scan.ts `Scanner.chunk`: its fast path (address, then the
/// name of the symbol there) is decided here; where scan.ts would take its general path and
/// might write something, the line goes to the TS scan.
#[inline]
fn classify(table: &Table, syms: &Symbols, b: &[u8], s: usize, e: usize) -> Line {
    let n = b.len();
    let c = b[s];
    if c != b'\t' && c != b' ' {
        // "\n" alone, a CR alone, or a header line
        return if e > s && c != b'\n' && header_has_candidates(&b[s..e]) { Line::Defer } else { Line::Pass };
    }
    // callchain line: indentation, then a kernel address: 16 hex digits, "ffff" first
    let mut p = s + 1;
    while p < n && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    if !(p + 16 <= n && &b[p..p + 4] == b"ffff") {
        // not a kernel address: a right-aligned sample header ("   comm  pid ...", also a comm
        // such as "cat" that reads as hex), a " 0x..." brstack line or a user-space frame
        // user-space frame ("   7f12a0b1 read+0xd (libc.so.6)"), which is left alone
        return if p < n && b[p] != b'\n' && e > p && not_user_frame(&b[p..e]) && header_has_candidates(&b[s..e]) {
            Line::Defer
        } else {
            Line::Pass
        };
    }
    let key = hex16(&b[p..p + 16]);
    if p + 16 == n || b[p + 16] != b' ' {
        // only a bare address ("-F ip") is a frame here: " <name ...>" when it resolves
        return if p + 16 == e && !key.is_nan() && table.lookup(key) >= 0 { Line::Defer } else { Line::Pass };
    }
    if key.is_nan() {
        return Line::Pass; // not hex: not a frame
    }
    let i = table.lookup(key);
    let ns = p + 17;
    if i >= 0 {
        let Some((name, _)) = syms.get(i as usize) else {
            return Line::Need(i as usize);
        };
        // the fast path: the printed name is the symbol's, then "+", " " or the line's end
        let ne = ns + name.len();
        if ne <= n && &b[ns..ne] == name && (ne == n || matches!(b[ne], b'+' | b' ' | b'\n' | b'\r')) {
            return Line::Insert { at: ne, sym: i as usize };
        }
        return Line::Defer; // aliases, address - 1, inlined, the printed name: the TS scan's rules
    }
    // in no symbol: only a name-based answer could add text; "[unknown]" and nothing have none
    if ns >= e {
        return Line::Pass;
    }
    let mut t = ns;
    while t < e && b[t] != b' ' {
        t += 1;
    }
    if t - ns == 9 && b[ns] == b'[' && b[ns + 8] == b']' && b[ns + 1] == b'u' {
        return Line::Pass;
    }
    Line::Defer
}

/// Key of 16 hex digits (NaN when one is not hex), as address.ts keyFromHexBytes.
#[inline]
fn hex16(d: &[u8]) -> f64 {
    let (mut hi, mut lo, mut bad) = (0u32, 0u32, 0u8);
    for k in 0..8 {
        let v = HEX[d[k] as usize];
        bad |= v;
        hi = (hi << 4) | (v & 15) as u32;
    }
    for k in 8..16 {
        let v = HEX[d[k] as usize];
        bad |= v;
        lo = (lo << 4) | (v & 15) as u32;
    }
    if bad > 15 {
        f64::NAN
    } else {
        key_from_parts(hi as f64, lo as f64)
    }
}

/// Could the TS scan change this unindented line? Only through a kernel address token ("ffff"
/// + 12 hex digits) or a branch record (a token with 4 "/"); a sample header has neither.
#[inline]
fn header_has_candidates(line: &[u8]) -> bool {
    let mut slashes = 0;
    for (k, &c) in line.iter().enumerate() {
        if c == b'/' {
            slashes += 1;
            if slashes >= 4 {
                return true;
            }
        } else if c == b'f' && line.len() >= k + 4 && &line[k..k + 4] == b"ffff" {
            return true;
        }
    }
    false
}

/// An indented line's content that is not a user-space frame: its first token is not all hex
/// digits (a comm, a brstack token), or the next one is a pid. Mirrors scan.ts notUserFrame.
#[inline]
fn not_user_frame(l: &[u8]) -> bool {
    let n = l.len();
    let mut k = 0;
    while k < n && l[k] != b' ' && l[k] != b'\t' {
        if !matches!(l[k], b'0'..=b'9' | b'a'..=b'f') {
            return true; // lower case, as scan.ts isHexDigit
        }
        k += 1;
    }
    while k < n && (l[k] == b' ' || l[k] == b'\t') {
        k += 1;
    }
    // a pid, or pid/tid
    let d = k;
    k = digits_end(l, k);
    if k == d {
        return false;
    }
    if k < n && l[k] == b'/' {
        let t = k + 1;
        k = digits_end(l, t);
        if k == t {
            return false;
        }
    }
    k == n || l[k] == b' ' || l[k] == b'\t'
}

#[inline]
fn digits_end(l: &[u8], mut k: usize) -> usize {
    while k < l.len() && l[k].is_ascii_digit() {
        k += 1;
    }
    k
}

/// Hex digit values; 0xff for any other byte.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Rewrite chunk[from..] into out; stops at the first lines for the TS scan, a symbol it does
/// not know yet, or a line that does not fit (`from` and every stop are line starts).
pub fn rewrite(table: &Table, syms: &Symbols, chunk: &[u8], from: usize, out: &mut [u8]) -> Outcome {
    let cap = out.len();
    let n = chunk.len();
    let mut w = 0usize;
    let mut pos = from;
    let mut lines = 0usize;
    let mut frames = 0usize;
    // pending run of unchanged bytes [run, pos); invariant: w + (pos - run) <= cap
    let mut run = pos;
    while pos < n {
        let next = line_end(chunk, pos);
        let stop = |o: Stop, line_end: usize| Outcome { written: 0, at: pos, line_end, stop: o, lines, frames };
        match classify(table, syms, chunk, pos, content_end(chunk, pos, next)) {
            Line::Pass => {
                if w + (next - run) > cap {
                    return stop_at(chunk, out, run, w, stop(Stop::Full, pos));
                }
            }
            Line::Insert { at, sym } => {
                let (_, a) = syms.get(sym).unwrap_or((&[], &[]));
                if a.is_empty() {
                    // nothing to add (a core-kernel symbol): the line joins the unchanged run
                    if w + (next - run) > cap {
                        return stop_at(chunk, out, run, w, stop(Stop::Full, pos));
                    }
                    pos = next;
                    lines += 1;
                    frames += 1;
                    continue;
                }
                if w + (next - run) + a.len() > cap {
                    return stop_at(chunk, out, run, w, stop(Stop::Full, pos));
                }
                out[w..w + (at - run)].copy_from_slice(&chunk[run..at]);
                w += at - run;
                out[w..w + a.len()].copy_from_slice(a);
                w += a.len();
                run = at;
                frames += 1;
            }
            Line::Need(sym) => return stop_at(chunk, out, run, w, stop(Stop::NeedSymbol, sym)),
            Line::Defer => {
                // hand the whole run of consecutive lines for the TS scan over at once
                let mut end = next;
                while end < n {
                    let e2 = line_end(chunk, end);
                    if !matches!(classify(table, syms, chunk, end, content_end(chunk, end, e2)), Line::Defer) {
                        break;
                    }
                    end = e2;
                }
                return stop_at(chunk, out, run, w, stop(Stop::Defer, end));
            }
        }
        pos = next;
        lines += 1;
    }
    stop_at(chunk, out, run, w, Outcome { written: 0, at: n, line_end: n, stop: Stop::Done, lines, frames })
}

/// End of the line starting at pos, after its "\n" (or the chunk's end).
#[inline]
fn line_end(chunk: &[u8], pos: usize) -> usize {
    match memchr(b'\n', &chunk[pos..]) {
        Some(k) => pos + k + 1,
        None => chunk.len(),
    }
}

/// End of the line's content: before its "\n" and a CR before that (scan.ts: a CR stays in
/// the output, after any insertion).
#[inline]
fn content_end(chunk: &[u8], pos: usize, next: usize) -> usize {
    let mut e = next;
    if e > pos && chunk[e - 1] == b'\n' {
        e -= 1;
    }
    if e > pos && chunk[e - 1] == b'\r' {
        e -= 1;
    }
    e
}

/// Write the pending run [run, o.at) (it fits: see the invariant) and return the outcome.
fn stop_at(chunk: &[u8], out: &mut [u8], run: usize, w: usize, mut o: Outcome) -> Outcome {
    let len = o.at - run;
    out[w..w + len].copy_from_slice(&chunk[run..o.at]);
    o.written = w + len;
    o
}

/// Position of the first `c` in `s`: 16 bytes at a time with SSE2 (every x86-64 has it), else
/// a word at a time (no crates).
#[inline]
pub(crate) fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        // SAFETY: SSE2 is part of the x86-64 baseline; loads are unaligned and within s
        unsafe {
            let pat = _mm_set1_epi8(c as i8);
            while i + 16 <= s.len() {
                let v = _mm_loadu_si128(s.as_ptr().add(i) as *const _);
                let m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, pat)) as u32;
                if m != 0 {
                    return Some(i + m.trailing_zeros() as usize);
                }
                i += 16;
            }
        }
    }
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pat = LO * c as u64;
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

/// Number of "\n" in s (word at a time).
pub fn count_lines(s: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    let pat = LO * b'\n' as u64;
    let mut n = 0usize;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().unwrap()) ^ pat;
        // exact per-byte zero test (no borrow across bytes): high bit set where the byte is 0
        let z = !(((v & 0x7f7f_7f7f_7f7f_7f7f) + 0x7f7f_7f7f_7f7f_7f7f) | v) & 0x8080_8080_8080_8080;
        n += z.count_ones() as usize;
    }
    n + chunks.remainder().iter().filter(|&&b| b == b'\n').count()
}
