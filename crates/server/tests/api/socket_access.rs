//! Socket authorization kept current: membership is checked at `join`, and every change that
//! ends it (a cancel, the settlement at the end, a deletion) or the session (logout) reaches
//! the open sockets at once.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    support::{TestApp, Ws, spawn_app},
    ws::room_with,
};

fn chat(room: i64, body: &str, client_id: &str) -> Value {
    json!({ "type": "chat", "room": room, "body": body, "clientId": client_id })
}

/// The next `left` frame within a second (the bound the product promises).
async fn left_within_a_second(ws: &mut Ws) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let frame = ws
            .try_next(left)
            .await
            .expect("a left frame within a second");
        if frame["type"] == "left" {
            return frame;
        }
    }
}

/// Messages stored in `room`, as its creator reads them.
async fn stored_bodies(app: &TestApp, room: i64, token: &str) -> Vec<String> {
    let (status, page) = app
        .get(&format!("/api/challenges/{room}/messages"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["body"].as_str().expect("body").to_owned())
        .collect()
}

/// Both in the room on their own sockets; the host has seen the guest arrive.
async fn both_in(app: &TestApp, room: i64, tokens: &[String]) -> (Ws, Ws) {
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let mut guest = app.ws(&tokens[1]).await;
    guest.join(room, None).await;
    assert_eq!(host.next_of("presence").await["event"], "join");
    (host, guest)
}

#[tokio::test]
async fn a_cancelled_participant_is_taken_out_of_the_room_at_once() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "leaver"]).await;
    let (mut host, mut guest) = both_in(&app, room, &tokens).await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/challenges/{room}/participants/me"),
            Some(&tokens[1]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = left_within_a_second(&mut guest).await;
    assert_eq!(
        (left["room"].as_i64(), left["reason"].as_str()),
        (Some(room), Some("cancelled"))
    );
    assert_eq!(host.next_of("presence").await["event"], "leave");
    // Out: no chat, no media session, and the room's chat no longer reaches it.
    guest.send(chat(room, "still here?", "late")).await;
    assert_eq!(guest.next_of("error").await["code"], "NOT_IN_ROOM");
    guest
        .send(json!({ "type": "rtcStart", "room": room }))
        .await;
    assert_eq!(guest.next_of("error").await["code"], "NOT_IN_ROOM");
    host.send(chat(room, "bye", "h1")).await;
    host.next_of("chat").await;
    guest.assert_alive().await;
    assert!(
        guest.try_next(Duration::from_millis(200)).await.is_none(),
        "nothing from the room any more"
    );
    // And joining again is refused.
    guest.send(json!({ "type": "join", "room": room })).await;
    assert_eq!(guest.next_of("error").await["code"], "FORBIDDEN");
    assert_eq!(stored_bodies(&app, room, &tokens[0]).await, vec!["bye"]);
}

#[tokio::test]
async fn chat_from_a_socket_whose_membership_ended_in_the_database_is_refused() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "racer"]).await;
    let (_host, mut guest) = both_in(&app, room, &tokens).await;
    // The cancel as the database sees it, before any eviction could reach the socket (as when
    // the eviction is still on its way from another node).
    let url = format!("sqlite://{}", app._dir.path().join("ssgwan.db").display());
    let store = ssgwan_store::SqlStore::connect(&url, 2)
        .await
        .expect("store");
    use ssgwan_domain::Clock;
    use ssgwan_store::ParticipationStore;
    let guest_id = app.get("/api/me", Some(&tokens[1])).await.1["id"]
        .as_i64()
        .expect("id");
    store
        .cancel_participation(room, guest_id, app.clock.now())
        .await
        .expect("cancelled");
    guest.send(chat(room, "sneaky", "s1")).await;
    let error = guest.next_of("error").await;
    assert_eq!(
        (error["code"].as_str(), error["room"].as_i64()),
        (Some("FORBIDDEN"), Some(room))
    );
    assert!(
        stored_bodies(&app, room, &tokens[0]).await.is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets_with_4401_and_no_others() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "two-devices"]).await;
    // A second session of the guest (another device).
    let other_session = app.login("two-devices").await;
    let (mut host, mut guest) = both_in(&app, room, &tokens).await;
    let mut other_device = app.ws(&other_session).await;
    other_device.join(room, None).await;
    let (status, _) = app
        .post("/api/auth/logout", Some(&tokens[1]), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(guest.close_code(Duration::from_secs(1)).await, Some(4401));
    // The other device stays in the room, so the guest is still there for the host.
    other_device.assert_alive().await;
    host.send(chat(room, "still with you", "h1")).await;
    assert_eq!(
        other_device.next_of("chat").await["message"]["body"],
        "still with you"
    );
    assert!(
        host.try_next(Duration::from_millis(200))
            .await
            .is_none_or(|f| f["event"] != "leave"),
        "one session out is not the user out"
    );
}

#[tokio::test]
async fn settlement_at_the_end_takes_everyone_out_of_the_room() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest"]).await;
    let (mut host, mut guest) = both_in(&app, room, &tokens).await;
    // The last session ends 2026-03-22 07:00 in Seoul; settled 15 s later.
    app.set_now("2026-03-21T22:01:00Z");
    app.completion.run_now().await;
    for ws in [&mut host, &mut guest] {
        let left = left_within_a_second(ws).await;
        assert_eq!(
            (left["room"].as_i64(), left["reason"].as_str()),
            (Some(room), Some("ended"))
        );
    }
    guest.send(chat(room, "after the end", "late")).await;
    assert_eq!(guest.next_of("error").await["code"], "NOT_IN_ROOM");
    guest.send(json!({ "type": "join", "room": room })).await;
    assert_eq!(guest.next_of("error").await["code"], "FORBIDDEN");
}

#[tokio::test]
async fn deleting_a_challenge_closes_its_room_for_everyone() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest"]).await;
    let (mut host, mut guest) = both_in(&app, room, &tokens).await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/challenges/{room}"),
            Some(&tokens[0]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for ws in [&mut host, &mut guest] {
        let left = left_within_a_second(ws).await;
        assert_eq!(
            (left["room"].as_i64(), left["reason"].as_str()),
            (Some(room), Some("deleted"))
        );
        ws.send(chat(room, "anyone?", "x")).await;
        assert_eq!(ws.next_of("error").await["code"], "NOT_IN_ROOM");
    }
}
