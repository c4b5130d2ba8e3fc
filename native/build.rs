//! Links the system's liblzma statically when its archive is there (Debian: liblzma-dev), for
//! `xzDecode`: the decoder xz itself uses, ~2x faster than the npm one on a kallsyms.xz. Without
//! it (or with KALLMOD_NO_LIBLZMA set) the addon builds and loads as before, with no `xzDecode`:
//! the TypeScript caller falls back.
use std::path::Path;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(liblzma)");
    println!("cargo:rerun-if-env-changed=KALLMOD_LIBLZMA_DIR");
    println!("cargo:rerun-if-env-changed=KALLMOD_NO_LIBLZMA");
    // KALLMOD_NO_LIBLZMA=1: build the addon as a machine without liblzma.a would
    if std::env::var_os("KALLMOD_NO_LIBLZMA").is_some() {
        return;
    }
    let mut dirs: Vec<String> = std::env::var("KALLMOD_LIBLZMA_DIR").into_iter().collect();
    let triple = std::env::var("TARGET").unwrap_or_default().replace("-unknown-", "-");
    dirs.extend([format!("/usr/lib/{triple}"), "/usr/lib64".into(), "/usr/lib".into(), "/usr/local/lib".into()]);
    if let Some(dir) = dirs.iter().find(|d| Path::new(d).join("liblzma.a").is_file()) {
        println!("cargo:rerun-if-changed={dir}/liblzma.a");
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=static=lzma");
        println!("cargo:rustc-cfg=liblzma");
    } else {
        println!("cargo:warning=no liblzma.a (apt-get install liblzma-dev): the addon is built without xzDecode");
    }
}
