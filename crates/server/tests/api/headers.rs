//! Security headers on every kind of response, HSTS only behind an https public URL, and
//! `/metrics` behind its token when one is set.

use reqwest::StatusCode;

use crate::support::{spawn_app_from, spawn_app_with, test_args};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A web dir with an index and a hashed asset, served by a server with `extra` arguments.
async fn app_with_web(extra: &[&str]) -> (crate::support::TestApp, tempfile::TempDir) {
    let web = tempfile::tempdir().expect("dir");
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>t</title>",
    )
    .expect("written");
    std::fs::create_dir(web.path().join("assets")).expect("dir");
    std::fs::write(web.path().join("assets/app-1234abcd.js"), "export {};").expect("written");
    let dir = tempfile::tempdir().expect("dir");
    let mut args = test_args(&dir, extra);
    args.web_dir = Some(web.path().to_owned());
    (spawn_app_from(dir, args).await, web)
}

#[tokio::test]
async fn pages_assets_and_api_answers_carry_the_csp_and_permissions_policy() {
    let (app, _web) = app_with_web(&["--public-url", "http://ssgwan.test:8080"]).await;
    for path in [
        "/",
        "/challenges/123",
        "/assets/app-1234abcd.js",
        "/api/challenges",
        "/api/nope",
        "/healthz",
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        let csp = header(&response, "content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "connect-src 'self' ws://ssgwan.test:8080",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive:?} missing from {csp}"
            );
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        let permissions = header(&response, "permissions-policy")
            .unwrap_or_else(|| panic!("{path}: no Permissions-Policy"));
        assert!(permissions.contains("camera=(self)"), "{permissions}");
        assert!(permissions.contains("microphone=(self)"), "{permissions}");
        assert!(permissions.contains("geolocation=()"), "{permissions}");
        assert_eq!(
            header(&response, "strict-transport-security"),
            None,
            "{path}: HSTS over http"
        );
    }
}

#[tokio::test]
async fn hsts_only_when_the_public_url_is_https() {
    let (app, _web) = app_with_web(&["--public-url", "https://ssgwan.example"]).await;
    for path in ["/", "/api/challenges"] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(
            header(&response, "strict-transport-security").as_deref(),
            Some("max-age=31536000"),
            "{path}"
        );
        let csp = header(&response, "content-security-policy").expect("CSP");
        assert!(
            csp.contains("connect-src 'self' wss://ssgwan.example;"),
            "{csp}"
        );
    }
}

#[tokio::test]
async fn metrics_need_the_bearer_token_when_one_is_set() {
    let app = spawn_app_with(&["--metrics-token", "s3cret-metrics"]).await;
    let anonymous = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body = anonymous.text().await.expect("body");
    assert!(!body.contains("http_requests_total"), "{body}");
    for wrong in ["s3cret", "s3cret-metrics-and-more", ""] {
        let response = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(wrong)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-metrics")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("ssgwan_db_queries_total")
    );
}
