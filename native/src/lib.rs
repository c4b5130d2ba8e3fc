//! kallmod's optional Node-API addon: batched address lookups over the TS core's own typed
//! arrays, the whole-chunk perf script rewriter (one call per chunk, never one per line), and
//! a memo of whole lines by their bytes (`kallmod report` and `kallmod flame`: line_memo.rs).
//!
//! No crates: the Node-API functions are declared by hand (napi.rs). Every JS-visible function
//! carries an `Arc` of its state as its data pointer and drops it in a finalizer, so there is no
//! global mutable state and the addon works in any number of worker threads at once.
//! The JS side is native/index.d.ts; the TS loader is packages/core/src/native.ts.

mod js;
mod line_memo;
mod napi;
mod perf;
mod table;
mod xz;

use js::{args, check, kept, make_object, state, throw, Holder, Shared};
use napi::*;
use std::sync::{Arc, Mutex};

/// A table object's state: the lookup over borrowed typed arrays, and the references that keep
/// those arrays alive.
struct TableState {
    table: table::Table,
    holder: Holder,
}

impl Shared for TableState {
    unsafe fn release(&mut self, env: napi_env) {
        self.holder.release(env);
    }
}

/// createTable(keys: Float64Array, ksizes: Float64Array, flags: Uint8Array,
///             exactSizes: Float64Array, types: Uint8Array) → NativeTable
/// The arrays are TableData's own (no copy); they must not be modified or transferred afterwards.
unsafe extern "C" fn create_table(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 5];
    if args(env, info, &mut argv, 5, "createTable(keys, ksizes, flags, exactSizes, types)").is_none() {
        return std::ptr::null_mut();
    }
    let mut holder = Holder::default();
    let arrays = (|| {
        Some((
            kept::<f64>(env, argv[0], FLOAT64, "keys", &mut holder)?,
            kept::<f64>(env, argv[1], FLOAT64, "ksizes", &mut holder)?,
            kept::<u8>(env, argv[2], UINT8, "flags", &mut holder)?,
            kept::<f64>(env, argv[3], FLOAT64, "exactSizes", &mut holder)?,
            kept::<u8>(env, argv[4], UINT8, "types", &mut holder)?,
        ))
    })();
    let Some((keys, ksizes, flags, exact, types)) = arrays else {
        holder.release(env);
        return std::ptr::null_mut();
    };
    let n = keys.len();
    if [ksizes.len(), flags.len(), exact.len(), types.len()].iter().any(|&l| l != n) {
        holder.release(env);
        return throw(env, "createTable: keys, ksizes, flags, exactSizes and types must have the same length");
    }
    let st = Arc::new(TableState { table: table::Table::new(keys, ksizes, flags, exact, types), holder });
    make_object(env, st, &[("lookupBatch", lookup_batch), ("lookup", lookup_one), ("createPerfRewriter", create_perf_rewriter)])
}

/// lookupBatch(keys: Float64Array, out: Int32Array): out[i] = SymbolTable.lookupKey(keys[i]).
unsafe extern "C" fn lookup_batch(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 2];
    let Some(data) = args(env, info, &mut argv, 2, "lookupBatch(keys, out)") else {
        return std::ptr::null_mut();
    };
    let st = state::<TableState>(data);
    let Some(keys) = js::view::<f64>(env, argv[0], FLOAT64, "keys") else { return std::ptr::null_mut() };
    let Some(out) = js::view_mut::<i32>(env, argv[1], INT32, "out") else { return std::ptr::null_mut() };
    if out.len() < keys.len() {
        return throw(env, "lookupBatch: out is shorter than keys");
    }
    st.table.lookup_batch(keys, out);
    js::undefined(env)
}

/// lookup(key: number) → index | -1. One call per address: for tests (slower than the JS index).
unsafe extern "C" fn lookup_one(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 1];
    let Some(data) = args(env, info, &mut argv, 1, "lookup(key)") else {
        return std::ptr::null_mut();
    };
    let mut key = 0f64;
    if !check(napi_get_value_double(env, argv[0], &mut key)) {
        return throw(env, "lookup: key must be a number");
    }
    js::int32(env, state::<TableState>(data).table.lookup(key))
}

/// A perf rewriter's state: its table, and the name and annotation of each symbol it has met,
/// set by the TS side (`table.name(i)`, `table.annotation(i, mode)`: the source of truth).
struct RewriterState {
    table: Option<Arc<TableState>>,
    syms: Mutex<perf::Symbols>,
}

impl Shared for RewriterState {
    unsafe fn release(&mut self, env: napi_env) {
        if let Some(t) = self.table.take() {
            js::release_arc(env, t);
        }
    }
}

/// createPerfRewriter() → { rewriteInto, setSymbol }
unsafe extern "C" fn create_perf_rewriter(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv: [napi_value; 0] = [];
    let Some(data) = args(env, info, &mut argv, 0, "createPerfRewriter()") else {
        return std::ptr::null_mut();
    };
    let table = state::<TableState>(data).clone();
    let n = table.table.len();
    let st = Arc::new(RewriterState { table: Some(table), syms: Mutex::new(perf::Symbols::new(n)) });
    make_object(env, st, &[("rewriteInto", rewrite_into), ("setSymbol", set_symbol)])
}

/// setSymbol(i: number, name: Uint8Array, annotation: Uint8Array): what the rewriter compares
/// (the name, latin1 as the TS scan compares it) and inserts (the annotation, UTF-8). Copied.
unsafe extern "C" fn set_symbol(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 3];
    let Some(data) = args(env, info, &mut argv, 3, "setSymbol(index, name, annotation)") else {
        return std::ptr::null_mut();
    };
    let st = state::<RewriterState>(data);
    let mut i = 0f64;
    if !check(napi_get_value_double(env, argv[0], &mut i)) || i.is_nan() || i < 0.0 || i.fract() != 0.0 {
        return throw(env, "setSymbol: index must be a non-negative integer");
    }
    let Some(name) = js::view::<u8>(env, argv[1], UINT8, "name") else { return std::ptr::null_mut() };
    let Some(ann) = js::view::<u8>(env, argv[2], UINT8, "annotation") else { return std::ptr::null_mut() };
    let ok = st.syms.lock().map(|mut a| a.set(i as usize, name, ann)).unwrap_or(false);
    if !ok {
        return throw(env, "setSymbol: index outside the table");
    }
    js::undefined(env)
}

/// rewriteInto(chunk: Uint8Array, out: Uint8Array, io?: Float64Array) → bytes written.
/// Without io: the whole chunk, or -1 when a line needs the TS scan or out is too small.
/// With io (resumable): starts at line start io[0]; on return io[0] = where it stopped,
/// io[1] = end of the lines for the TS scan (after the last "\n"), io[2] = 0 done | 1 lines
/// for the TS scan | 2 out full | 3 needs symbol io[1] (setSymbol, call again),
/// io[3] = lines from the old io[0] to the new one; io[4] (when io holds 5) = kernel frames of
/// them whose printed name agreed with the address (the TS scan's consistency count).
unsafe extern "C" fn rewrite_into(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 3];
    let mut argc = 3usize;
    let mut data = std::ptr::null_mut();
    if !check(napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), &mut data)) || argc < 2 {
        return throw(env, "usage: rewriteInto(chunk, out, io?)");
    }
    let st = state::<RewriterState>(data);
    let Some(chunk) = js::view::<u8>(env, argv[0], UINT8, "chunk") else { return std::ptr::null_mut() };
    let Some(out) = js::view_mut::<u8>(env, argv[1], UINT8, "out") else { return std::ptr::null_mut() };
    let Some(table) = st.table.as_ref() else { return throw(env, "rewriteInto: released") };
    let mut io: Option<&mut [f64]> = None;
    if argc >= 3 {
        let mut is = false;
        napi_is_typedarray(env, argv[2], &mut is);
        if is {
            let Some(v) = js::view_mut::<f64>(env, argv[2], FLOAT64, "io") else { return std::ptr::null_mut() };
            if v.len() < 4 {
                return throw(env, "rewriteInto: io must hold 4 numbers");
            }
            io = Some(v);
        }
    }
    let from = match &io {
        Some(v) if v[0] >= 0.0 && v[0] <= chunk.len() as f64 => v[0] as usize,
        Some(_) => return throw(env, "rewriteInto: io[0] is outside the chunk"),
        None => 0,
    };
    let Ok(syms) = st.syms.lock() else { return throw(env, "rewriteInto: poisoned") };
    let r = perf::rewrite(&table.table, &syms, chunk, from, out);
    drop(syms);
    match io {
        Some(v) => {
            v[0] = r.at as f64;
            v[1] = r.line_end as f64;
            v[2] = r.stop as u8 as f64;
            v[3] = r.lines as f64;
            if v.len() >= 5 {
                v[4] = r.frames as f64;
            }
            js::double(env, r.written as f64)
        }
        None if r.stop == perf::Stop::Done => js::double(env, r.written as f64),
        None => js::int32(env, -1),
    }
}

/// A line memo's state (line_memo.rs): no napi references to release.
struct MemoState {
    memo: Mutex<line_memo::LineMemo>,
}

impl Shared for MemoState {
    unsafe fn release(&mut self, _env: napi_env) {}
}

/// createLineMemo() → { scan, learn }
unsafe extern "C" fn create_line_memo(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv: [napi_value; 0] = [];
    if args(env, info, &mut argv, 0, "createLineMemo()").is_none() {
        return std::ptr::null_mut();
    }
    let st = Arc::new(MemoState { memo: Mutex::new(line_memo::LineMemo::new()) });
    make_object(env, st, &[("scan", memo_scan), ("learn", memo_learn)])
}

/// Chunks are addressed by i32 offsets in the events (-(start + 2)).
const MEMO_MAX_CHUNK: usize = (i32::MAX - 2) as usize;

/// scan(chunk: Uint8Array, events: Int32Array, io: Float64Array) → events written, one per line
/// from line start io[0]: the line's learnt value (>= 0), -1 for a blank line, -(start + 2) for
/// a line not known. io[0] = where it stopped (a line start; the chunk's length when done).
unsafe extern "C" fn memo_scan(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 3];
    let Some(data) = args(env, info, &mut argv, 3, "scan(chunk, events, io)") else {
        return std::ptr::null_mut();
    };
    let st = state::<MemoState>(data);
    let Some(chunk) = js::view::<u8>(env, argv[0], UINT8, "chunk") else { return std::ptr::null_mut() };
    let Some(events) = js::view_mut::<i32>(env, argv[1], INT32, "events") else { return std::ptr::null_mut() };
    let Some(io) = js::view_mut::<f64>(env, argv[2], FLOAT64, "io") else { return std::ptr::null_mut() };
    if chunk.len() > MEMO_MAX_CHUNK {
        return throw(env, "scan: chunk larger than 2 GiB");
    }
    if io.is_empty() || !(io[0] >= 0.0 && io[0] <= chunk.len() as f64) {
        return throw(env, "scan: io[0] must be a position in the chunk");
    }
    let Ok(memo) = st.memo.lock() else { return throw(env, "scan: poisoned") };
    let (at, k) = memo.scan(chunk, io[0] as usize, events);
    io[0] = at as f64;
    js::double(env, k as f64)
}

/// learn(chunk: Uint8Array, lines: Int32Array, n: number): remember n lines, each three numbers
/// of `lines`: start, end (before its "\n") and value (>= 0).
unsafe extern "C" fn memo_learn(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 3];
    let Some(data) = args(env, info, &mut argv, 3, "learn(chunk, lines, n)") else {
        return std::ptr::null_mut();
    };
    let st = state::<MemoState>(data);
    let Some(chunk) = js::view::<u8>(env, argv[0], UINT8, "chunk") else { return std::ptr::null_mut() };
    let Some(lines) = js::view::<i32>(env, argv[1], INT32, "lines") else { return std::ptr::null_mut() };
    let mut n = 0f64;
    if !check(napi_get_value_double(env, argv[2], &mut n)) || n.is_nan() || n < 0.0 || n * 3.0 > lines.len() as f64 {
        return throw(env, "learn: n must be a count of triples in lines");
    }
    let Ok(mut memo) = st.memo.lock() else { return throw(env, "learn: poisoned") };
    for t in lines[..3 * n as usize].chunks_exact(3) {
        let (s, e) = (t[0] as usize, t[1] as usize);
        if t[0] < 0 || s > e || e > chunk.len() {
            return throw(env, "learn: a line outside the chunk");
        }
        memo.set(&chunk[s..e], t[2]);
    }
    js::undefined(env)
}

/// countLines(buf: Uint8Array) → number of "\n" (the stream driver's chunk line count).
unsafe extern "C" fn count_lines(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 1];
    if args(env, info, &mut argv, 1, "countLines(buf)").is_none() {
        return std::ptr::null_mut();
    }
    let Some(buf) = js::view::<u8>(env, argv[0], UINT8, "buf") else { return std::ptr::null_mut() };
    js::double(env, perf::count_lines(buf) as f64)
}

/// xzDecode(input: Uint8Array) → Buffer of the decoded bytes, or undefined when liblzma refuses
/// the input (the caller's own decoder then says why, in the words every path uses).
#[cfg(liblzma)]
unsafe extern "C" fn xz_decode(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv = [std::ptr::null_mut(); 1];
    if args(env, info, &mut argv, 1, "xzDecode(input)").is_none() {
        return std::ptr::null_mut();
    }
    let Some(input) = js::view::<u8>(env, argv[0], UINT8, "input") else { return std::ptr::null_mut() };
    let Ok(out) = xz::decode(input) else { return js::undefined(env) };
    // the Vec becomes the Buffer's memory, freed by its finalizer: no copy of ~7 MB
    let mut out = std::mem::ManuallyDrop::new(out);
    let (ptr, len, cap) = (out.as_mut_ptr(), out.len(), out.capacity());
    let hint = Box::into_raw(Box::new((len, cap))) as *mut std::ffi::c_void;
    let mut buf = std::ptr::null_mut();
    if !check(napi_create_external_buffer(env, len, ptr as *mut std::ffi::c_void, free_vec, hint, &mut buf)) {
        free_vec(env, ptr as *mut std::ffi::c_void, hint);
        return throw(env, "kallmod native: cannot make the decoded buffer");
    }
    buf
}

#[cfg(liblzma)]
unsafe extern "C" fn free_vec(_env: napi_env, data: *mut std::ffi::c_void, hint: *mut std::ffi::c_void) {
    let (len, cap) = *Box::from_raw(hint as *mut (usize, usize));
    drop(Vec::from_raw_parts(data as *mut u8, len, cap));
}

/// # Safety
/// Called by node once per environment (main thread, each worker) with a valid env and exports.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let fns: [(&std::ffi::CStr, napi_callback); 3] =
        [(c"createTable", create_table), (c"countLines", count_lines), (c"createLineMemo", create_line_memo)];
    #[cfg(liblzma)]
    let fns = [fns[0], fns[1], fns[2], (c"xzDecode", xz_decode as napi_callback)];
    for (name, cb) in fns {
        let mut f = std::ptr::null_mut();
        let ok = check(napi_create_function(env, name.as_ptr(), NAPI_AUTO_LENGTH, cb, std::ptr::null_mut(), &mut f))
            && check(napi_set_named_property(env, exports, name.as_ptr(), f));
        if !ok {
            return throw(env, "kallmod native: cannot register its functions");
        }
    }
    exports
}

/// Node-API version this addon is written against (finalizers need 5; Node 20 has 9).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}
