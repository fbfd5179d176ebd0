//! Bounded real-time resources: what one socket may cost the server (replayed history, queued
//! bytes, frames) and how many sockets one user or address may hold.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use ssgwan_domain::Clock;
use ssgwan_store::ChatStore;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    child,
    support::{TestApp, Ws, connect_ws_with, spawn_app, spawn_app_with},
    ws::room_with,
};

/// Stores `count` messages of `body` from `user` in `room`, straight through the store (the
/// chat rate limit would take minutes).
async fn fill_room(
    db: &std::path::Path,
    room: i64,
    user: i64,
    count: usize,
    body: &str,
    now: jiff::Timestamp,
) {
    let url = format!("sqlite://{}", db.display());
    let store = ssgwan_store::SqlStore::connect(&url, 2)
        .await
        .expect("store");
    for i in 0..count {
        store
            .post_message(room, user, &format!("fill-{i}"), body, now)
            .await
            .expect("stored");
    }
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    app.get("/api/me", Some(token)).await.1["id"]
        .as_i64()
        .expect("id")
}

/// Sends raw text frames as fast as possible, without reading; stops at the first failure
/// (the server closed the connection). Returns how many went out.
async fn blast(ws: &mut Ws, frame: &str, times: usize) -> usize {
    for sent in 0..times {
        if ws
            .stream
            .send(Message::Text(frame.to_owned().into()))
            .await
            .is_err()
        {
            return sent;
        }
    }
    times
}

/// Sends `frame` `times` times as fast as possible while reading everything the server sends
/// (a client that only wrote would have what it has not read yet discarded by its kernel when
/// the server resets the connection). Returns the frames read and the close code, once the
/// server closed the connection (or 10 s passed).
async fn flood(ws: Ws, frame: &str, times: usize) -> (Vec<Value>, Option<u16>) {
    let (mut sink, mut stream) = ws.stream.split();
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    frames.push(serde_json::from_str(&text).expect("server frames are JSON"));
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return (frames, frame.map(|f| f.code.into()));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) | Err(_) => return (frames, None),
            }
        }
    });
    for _ in 0..times {
        if sink
            .send(Message::Text(frame.to_owned().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    reader.await.expect("reader")
}

fn count(frames: &[Value], kind: &str) -> usize {
    frames.iter().filter(|f| f["type"] == kind).count()
}

fn errors(frames: &[Value], code: &str) -> usize {
    frames
        .iter()
        .filter(|f| f["type"] == "error" && f["code"] == code)
        .count()
}

#[tokio::test]
async fn a_join_replays_at_most_64_kib_of_missed_messages_and_says_it_truncated() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "guest"]).await;
    let host = user_id(&app, &tokens[0]).await;
    // 500 messages of 1,000 characters (3 bytes each in UTF-8): 1.5 MB of history.
    let body = "가".repeat(1_000);
    fill_room(
        &app._dir.path().join("ssgwan.db"),
        room,
        host,
        500,
        &body,
        app.clock.now(),
    )
    .await;
    let mut guest = app.ws(&tokens[1]).await;
    guest
        .send(json!({ "type": "join", "room": room, "since": 0 }))
        .await;
    let frame = loop {
        let message = tokio::time::timeout(Duration::from_secs(5), guest.stream.next())
            .await
            .expect("a frame within 5 s")
            .expect("open")
            .expect("readable");
        if let Message::Text(text) = message
            && text.contains(r#""type":"joined""#)
        {
            break text;
        }
    };
    assert!(
        frame.len() <= 68 * 1024,
        "the joined frame is {} bytes",
        frame.len()
    );
    let joined: Value = serde_json::from_str(&frame).expect("JSON");
    assert_eq!(joined["truncated"], true);
    let missed = joined["missed"].as_array().expect("missed");
    assert!(
        (18..=22).contains(&missed.len()),
        "about 21 messages of 3 KB fit: {}",
        missed.len()
    );
    let ids: Vec<i64> = missed
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    // The newest ones: the client pages back over HTTP from the oldest it got.
    let (_, page) = app
        .get(
            &format!("/api/challenges/{room}/messages?before={}&limit=1", ids[0]),
            Some(&tokens[1]),
        )
        .await;
    assert_eq!(page["items"][0]["id"], ids[0] - 1, "{page}");
    let (_, newest) = app
        .get(
            &format!("/api/challenges/{room}/messages?limit=1"),
            Some(&tokens[1]),
        )
        .await;
    assert_eq!(newest["items"][0]["id"], *ids.last().expect("some"));
}

#[tokio::test]
async fn a_ping_flood_is_refused_with_too_many_frames_then_closed_with_4429() {
    let app = spawn_app().await;
    let token = app.login("flooder").await;
    let ws = app.ws(&token).await;
    let started = Instant::now();
    let (frames, code) = flood(ws, r#"{"type":"ping"}"#, 5_000).await;
    let seconds = started.elapsed().as_secs_f64();
    let pongs = count(&frames, "pong");
    // A burst of 200 and 20 per second after it.
    assert!(
        pongs <= 200 + (20.0 * seconds) as usize + 5,
        "{pongs} pongs in {seconds:.1} s"
    );
    assert!(pongs >= 200, "the burst is answered: {pongs}");
    assert!(errors(&frames, "TOO_MANY_FRAMES") >= 1, "refusals are told");
    let refusal = frames
        .iter()
        .find(|f| f["code"] == "TOO_MANY_FRAMES")
        .expect("a refusal");
    assert!(
        refusal["message"]
            .as_str()
            .is_some_and(|m| m.contains("너무 빨리")),
        "in Korean by default: {refusal}"
    );
    assert_eq!(code, Some(4429), "a sustained flood is closed");
}

#[tokio::test]
async fn a_join_costs_ten_frames_so_a_join_flood_runs_out_after_twenty() {
    let app = spawn_app().await;
    let (room, tokens) = room_with(&app, &["joiner"]).await;
    let ws = app.ws(&tokens[0]).await;
    let frame = json!({ "type": "join", "room": room }).to_string();
    let (frames, code) = flood(ws, &frame, 2_000).await;
    let joined = count(&frames, "joined");
    assert!(
        (20..=25).contains(&joined),
        "a burst of 200 tokens is 20 joins: {joined}"
    );
    assert!(errors(&frames, "TOO_MANY_FRAMES") >= 1);
    assert_eq!(code, Some(4429));
}

#[tokio::test]
async fn sockets_per_user_and_per_address_are_capped_with_4409_and_4410() {
    let app = spawn_app_with(&[
        "--dev-login",
        "--ws-sockets-per-user",
        "3",
        "--ws-sockets-per-address",
        "5",
    ])
    .await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut ws = app.ws(&alice).await;
        ws.assert_alive().await;
        open.push(ws);
    }
    let mut fourth = app.ws(&alice).await;
    assert_eq!(fourth.close_code(Duration::from_secs(5)).await, Some(4409));
    for _ in 0..2 {
        let mut ws = app.ws(&bob).await;
        ws.assert_alive().await;
        open.push(ws);
    }
    // Five sockets from 127.0.0.1: the address is full for everyone.
    let mut sixth = app.ws(&carol).await;
    assert_eq!(sixth.close_code(Duration::from_secs(5)).await, Some(4410));
    // A closed socket gives its place back.
    drop(open.remove(0));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut ws = app.ws(&carol).await;
        ws.send(json!({ "type": "ping" })).await;
        match ws.try_next(Duration::from_secs(2)).await {
            Some(frame) if frame["type"] == "pong" => break,
            _ => {}
        }
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_address_cap_counts_the_forwarded_address_behind_a_trusted_balancer() {
    let app = spawn_app_with(&[
        "--dev-login",
        "--trust-forwarded-for",
        "--ws-sockets-per-address",
        "2",
    ])
    .await;
    let token = app.login("behind-nat").await;
    let from = |ip: &str| vec![("x-forwarded-for", format!("203.0.113.9, {ip}"))];
    let mut first = connect_ws_with(&app.base, &token, &from("10.0.0.1")).await;
    let mut second = connect_ws_with(&app.base, &token, &from("10.0.0.1")).await;
    first.assert_alive().await;
    second.assert_alive().await;
    let mut third = connect_ws_with(&app.base, &token, &from("10.0.0.1")).await;
    assert_eq!(third.close_code(Duration::from_secs(5)).await, Some(4410));
    let mut elsewhere = connect_ws_with(&app.base, &token, &from("10.0.0.2")).await;
    elsewhere.assert_alive().await;
}

/// `VmRSS` of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// The finding: 300 sockets each sending `join {since: 0}` in a room with 500 messages of 1,000
/// characters, then never reading, took the server from 33 MB to 277 MB. With the replay
/// capped at 64 KiB and each queue at 256 KiB the growth stays under 64 MiB (measured:
/// +275 MiB before, about +34 MiB after).
///
/// The real binary (its RSS is what is measured). Every socket comes from its own
/// `X-Forwarded-For` address and there are 30 users, so the socket caps do not hide what the
/// byte bounds do; all flags exist on older builds too, so `SSGWAN_RSS_TEST_BIN=<binary>`
/// measures another build.
#[tokio::test]
async fn server_memory_stays_bounded_when_300_sockets_join_a_long_history_and_stop_reading() {
    let dir = tempfile::tempdir().expect("dir");
    let mut command = match std::env::var_os("SSGWAN_RSS_TEST_BIN") {
        Some(binary) => std::process::Command::new(binary),
        None => child::ssgwan(),
    };
    command
        .args(["serve", "--dev-login", "--trust-forwarded-for"])
        .args(["--rate-limit-per-second", "0", "--web-dir", "/nonexistent"])
        .arg("--data-dir")
        .arg(dir.path())
        .stderr(std::process::Stdio::null());
    let server = child::start_server(command);
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..30 {
        let login: Value = client
            .post(server.url("/api/auth/dev-login"))
            .json(&json!({ "nickname": format!("reader{i}") }))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        tokens.push(login["token"].as_str().expect("token").to_owned());
    }
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Seoul").expect("tz"))
        .date();
    let body = json!({
        "title": "memory", "category": "ETC", "capacity": 50,
        "startDate": today.checked_add(jiff::Span::new().days(7)).expect("date").to_string(),
        "endDate": today.checked_add(jiff::Span::new().days(14)).expect("date").to_string(),
        "sessionStart": "06:00", "sessionEnd": "07:00", "minMinutes": 30, "timezone": "Asia/Seoul",
    });
    let created: Value = client
        .post(server.url("/api/challenges"))
        .bearer_auth(&tokens[0])
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let room = created["id"].as_i64().expect("room");
    for token in &tokens[1..] {
        let status = client
            .post(server.url(&format!("/api/challenges/{room}/participants")))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .expect("sent")
            .status();
        assert!(status.is_success(), "join: {status}");
    }
    let me: Value = client
        .get(server.url("/api/me"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let host = me["id"].as_i64().expect("id");
    fill_room(
        &dir.path().join("ssgwan.db"),
        room,
        host,
        500,
        &"가".repeat(1_000),
        jiff::Timestamp::now(),
    )
    .await;

    let pid = server.process.id();
    let before = rss_kib(pid);
    let join = json!({ "type": "join", "room": room, "since": 0 }).to_string();
    let mut sockets = Vec::new();
    for i in 0..300usize {
        let forwarded = vec![("x-forwarded-for", format!("10.1.{}.{}", i / 200, i % 200))];
        let mut ws = connect_ws_with(&server.base, &tokens[i % 30], &forwarded).await;
        blast(&mut ws, &join, 4).await;
        sockets.push(ws);
    }
    // Let the server answer every join (and fill what it will fill), sampling its memory.
    let mut peak = before;
    for _ in 0..24 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak = peak.max(rss_kib(pid));
    }
    let grown_mib = (peak.saturating_sub(before)) / 1024;
    eprintln!(
        "server RSS {} MiB before the sockets, peak {} MiB with 300 sockets not reading (+{grown_mib} MiB)",
        before / 1024,
        peak / 1024
    );
    assert!(grown_mib < 64, "the server grew by {grown_mib} MiB");
    drop(sockets);
}
