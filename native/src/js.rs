//! Small safe-ish helpers over the raw Node-API calls: arguments, typed array views, errors,
//! and objects whose functions share one `Arc` state released by finalizers.

use crate::napi::*;
use std::ffi::{c_void, CString};
use std::sync::Arc;

pub fn check(s: napi_status) -> bool {
    s == NAPI_OK
}

/// Throw a JS Error with this message; returns the null napi_value a callback then returns.
pub unsafe fn throw(env: napi_env, msg: &str) -> napi_value {
    let m = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    napi_throw_error(env, std::ptr::null(), m.as_ptr());
    std::ptr::null_mut()
}

pub unsafe fn undefined(env: napi_env) -> napi_value {
    let mut v = std::ptr::null_mut();
    napi_get_undefined(env, &mut v);
    v
}

pub unsafe fn int32(env: napi_env, x: i32) -> napi_value {
    let mut v = std::ptr::null_mut();
    napi_create_int32(env, x, &mut v);
    v
}

pub unsafe fn double(env: napi_env, x: f64) -> napi_value {
    let mut v = std::ptr::null_mut();
    napi_create_double(env, x, &mut v);
    v
}

/// Fill argv with the call's arguments (at least `need`), return the function's data pointer,
/// or throw a usage error and return None.
pub unsafe fn args(env: napi_env, info: napi_callback_info, argv: &mut [napi_value], need: usize, usage: &str) -> Option<*mut c_void> {
    let mut argc = argv.len();
    let mut data = std::ptr::null_mut();
    if !check(napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), &mut data)) || argc < need {
        throw(env, &format!("usage: {usage}"));
        return None;
    }
    Some(data)
}

/// Element type code (napi_typedarray_type) of T; Uint8 also accepts Buffer/Uint8ClampedArray/Int8.
unsafe fn raw_view(env: napi_env, v: napi_value, kind: i32, what: &str) -> Option<(*mut c_void, usize)> {
    let mut is = false;
    if !check(napi_is_typedarray(env, v, &mut is)) || !is {
        throw(env, &format!("{what}: expected a typed array"));
        return None;
    }
    let (mut k, mut len, mut data, mut off) = (0i32, 0usize, std::ptr::null_mut(), 0usize);
    if !check(napi_get_typedarray_info(env, v, &mut k, &mut len, &mut data, std::ptr::null_mut(), &mut off)) {
        throw(env, &format!("{what}: cannot read the typed array"));
        return None;
    }
    let bytes_ok = kind == UINT8 && (k == INT8 || k == UINT8_CLAMPED);
    if k != kind && !bytes_ok {
        throw(env, &format!("{what}: wrong typed array type ({k}, expected {kind})"));
        return None;
    }
    // a zero-length array may report a null data pointer; `data` is already offset
    if data.is_null() || len == 0 {
        return Some((std::ptr::NonNull::<u64>::dangling().as_ptr() as *mut c_void, 0));
    }
    Some((data, len))
}

/// A view of a typed array argument, valid for this call only.
pub unsafe fn view<'a, T>(env: napi_env, v: napi_value, kind: i32, what: &str) -> Option<&'a [T]> {
    raw_view(env, v, kind, what).map(|(p, n)| std::slice::from_raw_parts(p as *const T, n))
}

pub unsafe fn view_mut<'a, T>(env: napi_env, v: napi_value, kind: i32, what: &str) -> Option<&'a mut [T]> {
    raw_view(env, v, kind, what).map(|(p, n)| std::slice::from_raw_parts_mut(p as *mut T, n))
}

/// napi references that keep borrowed typed arrays alive; released (with an env) when the
/// state that borrows them is dropped by the last finalizer.
#[derive(Default)]
pub struct Holder {
    refs: Vec<napi_ref>,
}

impl Holder {
    pub unsafe fn release(&mut self, env: napi_env) {
        for r in self.refs.drain(..) {
            napi_delete_reference(env, r);
        }
    }
}

// The refs are only created, used and deleted on the thread of the env that owns them.
unsafe impl Send for Holder {}
unsafe impl Sync for Holder {}

/// A typed array argument kept alive (and borrowed) for as long as `holder` lives.
pub unsafe fn kept<T>(env: napi_env, v: napi_value, kind: i32, what: &str, holder: &mut Holder) -> Option<&'static [T]> {
    let s = view::<T>(env, v, kind, what)?;
    let mut r = std::ptr::null_mut();
    if !check(napi_create_reference(env, v, 1, &mut r)) {
        throw(env, &format!("{what}: cannot keep a reference"));
        return None;
    }
    holder.refs.push(r);
    Some(s)
}

/// State shared by a JS object's functions; `release` frees its napi references.
pub trait Shared: Send + Sync + 'static {
    unsafe fn release(&mut self, env: napi_env);
}

/// Drop one function's Arc; the last one releases the state's references.
pub unsafe fn release_arc<S: Shared>(env: napi_env, a: Arc<S>) {
    if let Ok(mut s) = Arc::try_unwrap(a) {
        s.release(env);
    }
}

unsafe extern "C" fn finalize<S: Shared>(env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    let b = Box::from_raw(data as *mut Arc<S>);
    release_arc(env, *b);
}

/// The state a function was created with (its data pointer is a Box<Arc<S>>).
pub unsafe fn state<'a, S>(data: *mut c_void) -> &'a Arc<S> {
    &*(data as *const Arc<S>)
}

/// A plain object whose named functions each hold a clone of `state` and drop it when collected.
pub unsafe fn make_object<S: Shared>(env: napi_env, state: Arc<S>, fns: &[(&str, napi_callback)]) -> napi_value {
    let mut obj = std::ptr::null_mut();
    if !check(napi_create_object(env, &mut obj)) {
        release_arc(env, state);
        return throw(env, "cannot create an object");
    }
    for (name, cb) in fns {
        let cname = CString::new(*name).unwrap_or_default();
        let data = Box::into_raw(Box::new(state.clone())) as *mut c_void;
        let mut f = std::ptr::null_mut();
        let ok = check(napi_create_function(env, cname.as_ptr(), NAPI_AUTO_LENGTH, *cb, data, &mut f))
            && check(napi_add_finalizer(env, f, data, finalize::<S>, std::ptr::null_mut(), std::ptr::null_mut()))
            && check(napi_set_named_property(env, obj, cname.as_ptr(), f));
        if !ok {
            // the function may exist without its finalizer: leak this one clone rather than free it twice
            release_arc(env, state);
            return throw(env, &format!("cannot create function {name}"));
        }
    }
    release_arc(env, state);
    obj
}
