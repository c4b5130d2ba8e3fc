//! Address → symbol index over the TS core's own typed arrays (TableData.keys, ksizes, flags,
//! exactSizes, types), with the same answer as `SymbolTable.lookupKey`: the floor symbol (first
//! of its aliases, which the table sorts preferred-first), never an absolute symbol, accepted
//! only within its size. Keep in step with symbol-table.ts (the property test compares them).

/// TableData.flags bit: exactSizes[i] is known (symbol-table.ts F_EXACT_SIZE).
const F_EXACT_SIZE: u8 = 8;
/// Last symbol of a block with no known size: accepted within a page, as perf does.
const UNKNOWN_SIZE_SLACK: f64 = 4096.0;
/// Keys from here on are kernel-half addresses (address.ts KERNEL_BASE = 2^48).
const KERNEL_BASE: f64 = 281474976710656.0;

/// Borrowed views of the JS typed arrays. The arrays are kept alive by napi references held
/// next to this struct (lib.rs), so the slices stay valid for its whole life.
pub struct Table {
    keys: &'static [f64],
    ksizes: &'static [f64],
    flags: &'static [u8],
    exact: &'static [f64],
    types: &'static [u8],
    /// Bucket j holds the first index whose key is >= base + j·width (as the TS index).
    buckets: Vec<u32>,
    base: f64,
    width: f64,
}

impl Table {
    pub fn new(keys: &'static [f64], ksizes: &'static [f64], flags: &'static [u8], exact: &'static [f64], types: &'static [u8]) -> Table {
        let n = keys.len();
        let mut t = Table { keys, ksizes, flags, exact, types, buckets: vec![0], base: 0.0, width: 2.0 };
        if n == 0 {
            return t;
        }
        // Same parameters as SymbolTable.buildBuckets (about one bucket per symbol), over the
        // kernel half only: absolute per-CPU symbols at 0x0... would stretch the span.
        let mut first = 0;
        while first < n && keys[first] < KERNEL_BASE {
            first += 1;
        }
        if first == n {
            first = 0;
        }
        let base = keys[first];
        let span = keys[n - 1] - base + 1.0;
        let cap = (2f64.powi(21)).min(1024f64.max(4.0 * n as f64));
        let mut shift = 0;
        while span / 2f64.powi(shift) > cap {
            shift += 1;
        }
        let width = 2f64.powi(shift);
        let nb = (span / width).ceil() as usize + 2;
        let mut b = Vec::with_capacity(nb);
        let mut i = first;
        for j in 0..nb {
            let start = base + j as f64 * width;
            while i < n && keys[i] < start {
                i += 1;
            }
            b.push(i as u32);
        }
        t.buckets = b;
        t.base = base;
        t.width = width;
        t
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Index of the last symbol starting at or below key (first alias), or -1.
    #[inline]
    pub fn floor_index(&self, key: f64) -> isize {
        let keys = self.keys;
        if keys.is_empty() {
            return -1;
        }
        let off = key - self.base;
        // below the indexed region (user-half keys of a 64-bit table) or NaN: nothing (as TS)
        if off.is_nan() || off < 0.0 {
            return -1;
        }
        let mut i: isize = {
            let j = (off / self.width).floor();
            if j + 1.0 >= self.buckets.len() as f64 {
                keys.len() as isize - 1
            } else {
                self.buckets[j as usize + 1] as isize - 1
            }
        };
        while i >= 0 && keys[i as usize] > key {
            i -= 1;
        }
        if i < 0 {
            return -1;
        }
        let k = keys[i as usize];
        while i > 0 && keys[i as usize - 1] == k {
            i -= 1;
        }
        i
    }

    /// Index of the symbol containing key, or -1 (SymbolTable.lookupKey).
    #[inline]
    pub fn lookup(&self, key: f64) -> i32 {
        let i = self.floor_index(key);
        if i < 0 {
            return -1;
        }
        let i = i as usize;
        if self.types[i] | 32 == b'a' {
            return -1; // absolute symbols (per-CPU offsets) are not code addresses
        }
        let off = key - self.keys[i];
        let ks = self.ksizes[i];
        let hit = if ks > 0.0 {
            off < ks
        } else if self.flags[i] & F_EXACT_SIZE != 0 {
            off < self.exact[i].max(1.0)
        } else {
            off < UNKNOWN_SIZE_SLACK
        };
        if hit {
            i as i32
        } else {
            -1
        }
    }

    pub fn lookup_batch(&self, keys: &[f64], out: &mut [i32]) {
        for (o, &k) in out.iter_mut().zip(keys) {
            *o = self.lookup(k);
        }
    }
}

/// Key of an address split in 32-bit halves, as address.ts keyFromParts (same double arithmetic).
#[inline]
pub fn key_from_parts(hi: f64, lo: f64) -> f64 {
    const TWO32: f64 = 4294967296.0;
    if hi >= 4294901760.0 {
        (hi - 4294901760.0) * TWO32 + lo + 281474976710656.0
    } else if hi < 65536.0 {
        hi * TWO32 + lo
    } else {
        f64::NAN // not canonical: it would fold onto a kernel key (address.ts)
    }
}
