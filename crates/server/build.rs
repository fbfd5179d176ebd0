//! The web app in `web/dist` is built into the binary (`http/web.rs`); this makes cargo rebuild
//! the server whenever that folder changes, including when it first appears.

use std::path::Path;

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    // Cargo reruns a build script whose watched path is missing on every build, which would
    // recompile the server each time while the web app is not built: an empty folder stands in
    // (the binary then serves the API only). `vite build` empties and refills it. Its time is
    // set in the past, or the next build would see a folder newer than this run and rebuild.
    if !dist.exists() {
        let made = std::fs::create_dir_all(&dist).and_then(|()| {
            std::fs::File::open(&dist)?.set_modified(std::time::SystemTime::UNIX_EPOCH)
        });
        if let Err(err) = made {
            println!("cargo:warning=could not create {}: {err}", dist.display());
        }
    }
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-changed=build.rs");
}
