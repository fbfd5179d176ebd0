//! The `ssgwan` binary itself: help, configuration errors, migrate, and graceful shutdown.

#[path = "common/child.rs"]
mod child;

use std::{process::Stdio, time::Duration};

// Settings from the developer's shell must not leak into these runs.
use child::{ssgwan, start_server};

#[test]
fn help_lists_every_setting_with_its_environment_twin() {
    let output = ssgwan().args(["serve", "--help"]).output().expect("ran");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--addr",
        "--data-dir",
        "--database-url",
        "--public-url",
        "--dev-login",
        "--log-format",
        "--web-dir",
        "--kakao-client-id",
        "--kakao-client-secret",
        "--kakao-auth-url",
        "--kakao-token-url",
        "--kakao-user-url",
        "--header-timeout-secs",
        "--idle-timeout-secs",
        "--max-connections",
        "--metrics-token",
        "--session-cache-ttl-ms",
        "--media",
        "--media-udp-addr",
        "--media-tcp-addr",
        "--media-public-ip",
    ] {
        assert!(help.contains(flag), "{flag} missing from serve --help");
        let env = format!(
            "SSGWAN_{}",
            flag.trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase()
        );
        assert!(help.contains(&env), "{env} missing from serve --help");
    }
    let top =
        String::from_utf8_lossy(&ssgwan().arg("--help").output().expect("ran").stdout).to_string();
    assert!(top.contains("serve") && top.contains("migrate"));
}

#[test]
fn bad_configuration_fails_fast_with_a_clear_message_and_no_secret() {
    let output = ssgwan()
        .args([
            "serve",
            "--database-url",
            "oracle://scott:tiger-secret@db/x",
        ])
        .output()
        .expect("ran");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--database-url must start with"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tiger-secret"),
        "the URL's password leaked: {stderr}"
    );

    let output = ssgwan()
        .args(["serve", "--public-url", "ftp://x"])
        .output()
        .expect("ran");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--public-url"));
}

/// Under a low open-file limit the server lowers its connection cap below it and says so;
/// the metrics token never reaches the log.
#[test]
fn a_low_open_file_limit_lowers_the_connection_cap_with_a_warning() {
    let dir = tempfile::tempdir().expect("dir");
    let binary = ssgwan().get_program().to_owned();
    let mut command = std::process::Command::new("sh");
    for (key, _) in std::env::vars() {
        if key.starts_with("SSGWAN_") {
            command.env_remove(key);
        }
    }
    command
        .arg("-c")
        .arg(r#"ulimit -n 400 && exec "$0" "$@""#)
        .arg(binary)
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("SSGWAN_METRICS_TOKEN", "very-secret-metrics-token")
        .stderr(Stdio::null());
    let mut server = start_server(command);
    let log = server.log_text();
    // 400 files, less 256 and the pool of 16, leave 128 for connections.
    assert!(log.contains("the open-file limit is low"), "{log}");
    assert!(log.contains("\"max_connections\":128"), "{log}");
    assert!(
        !log.contains("very-secret-metrics-token"),
        "the token leaked: {log}"
    );
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(15)).success());
}

#[test]
fn migrate_creates_the_database_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("dir");
    for _ in 0..2 {
        let status = ssgwan()
            .args(["migrate", "--data-dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ran");
        assert!(status.success());
    }
    assert!(dir.path().join("ssgwan.db").is_file());
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let mut command = ssgwan();
    command
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .stderr(Stdio::null());
    // Returns once the server logged that it listens.
    let mut server = start_server(command);
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "exit status {status}");
    assert!(
        server.log_text().contains("\"stopped\""),
        "no 'stopped' line:\n{}",
        server.log_text()
    );
}

#[tokio::test]
async fn seed_fills_a_database_whose_invariants_hold() {
    let dir = tempfile::tempdir().expect("dir");
    let output = ssgwan()
        .args([
            "seed",
            "--users",
            "80",
            "--challenges",
            "24",
            "--days",
            "14",
            "--rng-seed",
            "7",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("seeded in"), "{stderr}");

    let mut command = ssgwan();
    command
        .args([
            "serve",
            "--web-dir",
            "/nonexistent",
            "--rate-limit-per-second",
            "0",
            "--data-dir",
        ])
        .arg(dir.path())
        .stderr(Stdio::null());
    // Listening means migrated and ready (one node, no Redis).
    let server = start_server(command);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let page: serde_json::Value = client
        .get(format!("{base}/api/challenges?limit=100"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    assert!(items.len() >= 20, "most drafts validate: {}", items.len());
    let mut statuses = std::collections::BTreeSet::new();
    for challenge in items {
        statuses.insert(challenge["status"].as_str().expect("status").to_owned());
        let id = &challenge["id"];
        let participants: serde_json::Value = client
            .get(format!("{base}/api/challenges/{id}/participants"))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let held = participants["items"].as_array().expect("items").len() as i64;
        assert_eq!(
            challenge["participantCount"].as_i64(),
            Some(held),
            "count matches the places for challenge {id}"
        );
        assert!(held <= challenge["capacity"].as_i64().expect("capacity"));
    }
    assert_eq!(statuses.len(), 3, "every status occurs: {statuses:?}");
    let ranking: serde_json::Value = client
        .get(format!("{base}/api/rankings"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(
        !ranking["entries"].as_array().expect("entries").is_empty(),
        "scores were recorded"
    );
    drop(server);
}

/// A header of a response, as text ("" when absent).
fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn serve_answers_with_the_web_app_built_into_the_binary_from_any_folder() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    let Ok(index) = std::fs::read_to_string(dist.join("index.html")) else {
        eprintln!(
            "NOTE: skipped: web/dist/index.html is absent, so the binary embeds no web app \
             (build it first: cd web && npm ci && npm run build; scripts/test.sh does)"
        );
        return;
    };
    // Neither the checkout nor a web/dist near the working directory: only the binary.
    let cwd = tempfile::tempdir().expect("dir");
    let data = tempfile::tempdir().expect("dir");
    let mut command = ssgwan();
    command
        .current_dir(cwd.path())
        .args(["serve", "--rate-limit-per-second", "0", "--data-dir"])
        .arg(data.path())
        .stderr(Stdio::null());
    // Returns once the server logged that it listens (migrated and ready).
    let mut server = start_server(command);
    let base = server.base.clone();
    let client = reqwest::Client::new();

    // index.html, as built, never cached; and the same page for a client route.
    let mut etag = String::new();
    for path in ["/", "/challenges/123", "/index.html"] {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            header(&response, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        etag = header(&response, "etag");
        assert!(!etag.is_empty(), "{path} has an ETag");
        assert_eq!(response.text().await.expect("body"), index, "{path}");
    }
    let response = client
        .get(format!("{base}/challenges/123"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 304);
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let response = client.head(format!("{base}/")).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-length"), index.len().to_string());
    assert!(response.bytes().await.expect("body").is_empty());

    // Every asset index.html links to: cached for good, with its type.
    let assets: Vec<&str> = index
        .split('"')
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert!(
        assets.iter().any(|a| a.ends_with(".js")),
        "a script in {index}"
    );
    for asset in assets {
        let response = client
            .get(format!("{base}{asset}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{asset}");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable",
            "{asset}"
        );
        let expected = if asset.ends_with(".js") {
            "text/javascript"
        } else if asset.ends_with(".css") {
            "text/css"
        } else {
            ""
        };
        assert!(
            header(&response, "content-type").starts_with(expected),
            "{asset}: {}",
            header(&response, "content-type")
        );
        let on_disk = std::fs::read(dist.join(asset.trim_start_matches('/'))).expect("built");
        assert_eq!(response.bytes().await.expect("body"), on_disk, "{asset}");
    }
    // A missing asset is not a client route; unknown API paths stay the API's JSON 404.
    let response = client
        .get(format!("{base}/assets/gone-0000.js"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    let response = client
        .get(format!("{base}/api/nope"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    assert!(header(&response, "content-type").starts_with("application/json"));
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["code"], "NOT_FOUND", "{body}");
    server.kill();
}
