//! Malformed requests get our error shape and change nothing.

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::support::{assert_error, read, spawn_app, valid_challenge};

#[tokio::test]
async fn malformed_json_is_refused() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    for body in ["{", "{\"title\": }", "[1,2", "nul"] {
        let response = app
            .client
            .post(app.url("/api/challenges"))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_error(
            &read(response).await,
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            None,
        );
    }
    let response = app
        .client
        .post(app.url("/api/challenges"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body("[]")
        .send()
        .await
        .expect("sent");
    assert_error(
        &read(response).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        None,
    );
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let body = serde_json::to_string(&valid_challenge()).expect("json");
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .client
            .post(app.url("/api/challenges"))
            .bearer_auth(&token)
            .body(body.clone());
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        assert_error(
            &read(request.send().await.expect("sent")).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            None,
        );
    }
    let ok = app
        .client
        .post(app.url("/api/challenges"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let huge = json!({ "title": "x", "description": "가".repeat(40_000) });
    let response = app
        .client
        .post(app.url("/api/challenges"))
        .bearer_auth(&token)
        .json(&huge)
        .send()
        .await
        .expect("sent");
    assert_error(
        &read(response).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        None,
    );
}

#[tokio::test]
async fn unknown_api_routes_are_json_404_and_wrong_methods_json_405() {
    let app = spawn_app().await;
    assert_error(
        &app.get("/api/nothing/here", None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &app.get("/api", None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &app.call(Method::PUT, "/api/me", None, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        None,
    );
    assert_error(
        &app.call(Method::DELETE, "/api/challenges", None, None)
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        None,
    );
    let response = app
        .client
        .get(app.url("/api/nothing"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        read(response).await.1["message"],
        "There is nothing at this address."
    );
}

#[tokio::test]
async fn hostile_inputs_never_crash_the_server() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let nasty = [
        json!({ "title": "\u{0000}", "category": "STUDY" }),
        json!({ "capacity": 9_223_372_036_854_775_807_i64 }),
        json!({ "capacity": -9_223_372_036_854_775_807_i64 }),
        json!({ "startDate": "9999-12-31", "endDate": "9999-12-31" }),
        json!({ "startDate": "-001-01-01" }),
        json!({ "timezone": "../../../../etc/passwd" }),
        json!({ "timezone": "x".repeat(10_000) }),
        json!({ "daysOfWeek": vec!["MON"; 1000] }),
        json!({ "sessionStart": "99:99" }),
        json!({ "minMinutes": 1e300 }),
    ];
    for overrides in nasty {
        let (status, body) = app
            .post(
                "/api/challenges",
                Some(&token),
                crate::support::merge(valid_challenge(), overrides.clone()),
            )
            .await;
        assert!(status.is_client_error(), "{overrides} gave {status} {body}");
    }
    for path in [
        "/api/challenges/99999999999999999999999",
        "/api/challenges/%00",
        "/api/users/%F0%9F%92%A9",
        "/api/challenges?limit=%FF",
    ] {
        let (status, _) = app.get(path, None).await;
        assert!(status.is_client_error(), "{path} gave {status}");
    }
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn clients_over_the_rate_limit_get_429_with_retry_after() {
    let app = crate::support::spawn_app_with(&[
        "--dev-login",
        "--rate-limit-per-second",
        "1",
        "--rate-limit-burst",
        "5",
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = app
            .client
            .get(app.url("/api/challenges"))
            .send()
            .await
            .expect("sent");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().get("retry-after").is_some());
        }
        let (status, body) = read(response).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_error(
                &(status, body),
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                None,
            );
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        5,
        "{statuses:?}"
    );
    // Health checks are never limited.
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
}
