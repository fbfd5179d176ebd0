//! Reports and blocks (issue 18): one report per reporter and target, of things the reporter
//! can see, with a receipt; blocked users' chat never reaches the blocker's socket (both
//! ways), nor their history, and their challenges leave each other's lists.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    moderation::{delete, put, user_id},
    support::{TestApp, assert_error, spawn_app},
    ws::room_with,
};

fn chat(room: i64, body: &str, client_id: &str) -> Value {
    json!({ "type": "chat", "room": room, "body": body, "clientId": client_id })
}

async fn report(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/reports", Some(token), body).await
}

#[tokio::test]
async fn members_report_what_they_can_see_once_with_a_receipt() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "reporter", "troll"]).await;
    let (other_room, others) = room_with(&app, &["elsewhere"]).await;
    let troll = user_id(&app, &tokens[2]).await;
    let mut ws = app.ws(&tokens[2]).await;
    ws.join(room, None).await;
    ws.send(chat(room, "spam spam", "s1")).await;
    let message = ws.next_of("chat").await["message"]["id"]
        .as_i64()
        .expect("id");
    let body = json!({ "targetType": "message", "targetId": message, "challengeId": room, "reason": "spam", "detail": "광고" });
    let (status, first) = report(&app, &tokens[1], body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        (&first["status"], &first["subjectId"], &first["messageId"]),
        (&json!("OPEN"), &json!(troll), &json!(message))
    );
    // The same target again: the first report, nothing new.
    let (status, again) = report(&app, &tokens[1], body).await;
    assert_eq!(
        (status, &again["id"]),
        (StatusCode::OK, &first["id"]),
        "{again}"
    );
    let (_, notices) = app.get("/api/me/notifications", Some(&tokens[1])).await;
    let kinds: Vec<&str> = notices["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, vec!["REPORT_RECEIVED"], "{notices}");
    // A user and a challenge.
    for body in [
        json!({ "targetType": "user", "targetId": troll, "reason": "harassment" }),
        json!({ "targetType": "challenge", "targetId": other_room, "reason": "other", "detail": "제목이 이상해요" }),
    ] {
        let (status, filed) = report(&app, &tokens[1], body).await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
    }
    // Not what they cannot see: a message of a room they are not in, unknown things.
    let outsider = report(
        &app,
        &others[0],
        json!({ "targetType": "message", "targetId": message, "challengeId": room, "reason": "spam" }),
    )
    .await;
    assert_error(&outsider, StatusCode::FORBIDDEN, "REPORT_NOT_ALLOWED", None);
    for body in [
        json!({ "targetType": "message", "targetId": 999, "challengeId": room, "reason": "spam" }),
        json!({ "targetType": "user", "targetId": 999_999, "reason": "spam" }),
        json!({ "targetType": "challenge", "targetId": 999_999, "reason": "spam" }),
    ] {
        let refused = report(&app, &tokens[1], body).await;
        assert_error(&refused, StatusCode::FORBIDDEN, "REPORT_NOT_ALLOWED", None);
    }
    // Not themselves; bad input.
    let me = user_id(&app, &tokens[1]).await;
    let refused = report(
        &app,
        &tokens[1],
        json!({ "targetType": "user", "targetId": me, "reason": "spam" }),
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "SELF_TARGET", None);
    for (body, field) in [
        (
            json!({ "targetType": "user", "targetId": troll, "reason": "boring" }),
            "reason",
        ),
        (
            json!({ "targetType": "thing", "targetId": troll, "reason": "spam" }),
            "targetType",
        ),
        (
            json!({ "targetType": "message", "targetId": message, "reason": "spam" }),
            "challengeId",
        ),
        (
            json!({ "targetType": "user", "targetId": troll, "reason": "spam", "detail": "가".repeat(1001) }),
            "detail",
        ),
    ] {
        let refused = report(&app, &tokens[0], body).await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    let (_, host_notices) = app.get("/api/me/notifications", Some(&tokens[0])).await;
    assert!(
        host_notices["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["kind"] != "REPORT_RECEIVED"),
        "refused reports leave nothing: {host_notices}"
    );
}

#[tokio::test]
async fn a_blocked_users_chat_never_reaches_the_blocker_either_way() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["blocker", "blocked", "bystander"]).await;
    let blocked = user_id(&app, &tokens[1]).await;
    let mut sockets = Vec::new();
    for token in &tokens {
        let mut ws = app.ws(token).await;
        ws.join(room, None).await;
        sockets.push(ws);
    }
    let (status, body) = put(&app, &format!("/api/me/blocks/{blocked}"), &tokens[0]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Idempotent.
    assert_eq!(
        put(&app, &format!("/api/me/blocks/{blocked}"), &tokens[0])
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    sockets[1].send(chat(room, "from the blocked", "b1")).await;
    sockets[0].send(chat(room, "from the blocker", "a1")).await;
    sockets[2]
        .send(chat(room, "from the bystander", "c1"))
        .await;
    // The bystander sees all three; each of the two sees their own and the bystander's only.
    let mut seen = [Vec::new(), Vec::new(), Vec::new()];
    for (i, ws) in sockets.iter_mut().enumerate() {
        let expected = if i == 2 { 3 } else { 2 };
        while seen[i].len() < expected {
            let frame = ws.next_of("chat").await;
            seen[i].push(frame["message"]["body"].as_str().expect("body").to_owned());
        }
        ws.expect_none_of("chat", Duration::from_millis(300)).await;
        seen[i].sort();
    }
    assert_eq!(seen[0], vec!["from the blocker", "from the bystander"]);
    assert_eq!(seen[1], vec!["from the blocked", "from the bystander"]);
    assert_eq!(seen[2].len(), 3);
    // Nor in the history or the replay of a join.
    let bodies = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|m| m["body"].as_str().expect("body").to_owned())
            .collect()
    };
    let (_, page) = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[0]),
        )
        .await;
    assert!(
        !bodies(&page).contains(&"from the blocked".to_owned()),
        "{page}"
    );
    let (_, page) = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[1]),
        )
        .await;
    assert!(
        !bodies(&page).contains(&"from the blocker".to_owned()),
        "{page}"
    );
    let mut again = app.ws(&tokens[0]).await;
    let joined = again.join(room, Some(0)).await;
    let replayed: Vec<&str> = joined["missed"]
        .as_array()
        .expect("missed")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert!(!replayed.contains(&"from the blocked"), "{joined}");
    // The list, then unblocking (twice: idempotent) lets chat through again.
    let (_, list) = app.get("/api/me/blocks", Some(&tokens[0])).await;
    assert_eq!(list["items"][0]["user"]["id"], blocked, "{list}");
    for _ in 0..2 {
        assert_eq!(
            delete(&app, &format!("/api/me/blocks/{blocked}"), &tokens[0])
                .await
                .0,
            StatusCode::NO_CONTENT
        );
    }
    sockets[1].send(chat(room, "hello again", "b2")).await;
    assert_eq!(
        sockets[0].next_of("chat").await["message"]["body"],
        "hello again"
    );
    // Not oneself; not nobody.
    let me = user_id(&app, &tokens[0]).await;
    let refused = put(&app, &format!("/api/me/blocks/{me}"), &tokens[0]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "SELF_TARGET", None);
    let refused = put(&app, "/api/me/blocks/999999", &tokens[0]).await;
    assert_error(&refused, StatusCode::NOT_FOUND, "USER_NOT_FOUND", None);
}

#[tokio::test]
async fn blocked_users_challenges_leave_each_others_lists() {
    let app = spawn_app().await;
    let a = app.login("aa").await;
    let b = app.login("bb").await;
    let c = app.login("cc").await;
    let a_room = app
        .create_challenge(&a, json!({ "title": "a의 챌린지" }))
        .await;
    let b_room = app
        .create_challenge(&b, json!({ "title": "b의 챌린지" }))
        .await;
    let listed = |token: String| {
        let app = &app;
        async move {
            let (_, page) = app.get("/api/challenges", Some(&token)).await;
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| c["id"].as_i64().expect("id"))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(a.clone()).await, vec![b_room, a_room]);
    let b_id = user_id(&app, &b).await;
    assert_eq!(
        put(&app, &format!("/api/me/blocks/{b_id}"), &a).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(listed(a.clone()).await, vec![a_room]);
    assert_eq!(listed(b.clone()).await, vec![b_room]);
    assert_eq!(listed(c.clone()).await, vec![b_room, a_room]);
}
