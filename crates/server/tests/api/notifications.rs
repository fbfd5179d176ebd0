//! Notifications: created from what happens (a new member, a notice, the end of a challenge,
//! a session about to start), listed with the unread count, marked read, sent live; reminders
//! exactly once on any number of nodes, on every configured database.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ssgwan_testkit::databases::{Server, TestDatabase};

use crate::support::{TestApp, assert_error, spawn_app, spawn_app_from, spawn_app_with, test_args};

/// The caller's notifications page (`query` appended), waiting up to 5 s for `at_least` items.
async fn notifications(app: &TestApp, token: &str, at_least: usize) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = app.get("/api/me/notifications", Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let n = body["items"].as_array().map_or(0, Vec::len);
        if n >= at_least || std::time::Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn kinds(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[tokio::test]
async fn the_creator_hears_of_new_members_live_and_reads_them_page_by_page() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({ "capacity": 20 })).await;
    let mut socket = app.ws(&host).await;
    let mut guests = Vec::new();
    for i in 0..5 {
        let guest = app.login(&format!("guest{i}")).await;
        let (status, _) = app
            .post(
                &format!("/api/challenges/{id}/participants"),
                Some(&guest),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let frame = socket.next_of("notification").await;
        assert_eq!(frame["notification"]["kind"], "NEW_MEMBER");
        assert_eq!(frame["notification"]["challengeId"], id);
        assert_eq!(
            frame["notification"]["data"]["nickname"],
            format!("guest{i}")
        );
        assert_eq!(
            frame["notification"]["data"]["challengeTitle"],
            "새벽 공부 Morning Study"
        );
        assert_eq!(frame["unreadCount"], i + 1);
        guests.push(guest);
    }
    // Nobody else hears of it.
    let page = notifications(&app, &guests[0], 0).await;
    assert_eq!(
        (page["items"].as_array().map(Vec::len), &page["unreadCount"]),
        (Some(0), &json!(0))
    );

    // Pages of two, newest first.
    let (_, first) = app.get("/api/me/notifications?limit=2", Some(&host)).await;
    assert_eq!(first["unreadCount"], 5);
    let items = first["items"].as_array().expect("items");
    assert_eq!(items[0]["data"]["nickname"], "guest4");
    assert_eq!(items[0]["read"], false);
    let cursor = first["nextCursor"].as_str().expect("more");
    let (_, second) = app
        .get(
            &format!("/api/me/notifications?limit=2&cursor={cursor}"),
            Some(&host),
        )
        .await;
    assert_eq!(second["items"][0]["data"]["nickname"], "guest2");
    let (_, last) = app
        .get(
            &format!(
                "/api/me/notifications?limit=2&cursor={}",
                second["nextCursor"].as_str().expect("more")
            ),
            Some(&host),
        )
        .await;
    assert_eq!(last["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["nextCursor"], Value::Null);

    // Reading up to the third newest leaves the two newest unread.
    let up_to = second["items"][0]["id"].as_i64().expect("id");
    let (status, body) = app
        .post(
            "/api/me/notifications/read",
            Some(&host),
            json!({ "upTo": up_to }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["marked"], &body["unreadCount"]),
        (&json!(3), &json!(2))
    );
    let (_, again) = app
        .post(
            "/api/me/notifications/read",
            Some(&host),
            json!({ "upTo": up_to }),
        )
        .await;
    assert_eq!(again["marked"], 0, "idempotent");
    // Another user's ids mark nothing of theirs, nor of the host's.
    let (_, other) = app
        .post(
            "/api/me/notifications/read",
            Some(&guests[0]),
            json!({ "upTo": 1_000_000 }),
        )
        .await;
    assert_eq!(other["marked"], 0);
    let page = notifications(&app, &host, 5).await;
    assert_eq!(page["unreadCount"], 2);

    for (body, field) in [
        (json!({}), "upTo"),
        (json!({ "upTo": 0 }), "upTo"),
        (json!({ "upTo": "1" }), "upTo"),
        (json!({ "upTo": 1, "extra": true }), "extra"),
    ] {
        let answer = app
            .post("/api/me/notifications/read", Some(&host), body)
            .await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
        assert_eq!(answer.1["code"], "VALIDATION_FAILED");
        assert_eq!(answer.1["field"], field, "{}", answer.1);
    }
    for query in ["limit=0", "limit=101", "cursor=abc", "cursor=-1"] {
        assert_error(
            &app.get(&format!("/api/me/notifications?{query}"), Some(&host))
                .await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            None,
        );
    }
    assert_error(
        &app.get("/api/me/notifications", None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn participants_hear_of_notice_changes_and_of_how_the_challenge_ended() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let id = app
        .create_challenge(
            &host,
            json!({ "startDate": "2026-03-09", "endDate": "2026-03-10" }),
        )
        .await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&guest),
        json!({}),
    )
    .await;
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/challenges/{id}/notice"),
            Some(&host),
            Some(json!({ "notice": "내일 쉽니다" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = notifications(&app, &guest, 1).await;
    assert_eq!(kinds(&page), ["NOTICE_CHANGED"]);
    // The same notice again is no change.
    app.call(
        Method::PUT,
        &format!("/api/challenges/{id}/notice"),
        Some(&host),
        Some(json!({ "notice": "내일 쉽니다" })),
    )
    .await;

    // After the end, nobody attended: both failed.
    app.set_now("2026-03-11T00:00:00Z");
    app.completion.run_now().await;
    let page = notifications(&app, &guest, 2).await;
    assert_eq!(kinds(&page), ["CHALLENGE_FAILED", "NOTICE_CHANGED"]);
    let page = notifications(&app, &host, 2).await;
    assert_eq!(
        kinds(&page),
        ["CHALLENGE_FAILED", "NEW_MEMBER"],
        "the creator is told of their own result too"
    );
}

#[tokio::test]
async fn settings_choose_the_kinds_and_the_reminder_lead_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let (status, defaults) = app.get("/api/me/notification-settings", Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(defaults["minutesBefore"], 10);
    assert_eq!(defaults["kinds"].as_array().map(Vec::len), Some(7));
    assert_eq!(defaults["quietStart"], Value::Null);

    let wanted = json!({ "kinds": ["SESSION_REMINDER"], "minutesBefore": 30, "quietStart": "23:00", "quietEnd": "07:00" });
    let (status, saved) = app
        .call(
            Method::PUT,
            "/api/me/notification-settings",
            Some(&host),
            Some(wanted.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, read) = app.get("/api/me/notification-settings", Some(&host)).await;
    assert_eq!(read, saved);
    assert_eq!(read["kinds"], json!(["SESSION_REMINDER"]));

    // NEW_MEMBER is off: a join creates nothing.
    let id = app.create_challenge(&host, json!({})).await;
    let guest = app.login("guest").await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&guest),
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(notifications(&app, &host, 0).await["items"], json!([]));

    for (change, field) in [
        (json!({ "minutesBefore": 0 }), "minutesBefore"),
        (json!({ "minutesBefore": 121 }), "minutesBefore"),
        (json!({ "kinds": ["SOMETHING"] }), "kinds"),
        (json!({ "quietStart": "25:00" }), "quietStart"),
        (json!({ "quietEnd": null }), "quietEnd"),
        (json!({ "timezone": "Nowhere/City" }), "timezone"),
        (
            json!({ "timezone": "Nowhere/City", "quietStart": null, "quietEnd": null }),
            "timezone",
        ),
    ] {
        let mut body = wanted.clone();
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        assert_error(
            &app.call(
                Method::PUT,
                "/api/me/notification-settings",
                Some(&host),
                Some(body),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    let (_, unchanged) = app.get("/api/me/notification-settings", Some(&host)).await;
    assert_eq!(unchanged, saved, "nothing changed by refused settings");
}

/// Seoul 06:00 on Monday 2026-03-09 is 21:00 UTC on the 8th.
const FIRST_SESSION: &str = "2026-03-08T21:00:00Z";

#[tokio::test]
async fn a_reminder_comes_once_its_lead_before_the_session_and_never_after_the_start() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let eager = app.login("eager").await;
    let id = app.create_challenge(&host, json!({})).await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&eager),
        json!({}),
    )
    .await;
    let settings = json!({ "kinds": ["SESSION_REMINDER"], "minutesBefore": 30 });
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/me/notification-settings",
            Some(&eager),
            Some(settings),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The host's NEW_MEMBER is out before the socket opens (its frame is not what we wait for).
    notifications(&app, &host, 1).await;
    let mut socket = app.ws(&host).await;

    app.set_now("2026-03-08T20:29:59Z");
    assert_eq!(app.reminders.run_now().await, 0);
    app.set_now("2026-03-08T20:30:00Z");
    assert_eq!(
        app.reminders.run_now().await,
        1,
        "eager's, 30 minutes before"
    );
    app.set_now("2026-03-08T20:49:59Z");
    assert_eq!(app.reminders.run_now().await, 0);
    app.set_now("2026-03-08T20:50:00Z");
    assert_eq!(
        app.reminders.run_now().await,
        1,
        "the host's, 10 minutes before"
    );
    let frame = socket.next_of("notification").await;
    let reminder = &frame["notification"];
    assert_eq!(reminder["kind"], "SESSION_REMINDER");
    assert_eq!(reminder["data"]["minutes"], 10);
    assert_eq!(reminder["data"]["startsAt"], FIRST_SESSION);
    assert_eq!(reminder["data"]["date"], "2026-03-09");
    assert_eq!(reminder["challengeId"], id);
    app.set_now("2026-03-08T20:59:00Z");
    assert_eq!(app.reminders.run_now().await, 0, "once");
    let eager_page = notifications(&app, &eager, 1).await;
    assert_eq!(eager_page["items"][0]["data"]["minutes"], 30);

    // A server that was down from before Tuesday's reminders until after the start sends
    // none for Tuesday (stale) and Wednesday's when due.
    app.set_now("2026-03-09T21:00:01Z");
    assert_eq!(
        app.reminders.run_now().await,
        0,
        "stale: the session is under way"
    );
    // Back at 05:55 Wednesday, 5 minutes late for both: still useful, says 5 minutes.
    app.set_now("2026-03-10T20:55:00Z");
    assert_eq!(app.reminders.run_now().await, 2);
    let page = notifications(&app, &host, 2).await;
    assert_eq!(page["items"][0]["data"]["minutes"], 5);
    assert_eq!(page["items"][0]["data"]["date"], "2026-03-11");
    assert_eq!(
        kinds(&page),
        ["SESSION_REMINDER", "SESSION_REMINDER", "NEW_MEMBER"]
    );
}

#[tokio::test]
async fn the_kill_switch_stops_reminders() {
    let app = spawn_app_with(&["--dev-login", "--notifications-paused"]).await;
    let host = app.login("host").await;
    app.create_challenge(&host, json!({})).await;
    app.set_now("2026-03-08T20:50:00Z");
    assert_eq!(app.reminders.run_now().await, 0);
    assert_eq!(notifications(&app, &host, 0).await["items"], json!([]));
}

/// Two nodes on one database: however their passes interleave, each reminder is sent once.
async fn two_nodes_send_each_reminder_once(database_url: Option<String>) {
    let shared = tempfile::tempdir().expect("shared dir");
    let url = database_url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            shared.path().join("shared.db").display()
        )
    });
    let start = |url: String| async move {
        let dir = tempfile::tempdir().expect("dir");
        let args = test_args(
            &dir,
            &[
                "--dev-login",
                "--database-url",
                &url,
                "--reminder-interval-ms",
                "3600000",
            ],
        );
        spawn_app_from(dir, args).await
    };
    let a = start(url.clone()).await;
    let b = start(url).await;
    let host = a.login("host").await;
    let mut tokens = vec![host.clone()];
    let id = a.create_challenge(&host, json!({ "capacity": 30 })).await;
    for i in 0..20 {
        let token = b.login(&format!("member{i}")).await;
        let (status, _) = b
            .post(
                &format!("/api/challenges/{id}/participants"),
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        tokens.push(token);
    }
    for minute in ["2026-03-08T20:50:00Z", "2026-03-08T20:51:00Z"] {
        a.set_now(minute);
        b.set_now(minute);
        let (x, y, z, w) = tokio::join!(
            a.reminders.run_now(),
            b.reminders.run_now(),
            a.reminders.run_now(),
            b.reminders.run_now()
        );
        let expected = if minute.ends_with("50:00Z") { 21 } else { 0 };
        assert_eq!(x + y + z + w, expected, "{x} {y} {z} {w}");
    }
    for token in &tokens[1..] {
        let page = notifications(&a, token, 1).await;
        assert_eq!(kinds(&page), ["SESSION_REMINDER"]);
    }
}

#[tokio::test]
async fn two_nodes_send_each_reminder_once_on_sqlite() {
    two_nodes_send_each_reminder_once(None).await;
}

#[tokio::test]
async fn two_nodes_send_each_reminder_once_on_postgres() {
    let Some(db) = TestDatabase::create(Server::Postgres, "ssgwan_n").await else {
        return;
    };
    two_nodes_send_each_reminder_once(Some(db.url.clone())).await;
    db.drop_now().await;
}

#[tokio::test]
async fn two_nodes_send_each_reminder_once_on_mariadb() {
    let Some(db) = TestDatabase::create(Server::MySql, "ssgwan_n").await else {
        return;
    };
    two_nodes_send_each_reminder_once(Some(db.url.clone())).await;
    db.drop_now().await;
}
