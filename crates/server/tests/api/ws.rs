//! The real-time gateway: chat, recovery, presence, slow clients, errors.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, Ws, assert_error, spawn_app};

/// A challenge with `members` participants (the first is the creator); returns room and tokens.
pub(crate) async fn room_with(app: &TestApp, members: &[&str]) -> (i64, Vec<String>) {
    let mut tokens = Vec::new();
    for name in members {
        tokens.push(app.login(name).await);
    }
    let room = app.create_challenge(&tokens[0], json!({})).await;
    for token in &tokens[1..] {
        let (status, body) = app
            .post(
                &format!("/api/challenges/{room}/participants"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    (room, tokens)
}

fn chat(room: i64, body: &str, client_id: &str) -> Value {
    json!({ "type": "chat", "room": room, "body": body, "clientId": client_id })
}

#[tokio::test]
async fn the_gateway_refuses_anonymous_upgrades_with_401() {
    let app = spawn_app().await;
    let url = format!("{}/api/ws", app.base.replace("http://", "ws://"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401 refusal, got {:?}", other.map(|_| ())),
    } // A signed-in plain HTTP request is told to upgrade.
    let token = app.login("plain").await;
    assert_error(
        &app.get("/api/ws", Some(&token)).await,
        StatusCode::UPGRADE_REQUIRED,
        "UPGRADE_REQUIRED",
        None,
    );
}

#[tokio::test]
async fn three_members_chat_and_everyone_gets_every_message_once_with_increasing_ids() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest1", "guest2"]).await;
    let mut clients = Vec::new();
    for token in &tokens {
        let mut ws = app.ws(token).await;
        ws.join(room, None).await;
        clients.push(ws);
    }
    // One after the other: between two senders the order is whoever is stored first.
    clients[0].send(chat(room, "  안녕하세요  ", "c-1")).await;
    let mut firsts = Vec::new();
    for ws in &mut clients {
        firsts.push(ws.next_of("chat").await);
    }
    clients[1].send(chat(room, "hello", "c-2")).await;
    let mut ids = Vec::new();
    for (ws, first) in clients.iter_mut().zip(firsts) {
        let second = ws.next_of("chat").await;
        assert_eq!(first["message"]["body"], "안녕하세요", "trimmed");
        assert_eq!(
            first["clientId"], "c-1",
            "the sender's clientId comes back with the message"
        );
        assert_eq!(first["message"]["nickname"], "host");
        assert_eq!(second["message"]["body"], "hello");
        assert_eq!(first["room"], room);
        ids.push((
            first["message"]["id"].as_i64().expect("id"),
            second["message"]["id"].as_i64().expect("id"),
        ));
    }
    assert!(
        ids.iter()
            .all(|(a, b)| a < b && *ids.first().expect("ids") == (*a, *b)),
        "same ids everywhere, increasing: {ids:?}"
    );
    // History over HTTP has both, oldest first.
    let (status, history) = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[2]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let bodies: Vec<&str> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(bodies, vec!["안녕하세요", "hello"]);
}

#[tokio::test]
async fn a_resent_client_id_is_stored_once_and_confirmed_to_the_sender() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest"]).await;
    let mut host = app.ws(&tokens[0]).await;
    let mut guest = app.ws(&tokens[1]).await;
    host.join(room, None).await;
    guest.join(room, None).await;
    host.send(chat(room, "once", "same-id")).await;
    let first = host.next_of("chat").await;
    guest.next_of("chat").await;
    host.send(chat(room, "once", "same-id")).await;
    let again = host.next_of("chat").await;
    assert_eq!(again["message"]["id"], first["message"]["id"]);
    guest
        .expect_none_of("chat", Duration::from_millis(300))
        .await;
    let (_, history) = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[0]),
        )
        .await;
    assert_eq!(history["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn a_reconnecting_client_recovers_what_it_missed_in_order() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest"]).await;
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let mut guest = app.ws(&tokens[1]).await;
    guest.join(room, None).await;
    host.send(chat(room, "seen", "m0")).await;
    let seen = guest.next_of("chat").await["message"]["id"]
        .as_i64()
        .expect("id");
    drop(guest);
    for i in 1..=3 {
        host.send(chat(room, &format!("missed {i}"), &format!("m{i}")))
            .await;
        host.next_of("chat").await;
    }
    let mut guest = app.ws(&tokens[1]).await;
    let joined = guest.join(room, Some(seen)).await;
    let missed: Vec<&str> = joined["missed"]
        .as_array()
        .expect("missed")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(missed, vec!["missed 1", "missed 2", "missed 3"]);
    assert_eq!(joined["truncated"], false);
}

#[tokio::test]
async fn more_than_500_missed_messages_are_truncated_to_the_newest() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest"]).await;
    // Fill the room directly through the store (the chat rate limit would take minutes).
    let url = format!("sqlite://{}", app._dir.path().join("ssgwan.db").display());
    let store = ssgwan_store::SqlStore::connect(&url, 2)
        .await
        .expect("store");
    use ssgwan_domain::Clock;
    use ssgwan_store::ChatStore;
    let host_id = app.get("/api/me", Some(&tokens[0])).await.1["id"]
        .as_i64()
        .expect("id");
    for i in 0..510 {
        store
            .post_message(
                room,
                host_id,
                &format!("bulk-{i}"),
                &format!("bulk {i}"),
                app.clock.now(),
            )
            .await
            .expect("stored");
    }
    let mut guest = app.ws(&tokens[1]).await;
    let joined = guest.join(room, Some(0)).await;
    let missed = joined["missed"].as_array().expect("missed");
    assert_eq!(joined["truncated"], true);
    assert_eq!(missed.len(), 500);
    assert_eq!(missed[0]["body"], "bulk 10", "the newest 500, oldest first");
    assert_eq!(missed[499]["body"], "bulk 509");
    // The rest is paged over HTTP.
    let (_, page) = app
        .get(
            &format!(
                "/api/challenges/{room}/messages?before={}&limit=100",
                missed[0]["id"]
            ),
            Some(&tokens[1]),
        )
        .await;
    assert_eq!(page["items"].as_array().expect("items").len(), 10);
    assert_eq!(page["nextBefore"], Value::Null);
}

#[tokio::test]
async fn strangers_are_refused_and_stay_connected() {
    let app = spawn_app().await;
    let (room, _tokens) = room_with(&app, &["host"]).await;
    let stranger = app.login("stranger").await;
    let mut ws = app.ws(&stranger).await;
    ws.send(json!({ "type": "join", "room": room })).await;
    let error = ws.next_of("error").await;
    assert_eq!(
        (error["code"].as_str(), error["room"].as_i64()),
        (Some("FORBIDDEN"), Some(room))
    );
    ws.send(chat(room, "let me in", "x")).await;
    assert_eq!(ws.next_of("error").await["code"], "NOT_IN_ROOM");
    ws.assert_alive().await;
    assert_error(
        &app.get(&format!("/api/challenges/{room}/messages"), Some(&stranger))
            .await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        None,
    );
    ws.send(json!({ "type": "join", "room": 999_999 })).await;
    assert_eq!(ws.next_of("error").await["code"], "FORBIDDEN");
}

#[tokio::test]
async fn every_bad_frame_gets_a_coded_error_and_the_connection_stays_up() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "MALFORMED_JSON"),
        ("42".into(), "MISSING_TYPE"),
        (r#"{"room": 1}"#.into(), "MISSING_TYPE"),
        (r#"{"type": "teleport"}"#.into(), "UNKNOWN_TYPE"),
        (r#"{"type": "join"}"#.into(), "INVALID_FRAME"),
        (
            r#"{"type": "chat", "room": 1, "body": "x"}"#.into(),
            "INVALID_FRAME",
        ),
        (
            r#"{"type": "media", "room": 1, "camera": "yes", "mic": false}"#.into(),
            "INVALID_FRAME",
        ),
        (
            format!(
                r#"{{"type": "chat", "room": {room}, "body": "{}", "clientId": "big"}}"#,
                "x".repeat(70 * 1024)
            ),
            "FRAME_TOO_LARGE",
        ),
        (
            format!(r#"{{"type": "chat", "room": {room}, "body": "   ", "clientId": "blank"}}"#),
            "VALIDATION_FAILED",
        ),
        (
            format!(
                r#"{{"type": "chat", "room": {room}, "body": "{}", "clientId": "long"}}"#,
                "가".repeat(1001)
            ),
            "VALIDATION_FAILED",
        ),
        (
            format!(r#"{{"type": "leave", "room": {}}}"#, room + 1),
            "NOT_IN_ROOM",
        ),
    ];
    for (text, code) in cases {
        ws.send_text(text.clone()).await;
        let error = ws.next_of("error").await;
        assert_eq!(error["code"], code, "for {}", &text[..text.len().min(80)]);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    ws.assert_alive().await;
}

#[tokio::test]
async fn chat_bodies_with_control_characters_or_bidi_overrides_are_refused() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    for (n, body) in [
        "a\u{0}b",
        "\u{1b}[2J",
        "photo\u{202e}gpj.exe",
        "x\u{2066}y\u{2069}",
    ]
    .into_iter()
    .enumerate()
    {
        ws.send(chat(room, body, &format!("bad-{n}"))).await;
        let error = ws.next_of("error").await;
        assert_eq!(error["code"], "VALIDATION_FAILED", "{body:?}: {error}");
        assert_eq!(error["field"], "body", "{body:?}: {error}");
    }
    ws.send(chat(room, "줄 하나\n\t줄 둘", "good")).await;
    let message = ws.next_of("chat").await;
    assert_eq!(message["message"]["body"], "줄 하나\n\t줄 둘", "{message}");
    ws.assert_alive().await;
}

#[tokio::test]
async fn chat_is_rate_limited_per_user() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    for i in 0..12 {
        ws.send(chat(room, "spam", &format!("s{i}"))).await;
    }
    let mut delivered = 0;
    let mut limited = 0;
    while delivered + limited < 12 {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("chat") => delivered += 1,
            Some("error") if frame["code"] == "RATE_LIMITED" => limited += 1,
            Some("attendance") => continue,
            _ => panic!("unexpected {frame}"),
        }
    }
    assert_eq!((delivered, limited), (10, 2));
}

#[tokio::test]
async fn presence_counts_tabs_as_one_member_and_reports_media() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["watcher", "twotabs"]).await;
    let mut watcher = app.ws(&tokens[0]).await;
    watcher.join(room, None).await;
    let mut tab1 = app.ws(&tokens[1]).await;
    let joined = tab1.join(room, None).await;
    assert_eq!(joined["members"].as_array().expect("members").len(), 2);
    let presence = watcher.next_of("presence").await;
    assert_eq!(
        (
            presence["event"].as_str(),
            presence["user"]["nickname"].as_str()
        ),
        (Some("join"), Some("twotabs"))
    );
    let mut tab2 = app.ws(&tokens[1]).await;
    tab2.join(room, None).await;
    watcher
        .expect_none_of("presence", Duration::from_millis(200))
        .await;

    // The microphone is what the tab says (the camera is what the media server verifies: a
    // claim alone shows nothing, see attendance.rs).
    tab2.send(json!({ "type": "media", "room": room, "camera": true, "mic": true }))
        .await;
    let media = watcher.next_of("presence").await;
    assert_eq!(
        (
            media["event"].as_str(),
            media["user"]["mic"].as_bool(),
            media["user"]["camera"].as_bool()
        ),
        (Some("media"), Some(true), Some(false))
    );
    // The other tab turning its microphone on changes nothing for the member.
    tab1.send(json!({ "type": "media", "room": room, "camera": true, "mic": true }))
        .await;
    watcher
        .expect_none_of("presence", Duration::from_millis(200))
        .await;

    drop(tab1);
    watcher
        .expect_none_of("presence", Duration::from_millis(300))
        .await;
    tab2.send(json!({ "type": "leave", "room": room })).await;
    let left = watcher.next_of("presence").await;
    assert_eq!(
        (left["event"].as_str(), left["user"]["nickname"].as_str()),
        (Some("leave"), Some("twotabs"))
    );
}

#[tokio::test]
async fn a_dropped_connection_leaves_the_room() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["watcher", "dropper"]).await;
    let mut watcher = app.ws(&tokens[0]).await;
    watcher.join(room, None).await;
    let mut dropper = app.ws(&tokens[1]).await;
    dropper.join(room, None).await;
    watcher.next_of("presence").await;
    drop(dropper);
    assert_eq!(watcher.next_of("presence").await["event"], "leave");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_and_leaves() {
    // No frame budget: the reader asks for far more than it reads, as fast as it can.
    let app = crate::support::spawn_app_with(&["--dev-login", "--ws-frames-per-second", "0"]).await;
    let (room, tokens) = room_with(&app, &["watcher", "sleepy"]).await;
    let url = format!("sqlite://{}", app._dir.path().join("ssgwan.db").display());
    let store = ssgwan_store::SqlStore::connect(&url, 2)
        .await
        .expect("store");
    use ssgwan_domain::Clock;
    use ssgwan_store::ChatStore;
    let watcher_id = app.get("/api/me", Some(&tokens[0])).await.1["id"]
        .as_i64()
        .expect("id");
    // A long history, so that every `join {since: 0}` answers a `joined` of about 64 KiB.
    let body = "x".repeat(1_000);
    for i in 0..100 {
        store
            .post_message(
                room,
                watcher_id,
                &format!("long-{i}"),
                &body,
                app.clock.now(),
            )
            .await
            .expect("stored");
    }
    let mut watcher = app.ws(&tokens[0]).await;
    watcher.join(room, None).await;
    let mut sleepy: Ws = app.ws(&tokens[1]).await;
    sleepy.join(room, None).await;
    watcher.next_of("presence").await;
    // Joins whose answers it never reads, until the server gives up on it.
    let join = json!({ "type": "join", "room": room, "since": 0 }).to_string();
    let mut closed = false;
    for _ in 0..2_000 {
        use futures::SinkExt;
        let sent = sleepy
            .stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                join.clone().into(),
            ))
            .await;
        if sent.is_err() {
            break;
        }
        if let Some(f) = watcher.try_next(Duration::from_millis(1)).await
            && f["type"] == "presence"
            && f["event"] == "leave"
        {
            closed = true;
            break;
        }
    }
    if !closed {
        closed = watcher.next_of("presence").await["event"] == "leave";
    }
    assert!(closed, "the slow client was closed and left the room");
    watcher.assert_alive().await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("ssgwan_ws_closed_slow_total"), "{metrics}");
}

#[tokio::test]
async fn ice_servers_list_stun_and_issue_turn_credentials() {
    let app = crate::support::spawn_app_with(&[
        "--dev-login",
        "--stun-urls",
        "stun:127.0.0.1:3478",
        "--turn-urls",
        "turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp",
        "--turn-secret",
        "s3cret",
        "--turn-ttl-secs",
        "600",
    ])
    .await;
    let token = app.login("caller").await;
    assert_error(
        &app.get("/api/rtc/ice-servers", None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
    let (status, body) = app.get("/api/rtc/ice-servers", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["iceServers"][0]["urls"],
        json!(["stun:127.0.0.1:3478"])
    );
    let turn = &body["iceServers"][1];
    let username = turn["username"].as_str().expect("username");
    let (expiry, user) = username.split_once(':').expect("expiry:user");
    let me = app.get("/api/me", Some(&token)).await.1;
    assert_eq!(user, me["id"].to_string());
    let epoch: i64 = crate::support::EPOCH
        .parse::<jiff::Timestamp>()
        .expect("epoch")
        .as_second();
    assert_eq!(expiry.parse::<i64>().expect("expiry"), epoch + 600);
    assert_eq!(
        turn["credential"],
        ssgwan_server::http::rtc::turn_password("s3cret", username)
    );
    assert_eq!(body["ttlSeconds"], 600);
}
