//! Operators (issue 18): the role comes from the command line (`ssgwan admin grant|revoke`),
//! the operator API decides reports (dismiss, warn, suspend, delete a challenge), suspension
//! closes the user's sockets at once and refuses their login, and every action is audited.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    child::ssgwan,
    moderation::user_id,
    support::{TestApp, assert_error, spawn_app},
    ws::room_with,
};

/// Runs `ssgwan admin <action> <user>` against the test server's database; its stderr.
fn admin(app: &TestApp, action: &str, user: i64) -> String {
    let output = ssgwan()
        .args(["admin", action, &user.to_string(), "--data-dir"])
        .arg(app._dir.path())
        .args(["--reason", "운영자 지정"])
        .output()
        .expect("ran");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    stderr
}

async fn decide(app: &TestApp, token: &str, report: i64, body: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/api/admin/reports/{report}/decision"),
        Some(token),
        body,
    )
    .await
}

async fn file(app: &TestApp, token: &str, body: Value) -> i64 {
    let (status, report) = app.post("/api/reports", Some(token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    report["id"].as_i64().expect("id")
}

fn chat(room: i64, body: &str, client_id: &str) -> Value {
    json!({ "type": "chat", "room": room, "body": body, "clientId": client_id })
}

#[tokio::test]
async fn operators_decide_reports_and_every_decision_is_audited() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "reporter", "troll"]).await;
    let op_token = app.login("operator").await;
    let op = user_id(&app, &op_token).await;
    let troll = user_id(&app, &tokens[2]).await;
    let troll_room = app
        .create_challenge(&tokens[2], json!({ "title": "수상한 챌린지" }))
        .await;
    let mut troll_ws = app.ws(&tokens[2]).await;
    troll_ws.join(room, None).await;
    let mut ids = Vec::new();
    for (i, body) in ["one", "two", "three"].into_iter().enumerate() {
        troll_ws.send(chat(room, body, &format!("t{i}"))).await;
        ids.push(
            troll_ws.next_of("chat").await["message"]["id"]
                .as_i64()
                .expect("id"),
        );
    }
    let message_report = file(
        &app,
        &tokens[1],
        json!({ "targetType": "message", "targetId": ids[1], "challengeId": room, "reason": "harassment" }),
    )
    .await;

    // Without the role: refused, nothing changed.
    let refused = app.get("/api/admin/reports", Some(&op_token)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "OPERATOR_ONLY", None);
    let refused = decide(
        &app,
        &op_token,
        message_report,
        json!({ "action": "dismiss", "reason": "x" }),
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "OPERATOR_ONLY", None);
    let refused = app.get("/api/admin/audit", Some(&tokens[0])).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "OPERATOR_ONLY", None);

    assert!(admin(&app, "grant", op).contains("is an operator now"));
    assert!(admin(&app, "grant", op).contains("already"));
    let (status, queue) = app.get("/api/admin/reports", Some(&op_token)).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let item = &queue["items"][0];
    assert_eq!(
        (&item["id"], &item["status"], &item["subjectId"]),
        (&json!(message_report), &json!("OPEN"), &json!(troll))
    );
    let context: Vec<&str> = item["context"]
        .as_array()
        .expect("context")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(context, vec!["one", "two", "three"], "{queue}");

    // Warn: the troll is told why; the first decision stands.
    let (status, decided) = decide(
        &app,
        &op_token,
        message_report,
        json!({ "action": "warn", "reason": "욕설 금지" }),
    )
    .await;
    assert_eq!(
        (status, &decided["status"]),
        (StatusCode::OK, &json!("ACTIONED")),
        "{decided}"
    );
    let (status, again) = decide(
        &app,
        &op_token,
        message_report,
        json!({ "action": "dismiss", "reason": "다시" }),
    )
    .await;
    assert_eq!(
        (status, &again["status"]),
        (StatusCode::OK, &json!("ACTIONED")),
        "{again}"
    );
    let (_, notices) = app.get("/api/me/notifications", Some(&tokens[2])).await;
    let warning = notices["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["kind"] == "MODERATION_WARNING")
        .cloned()
        .expect("a warning");
    assert_eq!(warning["data"]["reason"], "욕설 금지");

    // Suspend for a week: sockets closed at once, sessions gone, login refused, content hidden.
    let user_report = file(
        &app,
        &tokens[1],
        json!({ "targetType": "user", "targetId": troll, "reason": "harassment" }),
    )
    .await;
    let (status, decided) = decide(
        &app,
        &op_token,
        user_report,
        json!({ "action": "suspend", "reason": "반복된 괴롭힘", "days": 7 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(
        troll_ws.close_code(Duration::from_secs(1)).await,
        Some(4401)
    );
    assert_error(
        &app.get("/api/me", Some(&tokens[2])).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
    let login = app
        .post("/api/auth/dev-login", None, json!({ "nickname": "troll" }))
        .await;
    assert_error(&login, StatusCode::FORBIDDEN, "ACCOUNT_SUSPENDED", None);
    assert!(
        login.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("2026-03-09")),
        "{login:?}"
    );
    let (_, history) = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[1]),
        )
        .await;
    assert_eq!(history["items"], json!([]), "{history}");
    let (_, list) = app.get("/api/challenges", Some(&tokens[1])).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|c| c["id"] != troll_room),
        "{list}"
    );
    // Over by the end: they may sign in again.
    app.set_now("2026-03-09T00:00:01Z");
    assert_eq!(
        app.post("/api/auth/dev-login", None, json!({ "nickname": "troll" }))
            .await
            .0,
        StatusCode::OK
    );

    // Delete a challenge: its room closes for everyone in it.
    let mut host_ws = app.ws(&tokens[0]).await;
    host_ws.join(room, None).await;
    let challenge_report = file(
        &app,
        &tokens[1],
        json!({ "targetType": "challenge", "targetId": room, "reason": "spam" }),
    )
    .await;
    let again = decide(
        &app,
        &op_token,
        user_report,
        json!({ "action": "dismiss", "reason": "x" }),
    )
    .await;
    assert_eq!(
        (again.0, &again.1["status"]),
        (StatusCode::OK, &json!("ACTIONED")),
        "a closed report stays as it is"
    );
    let (status, decided) = decide(
        &app,
        &op_token,
        challenge_report,
        json!({ "action": "deleteChallenge", "reason": "스팸 챌린지" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    let left = host_ws.next_of("left").await;
    assert_eq!(left["reason"], "deleted");
    assert_error(
        &app.get(&format!("/api/challenges/{room}"), None).await,
        StatusCode::NOT_FOUND,
        "CHALLENGE_NOT_FOUND",
        None,
    );

    // Bad input.
    let missing = decide(
        &app,
        &op_token,
        999_999,
        json!({ "action": "dismiss", "reason": "x" }),
    )
    .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "REPORT_NOT_FOUND", None);
    let other = file(&app, &tokens[0], json!({ "targetType": "user", "targetId": user_id(&app, &tokens[1]).await, "reason": "other" })).await;
    for (body, field) in [
        (json!({ "action": "ban", "reason": "x" }), "action"),
        (json!({ "action": "dismiss", "reason": "  " }), "reason"),
        (
            json!({ "action": "suspend", "reason": "x", "days": 0 }),
            "days",
        ),
        (
            json!({ "action": "deleteChallenge", "reason": "x" }),
            "action",
        ),
    ] {
        let refused = decide(&app, &op_token, other, body).await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }

    // The audit log: who, what, when, why.
    let (status, log) = app.get("/api/admin/audit", Some(&op_token)).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries: Vec<(String, Value)> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_owned(),
                e["actorId"].clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("deleteChallenge".to_owned(), json!(op)),
            ("suspend".to_owned(), json!(op)),
            ("warn".to_owned(), json!(op)),
            ("grantOperator".to_owned(), Value::Null),
        ]
    );
    assert_eq!(log["items"][1]["target"], format!("user:{troll}"));
    assert_eq!(log["items"][1]["reason"], "반복된 괴롭힘");
    // Revoked: the API is closed to them again.
    assert!(admin(&app, "revoke", op).contains("no longer"));
    let refused = app.get("/api/admin/audit", Some(&op_token)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "OPERATOR_ONLY", None);
}
