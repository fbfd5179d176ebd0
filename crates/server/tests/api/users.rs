use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{assert_error, spawn_app};

#[tokio::test]
async fn profile_edits_apply_and_show_publicly() {
    let app = spawn_app().await;
    let token = app.login("before").await;
    let padded = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "nickname": "  after  " })),
        )
        .await;
    assert_error(
        &padded,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("nickname"),
    );
    let (status, me) = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({ "nickname": "after", "bio": "  매일 6시 기상\n", "profileImage": "https://img.example/a.png" }))).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["nickname"], "after");
    let (status, public) = app.get(&format!("/api/users/{}", me["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["bio"], "매일 6시 기상");
    assert_eq!(public["profileImage"], "https://img.example/a.png");
    let (_, cleared) = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "profileImage": null })),
        )
        .await;
    assert_eq!(cleared["profileImage"], serde_json::Value::Null);
    assert_eq!(cleared["bio"], "매일 6시 기상", "absent fields stay");
}

#[tokio::test]
async fn nicknames_are_unique_case_insensitively() {
    let app = spawn_app().await;
    app.login("Taken").await;
    let token = app.login("other").await;
    let result = app
        .call(
            Method::PATCH,
            "/api/me",
            Some(&token),
            Some(json!({ "nickname": "taken" })),
        )
        .await;
    assert_error(
        &result,
        StatusCode::CONFLICT,
        "NICKNAME_TAKEN",
        Some("nickname"),
    );
    let (_, me) = app.get("/api/me", Some(&token)).await;
    assert_eq!(me["nickname"], "other", "a refused edit changes nothing");
}

#[tokio::test]
async fn profile_edits_are_validated_field_by_field() {
    let app = spawn_app().await;
    let token = app.login("valid").await;
    for (body, field) in [
        (json!({ "nickname": "x" }), "nickname"),
        (json!({ "bio": "가".repeat(301) }), "bio"),
        (
            json!({ "profileImage": "javascript:alert(1)" }),
            "profileImage",
        ),
        (json!({ "nickname": 5 }), "nickname"),
        (json!({ "role": "admin" }), "role"),
    ] {
        let result = app
            .call(Method::PATCH, "/api/me", Some(&token), Some(body))
            .await;
        assert_error(
            &result,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    assert_error(
        &app.call(Method::PATCH, "/api/me", None, Some(json!({ "bio": "x" })))
            .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn unknown_and_malformed_user_ids() {
    let app = spawn_app().await;
    assert_error(
        &app.get("/api/users/999", None).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
        None,
    );
    assert_error(
        &app.get("/api/users/abc", None).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("id"),
    );
    assert_error(
        &app.get("/api/users/-1", None).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("id"),
    );
}
