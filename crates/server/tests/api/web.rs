//! `--web-dir`: the web app read from a directory instead of the one built into the binary.

use reqwest::StatusCode;

use crate::support::{assert_error, read, spawn_app, spawn_app_from, test_args};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn web_dir_serves_its_files_with_the_cache_rules_and_client_routes() {
    let web = tempfile::tempdir().expect("dir");
    let index = "<!doctype html><title>from the web dir</title>";
    std::fs::write(web.path().join("index.html"), index).expect("written");
    std::fs::create_dir(web.path().join("assets")).expect("dir");
    std::fs::write(web.path().join("assets/app-1234abcd.js"), "export {};").expect("written");
    let dir = tempfile::tempdir().expect("dir");
    let mut args = test_args(&dir, &[]);
    args.web_dir = Some(web.path().to_owned());
    let app = spawn_app_from(dir, args).await;

    for path in ["/", "/challenges/123"] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert_eq!(response.text().await.expect("body"), index);
    }
    let response = app
        .client
        .head(app.url("/challenges/123"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .client
        .get(app.url("/assets/app-1234abcd.js"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/javascript"));
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_error(
        &app.get("/api/nope", None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );
}

#[tokio::test]
async fn a_web_dir_without_index_html_means_the_api_only() {
    // The test servers are started with --web-dir /nonexistent.
    let app = spawn_app().await;
    for path in ["/", "/challenges/123"] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        assert_error(
            &read(response).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            None,
        );
    }
}
