//! xz decoding by the system's liblzma (linked statically by build.rs when its archive is
//! there): the decoder of xz itself, ~2x the speed of the npm one on a saved kallsyms.xz, which
//! was most of a raw-kallsyms start-up. Only with `cfg(liblzma)`; the TS caller falls back.
#![cfg(liblzma)]

use std::ffi::c_void;

/// lzma_stream (lzma/base.h), every field; LZMA_STREAM_INIT is all zero.
#[repr(C)]
struct LzmaStream {
    next_in: *const u8,
    avail_in: usize,
    total_in: u64,
    next_out: *mut u8,
    avail_out: usize,
    total_out: u64,
    allocator: *const c_void,
    internal: *mut c_void,
    reserved_ptr: [*mut c_void; 4],
    seek_pos: u64,
    reserved_int2: u64,
    reserved_int3: usize,
    reserved_int4: usize,
    reserved_enum1: i32,
    reserved_enum2: i32,
}

extern "C" {
    fn lzma_stream_decoder(strm: *mut LzmaStream, memlimit: u64, flags: u32) -> i32;
    fn lzma_code(strm: *mut LzmaStream, action: i32) -> i32;
    fn lzma_end(strm: *mut LzmaStream);
}

const LZMA_OK: i32 = 0;
const LZMA_STREAM_END: i32 = 1;
const LZMA_FINISH: i32 = 3;
/// As `xz -dc`: streams one after another are one output.
const LZMA_CONCATENATED: u32 = 0x08;

/// The whole of `input` decoded, or liblzma's return code when it is not a good xz file.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, i32> {
    // SAFETY: an all-zero lzma_stream is LZMA_STREAM_INIT; the pointers handed to liblzma stay
    // valid for each lzma_code call (input borrowed, `out` not reallocated during a call)
    unsafe {
        let mut s: LzmaStream = std::mem::zeroed();
        let r = lzma_stream_decoder(&mut s, u64::MAX, LZMA_CONCATENATED);
        if r != LZMA_OK {
            return Err(r);
        }
        // a kallsyms compresses ~8x: start there and grow by doubling
        let mut out: Vec<u8> = Vec::with_capacity(input.len().saturating_mul(12).max(1 << 16));
        s.next_in = input.as_ptr();
        s.avail_in = input.len();
        let result = loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity());
            }
            let spare = out.capacity() - out.len();
            s.next_out = out.as_mut_ptr().add(out.len());
            s.avail_out = spare;
            let r = lzma_code(&mut s, LZMA_FINISH);
            out.set_len(out.len() + (spare - s.avail_out));
            match r {
                LZMA_STREAM_END => break Ok(()),
                LZMA_OK => continue,
                e => break Err(e),
            }
        };
        lzma_end(&mut s);
        result.map(|()| out)
    }
}
