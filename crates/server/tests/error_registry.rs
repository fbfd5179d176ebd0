//! One registry of error codes. The server's codes are those of `AppError::examples()` (one
//! error of every kind) and `SocketError::CODES` (the socket's own). This test fails when the
//! web app's list (`web/src/api/errorCodes.json`, from which its types and texts derive)
//! disagrees with the server's, or when some code is produced by no test (no test of the
//! server asserts it).

use std::{collections::BTreeSet, path::Path};

use ssgwan_server::{error::AppError, ws::error::SocketError};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the server crate sits in crates/")
}

fn server_codes() -> BTreeSet<&'static str> {
    AppError::examples()
        .iter()
        .map(AppError::code)
        .chain(SocketError::CODES.iter().copied())
        .collect()
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable test directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_web_app_knows_exactly_the_codes_the_server_sends() {
    let path = repo().join("web/src/api/errorCodes.json");
    let text = std::fs::read_to_string(&path).expect("web/src/api/errorCodes.json");
    let web: Vec<String> = serde_json::from_str(&text).expect("a JSON array of strings");
    let web: BTreeSet<&str> = web.iter().map(String::as_str).collect();
    let server = server_codes();
    let only_server: Vec<_> = server.difference(&web).collect();
    let only_web: Vec<_> = web.difference(&server).collect();
    assert!(
        only_server.is_empty() && only_web.is_empty(),
        "codes only the server has: {only_server:?}; only the web app has: {only_web:?} \
         (edit web/src/api/errorCodes.json and the texts in web/src/i18n)"
    );
}

#[test]
fn every_code_is_produced_by_some_test() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        &mut files,
    );
    let this = Path::new(file!()).file_name().expect("file name");
    let tests: String = files
        .iter()
        .filter(|p| p.file_name() != Some(this))
        .map(|p| std::fs::read_to_string(p).expect("readable test"))
        .collect();
    let unproduced: Vec<_> = server_codes()
        .into_iter()
        // INTERNAL is what a bug looks like; no test can produce it on purpose without one.
        .filter(|code| *code != "INTERNAL")
        .filter(|code| !tests.contains(&format!("\"{code}\"")))
        .collect();
    assert!(
        unproduced.is_empty(),
        "no test of the server produces {unproduced:?}: add one that asserts the code"
    );
}
