//! Live video through the server's media server: only joined, active participants get a media
//! session; attendance counts only video the media server verifies (a claim over the socket
//! earns nothing); members receive the videos they view; evictions end the media at once; and
//! every refusal is a coded error frame on a connection that stays up.
//!
//! The video is real: a `TestPeer` (a str0m client from the media crate) answers the server's
//! offers, connects over UDP to the media server and publishes synthetic VP8.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    attendance::{attendance_reaching, camera, one_session_room, send_settled, settled_statuses},
    support::{TestApp, TestPeer, VideoSpec, Ws, spawn_app, spawn_app_with},
};

async fn user_id(app: &TestApp, token: &str) -> i64 {
    app.get("/api/me", Some(token)).await.1["id"]
        .as_i64()
        .expect("id")
}

/// The code of the next error frame.
async fn error_code(ws: &mut Ws) -> String {
    ws.next_of("error").await["code"]
        .as_str()
        .expect("code")
        .to_owned()
}

/// The attack: a participant with no camera and no WebRTC who only sends
/// `media {camera: true}` for the whole session. Before issue 13 the server credited it.
#[tokio::test]
async fn a_socket_that_only_claims_its_camera_is_on_earns_nothing_and_is_never_verified() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["claimer", "watcher"]).await;
    let mut watcher = app.ws(&tokens[1]).await;
    watcher.join(room, None).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    assert_eq!(ws.next_of("attendance").await["seconds"], 0);
    app.set_now("2026-03-02T21:00:00Z");
    send_settled(&app, &mut ws, camera(room, true)).await;
    // Even a media session that is started but never connected proves nothing.
    ws.send(json!({ "type": "rtcStart", "room": room })).await;
    ws.next_of("rtcOffer").await;
    for minute in ["21:10", "21:20", "21:30", "21:40", "21:59"] {
        app.set_now(&format!("2026-03-02T{minute}:00Z"));
        send_settled(&app, &mut ws, camera(room, true)).await;
    }
    ws.expect_none_of("attendance", Duration::from_millis(300))
        .await;
    while let Some(frame) = ws.try_next(Duration::from_millis(100)).await {
        assert!(
            !(frame["type"] == "camera" && frame["verified"] == true),
            "a claim was verified: {frame}"
        );
    }
    // The others never see the claimer on camera either.
    while let Some(frame) = watcher.try_next(Duration::from_millis(100)).await {
        assert!(
            !(frame["type"] == "presence" && frame["user"]["camera"] == true),
            "shown on camera: {frame}"
        );
    }
    app.set_now("2026-03-02T22:00:16Z");
    let statuses = settled_statuses(&app, room).await;
    assert!(
        statuses.contains(&("claimer".to_owned(), "FAILED".to_owned(), 0)),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_test_peer_publishing_live_video_is_verified_and_earns_the_session() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["publisher", "watcher"]).await;
    let mut watcher = app.ws(&tokens[1]).await;
    watcher.join(room, None).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    watcher.next_of("presence").await;
    app.set_now("2026-03-02T21:00:00Z");
    let peer = ws.start_media(room).await;
    // Connected, nothing published yet: not verified, and why.
    let before = ws.next_of("camera").await;
    assert_eq!(
        (before["verified"].as_bool(), before["reason"].as_str()),
        (Some(false), Some("noVideo"))
    );
    peer.publish_video(VideoSpec::live_camera());
    let verified = ws.camera_verdict(room, true).await;
    assert_eq!(verified["reason"], serde_json::Value::Null);
    app.attendance.settled().await;
    // The others see the verified camera.
    let shown = watcher.next_of("presence").await;
    assert_eq!(
        (shown["event"].as_str(), shown["user"]["camera"].as_bool()),
        (Some("media"), Some(true))
    );
    app.set_now("2026-03-02T21:31:00Z");
    let frame = attendance_reaching(&mut ws, 1860).await;
    assert_eq!(
        (frame["seconds"].as_i64(), frame["achieved"].as_bool()),
        (Some(1860), Some(true))
    );
    assert!(
        app.metric("ssgwan_media_peers").await.is_some(),
        "the media server's sessions are on /metrics"
    );
    // The video stops: unverified after the grace, and the clock stops with it.
    app.set_now("2026-03-02T21:40:00Z");
    let stalled = ws.go_off_camera(room, &peer).await;
    assert!(
        matches!(
            stalled["reason"].as_str(),
            Some("stalled" | "noVideo" | "lowFrameRate")
        ),
        "{stalled}"
    );
    app.attendance.settled().await;
    app.set_now("2026-03-02T21:50:00Z");
    let mut again = app.ws(&tokens[0]).await;
    again.join(room, None).await;
    assert_eq!(again.next_of("attendance").await["seconds"], 2400);
    let hidden = watcher.next_of("presence").await;
    assert_eq!(hidden["user"]["camera"], false);
}

#[tokio::test]
async fn tiny_frames_are_not_a_live_camera_and_earn_nothing() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["blackout"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    assert_eq!(ws.next_of("attendance").await["seconds"], 0);
    app.set_now("2026-03-02T21:00:00Z");
    let peer = ws.start_media(room).await;
    peer.publish_video(VideoSpec::tiny_frames());
    // The verdict settles on tiny frames (it starts at noVideo).
    let verdict = loop {
        let frame = ws.next_of("camera").await;
        if frame["reason"] == "tinyFrames" {
            break frame;
        }
        assert_eq!(frame["verified"], false, "{frame}");
    };
    assert_eq!(verdict["verified"], false);
    app.attendance.settled().await;
    app.set_now("2026-03-02T21:40:00Z");
    ws.assert_alive().await;
    app.attendance.settled().await;
    ws.expect_none_of("attendance", Duration::from_millis(300))
        .await;
    let mut again = app.ws(&tokens[0]).await;
    again.join(room, None).await;
    assert_eq!(again.next_of("attendance").await["seconds"], 0);
    peer.stop_video();
}

#[tokio::test]
async fn only_a_tab_that_joined_as_an_active_participant_gets_a_media_session() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host"]).await;
    let stranger = app.login("stranger").await;
    // Not joined on this connection.
    let mut host = app.ws(&tokens[0]).await;
    host.send(json!({ "type": "rtcStart", "room": room })).await;
    assert_eq!(error_code(&mut host).await, "NOT_IN_ROOM");
    // Not a participant: cannot join, so no media either.
    let mut outsider = app.ws(&stranger).await;
    outsider.send(json!({ "type": "join", "room": room })).await;
    assert_eq!(error_code(&mut outsider).await, "FORBIDDEN");
    outsider
        .send(json!({ "type": "rtcStart", "room": room }))
        .await;
    assert_eq!(error_code(&mut outsider).await, "NOT_IN_ROOM");
    outsider
        .expect_none_of("rtcOffer", Duration::from_millis(300))
        .await;
    host.expect_none_of("rtcOffer", Duration::from_millis(100))
        .await;
    outsider.assert_alive().await;
}

/// Waits until `peer` has received video from `user` (within 10 s); the frames so far.
async fn receives_video_from(peer: &TestPeer, user: i64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frames = peer.received_video_from(user).frames;
        if frames > 0 {
            return frames;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no video from user {user} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that `peer` receives no more video from `user` (a second after `settle`).
async fn receives_nothing_more_from(peer: &TestPeer, user: i64) {
    // What was in flight arrives within the settle time.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = peer.received_video_from(user).frames;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        peer.received_video_from(user).frames,
        before,
        "video from user {user} still arrives"
    );
}

/// A (publishing) and B (viewing A): B's tab has a media session whose view lists A, with its
/// renegotiation answered.
async fn viewer_of(
    app: &TestApp,
    room: i64,
    tokens: &[String],
) -> (Ws, TestPeer, Ws, TestPeer, i64) {
    let a_id = user_id(app, &tokens[0]).await;
    let mut a = app.ws(&tokens[0]).await;
    a.join(room, None).await;
    let a_video = a.go_on_camera(room).await;
    let mut b = app.ws(&tokens[1]).await;
    b.join(room, None).await;
    let b_peer = b.start_media(room).await;
    b.send(
        json!({ "type": "rtcView", "room": room, "tiles": [{ "user": a_id, "size": "large" }] }),
    )
    .await;
    let offer = b.answer_next_offer(room, &b_peer).await;
    assert!(
        offer
            .tracks
            .iter()
            .any(|t| t.user == a_id && t.kind == ssgwan_media::TrackKind::Video),
        "the offer carries A's video: {:?}",
        offer.tracks
    );
    (a, a_video, b, b_peer, a_id)
}

#[tokio::test]
async fn a_member_receives_the_videos_it_views_and_stops_after_an_empty_view() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["shown", "viewer"]).await;
    let (_a, _a_video, mut b, b_peer, a_id) = viewer_of(&app, room, &tokens).await;
    receives_video_from(&b_peer, a_id).await;
    b.send(json!({ "type": "rtcView", "room": room, "tiles": [] }))
        .await;
    // The m-line goes inactive: answer the offer if the server makes one.
    if let Some(frame) = b.try_next(Duration::from_secs(2)).await
        && frame["type"] == "rtcOffer"
    {
        let offer = crate::support::offer_of(&frame);
        let answer = b_peer.accept(&offer).await.expect("answer");
        b.send(
            json!({ "type": "rtcAnswer", "room": room, "revision": offer.revision, "sdp": answer }),
        )
        .await;
    }
    receives_nothing_more_from(&b_peer, a_id).await;
    b.assert_alive().await;
}

#[tokio::test]
async fn a_cancelled_participant_loses_its_media_session_at_once() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host", "leaver"]).await;
    let (_a, _a_video, mut b, b_peer, a_id) = viewer_of(&app, room, &tokens).await;
    receives_video_from(&b_peer, a_id).await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/challenges/{room}/participants/me"),
            Some(&tokens[1]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let closed = b.next_of("rtcClosed").await;
    assert_eq!(
        (closed["room"].as_i64(), closed["reason"].as_str()),
        (Some(room), Some("left"))
    );
    assert_eq!(b.next_of("left").await["reason"], "cancelled");
    receives_nothing_more_from(&b_peer, a_id).await;
    // And no new session.
    b.send(json!({ "type": "rtcStart", "room": room })).await;
    assert_eq!(error_code(&mut b).await, "NOT_IN_ROOM");
    b.expect_none_of("rtcOffer", Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn a_second_rtc_start_replaces_the_session_and_says_so_first() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["restarter"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    let _peer = ws.go_on_camera(room).await;
    ws.send(json!({ "type": "rtcStart", "room": room })).await;
    // In this order: the old session ends, then the new one's first offer.
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("rtcClosed") => {
                assert_eq!(frame["reason"], "replaced");
                break;
            }
            Some("rtcOffer") => panic!("the new offer came before rtcClosed: {frame}"),
            _ => {}
        }
    }
    let offer = ws.next_offer(room).await;
    assert_eq!(
        offer.revision, 1,
        "a new session counts its revisions afresh"
    );
    // The new session publishes nothing yet: not verified.
    ws.camera_verdict(room, false).await;
}

#[tokio::test]
async fn bad_media_frames_are_refused_with_codes_and_the_connection_stays_up() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["fumbler", "other"]).await;
    let me = user_id(&app, &tokens[0]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    // Before rtcStart.
    for frame in [
        json!({ "type": "rtcAnswer", "room": room, "revision": 1, "sdp": "v=0\r\n" }),
        json!({ "type": "rtcRestart", "room": room }),
        json!({ "type": "rtcView", "room": room, "tiles": [] }),
    ] {
        ws.send(frame).await;
        assert_eq!(error_code(&mut ws).await, "RTC_NOT_STARTED");
    }
    ws.send(json!({ "type": "rtcStart", "room": room })).await;
    let first = ws.next_offer(room).await;
    assert_eq!(first.revision, 1);
    // An answer that is no SDP.
    ws.send(json!({ "type": "rtcAnswer", "room": room, "revision": 1, "sdp": "hello" }))
        .await;
    let bad = ws.next_of("error").await;
    assert_eq!(
        (bad["code"].as_str(), bad["room"].as_i64()),
        (Some("RTC_BAD_ANSWER"), Some(room))
    );
    // The offer still stands: a real answer to it is taken.
    let peer = TestPeer::new().await.expect("test peer");
    let answer = peer
        .accept(&first)
        .await
        .expect("an answer to the first offer");
    ws.send(
        json!({ "type": "rtcAnswer", "room": room, "revision": first.revision, "sdp": answer }),
    )
    .await;
    assert!(peer.wait_connected(Duration::from_secs(10)).await);
    // An answer to an offer that a newer one replaced.
    ws.send(json!({ "type": "rtcRestart", "room": room })).await;
    let second = ws.next_offer(room).await;
    assert!(second.revision > first.revision);
    ws.send(
        json!({ "type": "rtcAnswer", "room": room, "revision": first.revision, "sdp": answer }),
    )
    .await;
    assert_eq!(error_code(&mut ws).await, "RTC_STALE_REVISION");
    // Views: at most 25 tiles, each user once, never yourself.
    let tiles: Vec<_> = (0..26)
        .map(|n| json!({ "user": 10_000 + n, "size": "small" }))
        .collect();
    ws.send(json!({ "type": "rtcView", "room": room, "tiles": tiles }))
        .await;
    let too_many = ws.next_of("error").await;
    assert_eq!(
        (too_many["code"].as_str(), too_many["field"].as_str()),
        (Some("VALIDATION_FAILED"), Some("tiles"))
    );
    for tiles in [
        json!([{ "user": me, "size": "small" }]),
        json!([{ "user": 7, "size": "small" }, { "user": 7, "size": "large" }]),
    ] {
        ws.send(json!({ "type": "rtcView", "room": room, "tiles": tiles }))
            .await;
        let refused = ws.next_of("error").await;
        assert_eq!(refused["field"], "tiles", "{refused}");
    }
    ws.send(json!({ "type": "rtcView", "room": room, "tiles": [{ "user": 7, "size": "huge" }] }))
        .await;
    assert_eq!(error_code(&mut ws).await, "INVALID_FRAME");
    // An SDP over 64 KiB (in a frame under the answer's frame limit).
    let sdp = "a".repeat(64 * 1024 + 1);
    ws.send(json!({ "type": "rtcAnswer", "room": room, "revision": second.revision, "sdp": sdp }))
        .await;
    let large = ws.next_of("error").await;
    assert_eq!(
        (large["code"].as_str(), large["field"].as_str()),
        (Some("VALIDATION_FAILED"), Some("sdp"))
    );
    ws.assert_alive().await;
}

#[tokio::test]
async fn a_node_without_a_media_server_says_so() {
    let app = spawn_app_with(&["--dev-login", "--media", "off"]).await;
    let (room, tokens) = one_session_room(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    ws.send(json!({ "type": "rtcStart", "room": room })).await;
    let refused = ws.next_of("error").await;
    assert_eq!(
        (refused["code"].as_str(), refused["room"].as_i64()),
        (Some("MEDIA_UNAVAILABLE"), Some(room))
    );
    ws.assert_alive().await;
}

/// The media sessions this server's media server holds now.
fn media_peers(app: &TestApp) -> u64 {
    app.media.as_ref().expect("a media server").snapshot().peers
}

/// Waits (at most 5 s) until the media server holds `peers` sessions.
async fn media_peers_become(app: &TestApp, peers: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while media_peers(app) != peers {
        assert!(
            std::time::Instant::now() < deadline,
            "{} media sessions, expected {peers}",
            media_peers(app)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_logout_a_dropped_socket_and_a_deletion_each_end_the_media_session() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host", "guest"]).await;
    let mut host = app.ws(&tokens[0]).await;
    let mut guest = app.ws(&tokens[1]).await;
    host.join(room, None).await;
    guest.join(room, None).await;
    let _host_video = host.go_on_camera(room).await;
    let _guest_video = guest.go_on_camera(room).await;
    assert_eq!(media_peers(&app), 2);
    // Logout: the socket closes with 4401 and its media session ends.
    let (status, _) = app
        .post("/api/auth/logout", Some(&tokens[1]), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(guest.close_code(Duration::from_secs(2)).await, Some(4401));
    media_peers_become(&app, 1).await;
    // A dropped socket.
    drop(host);
    media_peers_become(&app, 0).await;
    // A deletion: the room closes for everyone, media first.
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let _again = host.start_media(room).await;
    assert_eq!(media_peers(&app), 1);
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/challenges/{room}"),
            Some(&tokens[0]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(host.next_of("rtcClosed").await["reason"], "left");
    assert_eq!(host.next_of("left").await["reason"], "deleted");
    media_peers_become(&app, 0).await;
}

#[tokio::test]
async fn the_settlement_at_the_end_ends_the_media_sessions() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["finisher"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    let _video = ws.start_media(room).await;
    assert_eq!(media_peers(&app), 1);
    app.set_now("2026-03-02T22:00:16Z");
    app.attendance.settled().await;
    app.completion.run_now().await;
    assert_eq!(ws.next_of("rtcClosed").await["reason"], "left");
    assert_eq!(ws.next_of("left").await["reason"], "ended");
    media_peers_become(&app, 0).await;
}
