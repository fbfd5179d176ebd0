//! Health, readiness, metrics, request ids and the OpenAPI document.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::spawn_app;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/healthz", None).await,
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    assert_eq!(
        app.get("/readyz", None).await,
        (StatusCode::OK, json!({ "status": "ok", "database": "ok" }))
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_joins_by_outcome() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({ "capacity": 2 })).await;
    let guest = app.login("guest").await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&guest),
        json!({}),
    )
    .await;
    let third = app.login("third").await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&third),
        json!({}),
    )
    .await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(text.contains("http_requests_total{method=\"POST\",route=\"/api/challenges/{id}/participants\",status=\"201\"}"), "{text}");
    assert!(
        text.contains("ssgwan_joins_total{outcome=\"won\"}"),
        "{text}"
    );
    assert!(
        text.contains("ssgwan_joins_total{outcome=\"full\"}"),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_safe_headers() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/challenges"))
        .send()
        .await
        .expect("sent");
    assert!(response.headers().get("x-request-id").is_some());
    assert_eq!(
        response
            .headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        echoed.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"trace-me-123"[..])
    );
}

/// Fails when a route of the product contract is missing from the OpenAPI document.
#[tokio::test]
async fn openapi_documents_every_route_and_the_error_shape() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let expected = [
        ("get", "/api/auth/providers"),
        ("get", "/api/auth/kakao"),
        ("get", "/api/auth/kakao/callback"),
        ("post", "/api/auth/dev-login"),
        ("post", "/api/auth/logout"),
        ("get", "/api/me"),
        ("patch", "/api/me"),
        ("get", "/api/users/{id}"),
        ("post", "/api/challenges"),
        ("get", "/api/challenges"),
        ("get", "/api/challenges/{id}"),
        ("patch", "/api/challenges/{id}"),
        ("delete", "/api/challenges/{id}"),
        ("post", "/api/challenges/{id}/participants"),
        ("delete", "/api/challenges/{id}/participants/me"),
        ("get", "/api/challenges/{id}/participants"),
        ("delete", "/api/challenges/{id}/participants/{userId}"),
        ("put", "/api/challenges/{id}/participants/{userId}/media"),
        ("get", "/api/challenges/{id}/hosts"),
        ("put", "/api/challenges/{id}/cohosts/{userId}"),
        ("delete", "/api/challenges/{id}/cohosts/{userId}"),
        ("delete", "/api/challenges/{id}/messages/{messageId}"),
        ("put", "/api/challenges/{id}/lock"),
        ("post", "/api/reports"),
        ("put", "/api/me/blocks/{userId}"),
        ("delete", "/api/me/blocks/{userId}"),
        ("get", "/api/me/blocks"),
        ("get", "/api/admin/reports"),
        ("post", "/api/admin/reports/{id}/decision"),
        ("get", "/api/admin/audit"),
        ("get", "/api/me/challenges"),
        ("put", "/api/challenges/{id}/notice"),
        ("put", "/api/challenges/{id}/wish"),
        ("delete", "/api/challenges/{id}/wish"),
        ("get", "/api/me/wishes"),
        ("get", "/api/tags/popular"),
        ("post", "/api/uploads"),
        ("get", "/api/files/{key}"),
        ("get", "/api/challenges/{id}/messages"),
        ("get", "/api/rtc/ice-servers"),
        ("get", "/api/ws"),
        ("get", "/api/rankings"),
        ("get", "/api/challenges/stats/user/{userId}"),
        ("get", "/api/challenges/stats/user/{userId}/weekly"),
        ("get", "/api/challenges/stats/user/{userId}/monthly"),
        ("get", "/api/challenges/{id}/stats"),
        ("get", "/api/me/calendar"),
        ("post", "/api/me/calendar/reset"),
        ("get", "/api/calendar/{file}"),
        ("get", "/api/challenges/{id}/calendar.ics"),
        ("get", "/api/me/notifications"),
        ("post", "/api/me/notifications/read"),
        ("get", "/api/me/notification-settings"),
        ("put", "/api/me/notification-settings"),
        ("get", "/api/push/vapid-public-key"),
        ("post", "/api/me/push-subscriptions"),
        ("delete", "/api/me/push-subscriptions"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/api/openapi.json"),
    ];
    for (method, path) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|p| p.as_object().expect("item").len())
        .sum();
    assert_eq!(
        documented,
        expected.len(),
        "a documented route is not in the expected list (add it to this test)"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"]["properties"]["code"].is_object());
    // Each documented route answers something other than the JSON 404 of unknown routes
    // (a file is stored first: an unknown file key is a JSON 404 too).
    let token = app.login("documenter").await;
    let file_url = app
        .upload_ok(&token, "a.png", &crate::uploads::png_bytes())
        .await;
    let file_key = file_url.trim_start_matches("/api/files/").to_owned();
    // A real feed: an unknown one is a JSON 404 like an unknown route.
    let (_, feed) = app.get("/api/me/calendar", Some(&token)).await;
    let feed_file = feed["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("feed url")
        .to_owned();
    for (method, path) in expected {
        let concrete = path
            .replace("{id}", "1")
            .replace("{userId}", "1")
            .replace("{messageId}", "1")
            .replace("{key}", &file_key)
            .replace("{file}", &feed_file);
        let response = app
            .client
            .request(
                method.to_uppercase().parse().expect("method"),
                app.url(&concrete),
            )
            .send()
            .await
            .expect("sent");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("\"NOT_FOUND\"")),
            "{method} {path} is documented but not routed"
        );
    }
}
