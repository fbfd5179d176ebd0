//! The creator's notice: editable at any time, shown in the detail, pushed to the live room.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, spawn_app};

async fn put_notice(
    app: &TestApp,
    id: i64,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("/api/challenges/{id}/notice"),
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_creator_sets_and_clears_the_notice_even_after_the_start_and_the_end() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({})).await;
    let (_, fresh) = app.get(&format!("/api/challenges/{id}"), None).await;
    assert_eq!(
        (&fresh["notice"], &fresh["noticeUpdatedAt"]),
        (&Value::Null, &Value::Null)
    );

    let text = "  내일은 07:10 시작입니다 🙏\n늦지 마세요!  ";
    let (status, body) = put_notice(&app, id, Some(&host), json!({ "notice": text })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["notice"], "내일은 07:10 시작입니다 🙏\n늦지 마세요!",
        "trimmed"
    );
    assert_eq!(body["noticeUpdatedAt"], "2026-03-02T00:00:00Z");
    assert_eq!(body["id"], id, "the answer is the challenge detail");
    let (_, detail) = app.get(&format!("/api/challenges/{id}"), None).await;
    assert_eq!(detail["notice"], body["notice"]);
    let (_, listed) = app.get("/api/challenges", None).await;
    assert_eq!(listed["items"][0]["notice"], body["notice"]);

    // In progress (other edits are refused by then) and after the end: still allowed.
    app.set_now("2026-03-10T00:00:00Z");
    assert_error(
        &app.call(
            Method::PATCH,
            &format!("/api/challenges/{id}"),
            Some(&host),
            Some(json!({ "title": "x" })),
        )
        .await,
        StatusCode::CONFLICT,
        "CHALLENGE_ALREADY_STARTED",
        None,
    );
    let (status, body) = put_notice(&app, id, Some(&host), json!({ "notice": "중간 공지" })).await;
    assert_eq!(
        (status, body["notice"].as_str()),
        (StatusCode::OK, Some("중간 공지"))
    );
    app.set_now("2026-03-30T00:00:00Z");
    let long = "가".repeat(1000);
    let (status, body) = put_notice(&app, id, Some(&host), json!({ "notice": long })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ENDED");
    assert_eq!(
        body["notice"].as_str().map(|n| n.chars().count()),
        Some(1000)
    );

    // `null` and blank both clear it.
    let (_, body) = put_notice(&app, id, Some(&host), json!({ "notice": null })).await;
    assert_eq!(body["notice"], Value::Null);
    assert_eq!(body["noticeUpdatedAt"], "2026-03-30T00:00:00Z");
    put_notice(&app, id, Some(&host), json!({ "notice": "again" })).await;
    let (_, body) = put_notice(&app, id, Some(&host), json!({ "notice": " \n " })).await;
    assert_eq!(body["notice"], Value::Null);
}

#[tokio::test]
async fn only_the_creator_may_set_it_and_bad_notices_change_nothing() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let id = app.create_challenge(&host, json!({})).await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&guest),
        json!({}),
    )
    .await;
    put_notice(&app, id, Some(&host), json!({ "notice": "원래 공지" })).await;

    assert_error(
        &put_notice(&app, id, None, json!({ "notice": "x" })).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
    assert_error(
        &put_notice(&app, id, Some(&guest), json!({ "notice": "x" })).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        None,
    );
    assert_error(
        &put_notice(&app, id + 1000, Some(&host), json!({ "notice": "x" })).await,
        StatusCode::NOT_FOUND,
        "CHALLENGE_NOT_FOUND",
        None,
    );
    for (body, field) in [
        (json!({ "notice": "가".repeat(1001) }), "notice"),
        (json!({ "notice": "bell\u{7}" }), "notice"),
        (json!({ "notice": 5 }), "notice"),
        (json!({}), "notice"),
        (json!({ "notice": "x", "extra": 1 }), "extra"),
    ] {
        assert_error(
            &put_notice(&app, id, Some(&host), body).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    // Not JSON at all.
    let response = app
        .client
        .put(app.url(&format!("/api/challenges/{id}/notice")))
        .bearer_auth(&host)
        .body("notice=x")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (_, detail) = app.get(&format!("/api/challenges/{id}"), None).await;
    assert_eq!(detail["notice"], "원래 공지");
}

#[tokio::test]
async fn members_of_the_live_room_get_a_notice_frame_when_it_changes() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let elsewhere = app.login("elsewhere").await;
    let room = app.create_challenge(&host, json!({})).await;
    let other_room = app.create_challenge(&elsewhere, json!({})).await;
    app.post(
        &format!("/api/challenges/{room}/participants"),
        Some(&guest),
        json!({}),
    )
    .await;
    let mut guest_ws = app.ws(&guest).await;
    guest_ws.join(room, None).await;
    let mut host_ws = app.ws(&host).await;
    host_ws.join(room, None).await;
    let mut other_ws = app.ws(&elsewhere).await;
    other_ws.join(other_room, None).await;

    put_notice(
        &app,
        room,
        Some(&host),
        json!({ "notice": " 카메라 꼭 켜 주세요 " }),
    )
    .await;
    assert_eq!(
        guest_ws.next_of("notice").await,
        json!({ "type": "notice", "room": room, "notice": "카메라 꼭 켜 주세요" })
    );
    assert_eq!(
        host_ws.next_of("notice").await["notice"],
        "카메라 꼭 켜 주세요",
        "the creator's own tabs too"
    );
    // The same text again changes nothing and sends nothing; clearing sends null.
    put_notice(
        &app,
        room,
        Some(&host),
        json!({ "notice": "카메라 꼭 켜 주세요" }),
    )
    .await;
    guest_ws
        .expect_none_of("notice", Duration::from_millis(300))
        .await;
    put_notice(&app, room, Some(&host), json!({ "notice": null })).await;
    assert_eq!(
        guest_ws.next_of("notice").await,
        json!({ "type": "notice", "room": room, "notice": null })
    );
    // Someone in another room hears nothing; the connections stay healthy.
    other_ws
        .expect_none_of("notice", Duration::from_millis(200))
        .await;
    other_ws.assert_alive().await;
    guest_ws.assert_alive().await;
}
