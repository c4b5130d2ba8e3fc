//! A memo of whole lines by their bytes, for `kallmod report` and `kallmod flame` over perf
//! script text: a profile repeats its callchain lines (the same frame, the same bytes) millions
//! of times, and what the TS walker (packages/perf-script/src/samples.ts) made of a frame line
//! depends on its bytes alone. The memo knows nothing of perf's format: the TS side tells it
//! which lines to remember and with what value; it reports, per line of a chunk, that value, a
//! blank line, or "not known" (the TS side then reads that line itself). So both paths count
//! the same samples by construction; only who splits and compares the bytes differs.

/// One remembered line: its bytes at blob[start..start + len], the TS side's value.
struct Entry {
    hash: u64,
    start: u32,
    len: u32,
    value: i32,
}

/// Open addressing over `slots` (entry index + 1; 0 empty), cleared when full: bounded memory
/// (MAX_ENTRIES lines, MAX_BLOB bytes) whatever the input's size.
pub struct LineMemo {
    slots: Vec<u32>,
    entries: Vec<Entry>,
    blob: Vec<u8>,
}

const SLOTS: usize = 1 << 20;
const MAX_ENTRIES: usize = SLOTS / 2;
const MAX_BLOB: usize = 64 << 20;

/// Event values written by `scan`: a line's value (>= 0, as set), a blank line, or a line not
/// known, as -(its start + 2).
pub const BLANK: i32 = -1;

impl Default for LineMemo {
    fn default() -> Self {
        Self::new()
    }
}

impl LineMemo {
    pub fn new() -> LineMemo {
        LineMemo { slots: vec![0; SLOTS], entries: Vec::new(), blob: Vec::new() }
    }

    #[inline]
    fn find(&self, line: &[u8], h: u64) -> Result<i32, usize> {
        let mask = SLOTS - 1;
        let mut s = (h as usize) & mask;
        loop {
            let e = self.slots[s];
            if e == 0 {
                return Err(s);
            }
            let en = &self.entries[(e - 1) as usize];
            if en.hash == h && en.len as usize == line.len() && &self.blob[en.start as usize..en.start as usize + line.len()] == line {
                return Ok(en.value);
            }
            s = (s + 1) & mask;
        }
    }

    /// Remember `line` (its bytes before the "\n") with `value` (>= 0).
    pub fn set(&mut self, line: &[u8], value: i32) {
        if value < 0 || line.len() >= u32::MAX as usize / 2 {
            return;
        }
        if self.entries.len() >= MAX_ENTRIES || self.blob.len() + line.len() > MAX_BLOB {
            self.slots.iter_mut().for_each(|s| *s = 0);
            self.entries.clear();
            self.blob.clear();
            if line.len() > MAX_BLOB {
                return;
            }
        }
        let h = hash(line);
        if let Err(slot) = self.find(line, h) {
            self.entries.push(Entry { hash: h, start: self.blob.len() as u32, len: line.len() as u32, value });
            self.blob.extend_from_slice(line);
            self.slots[slot] = self.entries.len() as u32;
        }
    }

    /// One event per line of chunk[from..] into `events`, until the chunk or `events` ends:
    /// the line's value, BLANK for an empty line (or a lone CR), else -(line start + 2).
    /// Returns (where it stopped: a line start, events written).
    pub fn scan(&self, chunk: &[u8], from: usize, events: &mut [i32]) -> (usize, usize) {
        let n = chunk.len();
        let mut pos = from;
        let mut k = 0;
        while pos < n && k < events.len() {
            let nl = match crate::perf::memchr(b'\n', &chunk[pos..]) {
                Some(d) => pos + d,
                None => n,
            };
            let line = &chunk[pos..nl];
            events[k] = if line.is_empty() || line == b"\r" {
                BLANK
            } else {
                match self.find(line, hash(line)) {
                    Ok(v) => v,
                    Err(_) => -(pos as i32) - 2,
                }
            };
            k += 1;
            pos = nl + 1;
        }
        (pos.min(n), k)
    }
}

/// A fast 64-bit hash of a line (8 bytes at a time, FxHash's multiply-rotate, then a final mix).
#[inline]
fn hash(s: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = s.len() as u64;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w.try_into().unwrap())).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_known_blank_and_unknown() {
        let mut m = LineMemo::new();
        let text = b"head\n\tffff1 a\n\n\tuser x\r\n\r\n\tffff1 a";
        m.set(b"\tffff1 a", 6);
        m.set(b"\tuser x\r", 4);
        let mut ev = [0i32; 16];
        let (at, k) = m.scan(text, 0, &mut ev);
        assert_eq!(at, text.len());
        assert_eq!(&ev[..k], &[-2, 6, BLANK, 4, BLANK, 6]);
        // resumable: a short events array stops at a line start
        let (at, k) = m.scan(text, 0, &mut ev[..2]);
        assert_eq!((at, k), (14, 2));
        let (_, k) = m.scan(text, at, &mut ev);
        assert_eq!(&ev[..k], &[BLANK, 4, BLANK, 6]);
    }

    #[test]
    fn cleared_when_full_never_wrong() {
        let mut m = LineMemo::new();
        for i in 0..(MAX_ENTRIES + 10) {
            m.set(format!("line {i}").as_bytes(), i as i32);
        }
        let mut ev = [0i32; 4];
        let t = format!("line {}\nline 3\n", MAX_ENTRIES + 5);
        let (_, k) = m.scan(t.as_bytes(), 0, &mut ev);
        assert_eq!(&ev[..k], &[(MAX_ENTRIES + 5) as i32, -(6 + (MAX_ENTRIES + 5).to_string().len() as i32) - 2]);
    }
}
