//! Attendance measured by the server, and settling challenges when they end.
//!
//! The challenge below meets once, on 2026-03-03 from 06:00 to 07:00 in Seoul, which is
//! 2026-03-02 21:00–22:00 UTC; a session is achieved after 30 minutes on camera.
//!
//! "On camera" is video the server's media server receives and verifies: each test publishes
//! real (synthetic VP8) video through a `TestPeer` over UDP (`go_on_camera`). The verdict
//! changes in real time (the media server's window and grace) while the manual clock stands
//! still, so what counts is exactly the clock's time between going on and off camera.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    child::{self, ServerChild},
    support::{TestApp, TestPeer, Ws, spawn_app, spawn_app_at, test_args},
};

const ONE_SESSION: &str = r#"{"startDate": "2026-03-03", "endDate": "2026-03-03", "daysOfWeek": null, "minMinutes": 30, "successRate": 100}"#;

pub(crate) async fn one_session_room(app: &TestApp, names: &[&str]) -> (i64, Vec<String>) {
    let mut tokens = Vec::new();
    for name in names {
        tokens.push(app.login(name).await);
    }
    let room = app
        .create_challenge(&tokens[0], serde_json::from_str(ONE_SESSION).expect("json"))
        .await;
    for token in &tokens[1..] {
        assert_eq!(
            app.post(
                &format!("/api/challenges/{room}/participants"),
                Some(token),
                json!({})
            )
            .await
            .0,
            StatusCode::CREATED
        );
    }
    (room, tokens)
}

/// Sends a frame and waits until the attendance actor has handled what it caused (the actor
/// reads the manual clock when it handles the command): the ping/pong proves the session
/// handled the frame (and sent the actor its command), `settled` that the actor handled it.
pub(crate) async fn send_settled(app: &TestApp, ws: &mut Ws, frame: Value) {
    ws.send(frame).await;
    ws.assert_alive().await;
    app.attendance.settled().await;
}

/// The `media` frame: what the user chose, a hint that counts for nothing by itself.
pub(crate) fn camera(room: i64, on: bool) -> Value {
    json!({ "type": "media", "room": room, "camera": on, "mic": false })
}

/// Reads attendance frames until one reports `seconds` (or fails after 5 s).
pub(crate) async fn attendance_reaching(ws: &mut Ws, seconds: i64) -> Value {
    loop {
        let frame = ws.next_of("attendance").await;
        if frame["seconds"].as_i64() >= Some(seconds) {
            return frame;
        }
    }
}

/// The participants once the completion job has settled them: the actor has written what it
/// counted, then a settling pass runs (after any periodic one in progress).
pub(crate) async fn settled_statuses(app: &TestApp, room: i64) -> Vec<(String, String, i64)> {
    app.attendance.settled().await;
    app.completion.run_now().await;
    let statuses = participant_statuses(app, room).await;
    assert!(
        statuses.iter().all(|(_, status, _)| status != "ACTIVE"),
        "room {room} was not settled: {statuses:?}"
    );
    statuses
}

pub(crate) async fn participant_statuses(app: &TestApp, room: i64) -> Vec<(String, String, i64)> {
    let (_, body) = app
        .get(&format!("/api/challenges/{room}/participants"), None)
        .await;
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["user"]["nickname"].as_str().expect("nickname").to_owned(),
                p["status"].as_str().expect("status").to_owned(),
                p["achievedSessions"].as_i64().expect("achieved"),
            )
        })
        .collect()
}

#[tokio::test]
async fn on_camera_time_accrues_only_inside_the_window_and_achieves_once() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    app.set_now("2026-03-02T20:50:00Z");
    ws.join(room, None).await;
    let first = ws.next_of("attendance").await;
    assert_eq!(
        (
            first["date"].as_str(),
            first["seconds"].as_i64(),
            first["requiredSeconds"].as_i64()
        ),
        (Some("2026-03-03"), Some(0), Some(1800))
    );
    let _peer = app.go_on_camera(&mut ws, room).await;

    // Ten minutes before the window count for nothing; twenty inside it do.
    app.set_now("2026-03-02T21:20:00Z");
    let frame = attendance_reaching(&mut ws, 1200).await;
    assert_eq!(
        (frame["seconds"].as_i64(), frame["achieved"].as_bool()),
        (Some(1200), Some(false))
    );

    app.set_now("2026-03-02T21:35:00Z");
    let frame = attendance_reaching(&mut ws, 2100).await;
    assert_eq!(
        (frame["seconds"].as_i64(), frame["achieved"].as_bool()),
        (Some(2100), Some(true))
    );

    // Past the window's end the total stops at the full hour. (10 s past the end is inside
    // the settling grace, so a periodic completion pass cannot close the room before the
    // actor reports.)
    app.set_now("2026-03-02T22:00:10Z");
    let frame = attendance_reaching(&mut ws, 3600).await;
    assert_eq!(frame["seconds"], 3600);
    ws.expect_none_of("attendance", Duration::from_millis(300))
        .await;
    // 22:30 is past the end and its grace period: the challenge is settled.
    app.set_now("2026-03-02T22:30:00Z");
    app.completion.run_now().await;
    assert_eq!(
        participant_statuses(&app, room).await,
        vec![("host".to_owned(), "COMPLETED".to_owned(), 1)]
    );
}

#[tokio::test]
async fn two_tabs_on_camera_count_their_union_not_their_sum() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host"]).await;
    let mut tab1 = app.ws(&tokens[0]).await;
    let mut tab2 = app.ws(&tokens[0]).await;
    tab1.join(room, None).await;
    tab2.join(room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _video1 = app.go_on_camera(&mut tab1, room).await;
    app.set_now("2026-03-02T21:10:00Z");
    let video2 = app.go_on_camera_in_another_tab(&mut tab2, room).await;
    // The first tab's video stops counting when it leaves (its session is closed at once).
    app.set_now("2026-03-02T21:20:00Z");
    send_settled(&app, &mut tab1, json!({ "type": "leave", "room": room })).await;
    assert_eq!(tab1.next_of("rtcClosed").await["reason"], "left");
    app.set_now("2026-03-02T21:30:00Z");
    app.go_off_camera(&mut tab2, room, &video2).await;
    // 21:00–21:30 on camera in at least one tab: 30 minutes, though the tabs add up to 40.
    let frame = attendance_reaching(&mut tab2, 1800).await;
    assert_eq!(
        (frame["seconds"].as_i64(), frame["achieved"].as_bool()),
        (Some(1800), Some(true))
    );
    app.set_now("2026-03-02T21:50:00Z");
    tab2.expect_none_of("attendance", Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn leaving_the_room_stops_the_clock() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _peer = app.go_on_camera(&mut ws, room).await;
    app.set_now("2026-03-02T21:05:00Z");
    send_settled(&app, &mut ws, json!({ "type": "leave", "room": room })).await;
    assert_eq!(ws.next_of("rtcClosed").await["reason"], "left");
    app.set_now("2026-03-02T21:45:00Z");
    let mut again = app.ws(&tokens[0]).await;
    again.join(room, None).await;
    assert_eq!(again.next_of("attendance").await["seconds"], 300);
}

#[tokio::test]
async fn an_ended_challenge_settles_each_participant_by_success_rate() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["achiever", "absentee"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _peer = app.go_on_camera(&mut ws, room).await;
    app.set_now("2026-03-02T21:40:00Z");
    attendance_reaching(&mut ws, 2400).await;
    // The end is 22:00; settling waits a grace period for the last seconds to be written.
    app.set_now("2026-03-02T22:00:05Z");
    app.attendance.settled().await;
    assert_eq!(
        app.completion.run_now().await,
        0,
        "settled within the grace"
    );
    assert!(
        participant_statuses(&app, room)
            .await
            .iter()
            .all(|(_, status, _)| status == "ACTIVE")
    );
    app.set_now("2026-03-02T22:00:16Z");
    let statuses = settled_statuses(&app, room).await;
    assert_eq!(
        statuses,
        vec![
            ("achiever".to_owned(), "COMPLETED".to_owned(), 1),
            ("absentee".to_owned(), "FAILED".to_owned(), 0)
        ]
    );
    let (_, completed) = app
        .get("/api/me/challenges?state=completed", Some(&tokens[0]))
        .await;
    assert_eq!(completed["items"][0]["id"], room);
    // Settled participants are no longer active members of the room.
    let mut late = app.ws(&tokens[1]).await;
    late.send(json!({ "type": "join", "room": room })).await;
    assert_eq!(late.next_of("error").await["code"], "FORBIDDEN");
}

#[tokio::test]
async fn a_server_that_was_down_at_the_end_settles_on_start_and_only_once() {
    let app = spawn_app().await;
    let (room, _tokens) = one_session_room(&app, &["host", "guest"]).await;
    let dir = app.shut_down().await;
    let args = test_args(&dir, &["--dev-login"]);
    let app = spawn_app_at(dir, args, "2026-03-03T09:00:00Z").await;
    let statuses = settled_statuses(&app, room).await;
    assert_eq!(
        statuses,
        vec![
            ("host".to_owned(), "FAILED".to_owned(), 0),
            ("guest".to_owned(), "FAILED".to_owned(), 0)
        ]
    );
    // Running again (the periodic job keeps running) changes nothing.
    assert_eq!(app.completion.run_now().await, 0, "settled a second time");
    assert_eq!(participant_statuses(&app, room).await, statuses);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("ssgwan_participants_settled_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_shutdown_during_a_live_session_keeps_every_second_counted_up_to_it() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _peer = app.go_on_camera(&mut ws, room).await;
    // The first second is written at once (a new session date); the next write is 5 s later.
    app.set_now("2026-03-02T21:00:01Z");
    attendance_reaching(&mut ws, 1).await;
    app.set_now("2026-03-02T21:00:04Z");
    app.attendance.settled().await;
    // Three more seconds counted, none written yet.
    let mut other_tab = app.ws(&tokens[0]).await;
    other_tab.join(room, None).await;
    assert_eq!(other_tab.next_of("attendance").await["seconds"], 1);

    // The signal: serve returns once the sockets are closed and the actor has written.
    let dir = app.shut_down().await;
    let args = test_args(&dir, &["--dev-login"]);
    let app = spawn_app_at(dir, args, "2026-03-02T21:00:04Z").await;
    let mut again = app.ws(&tokens[0]).await;
    again.join(room, None).await;
    assert_eq!(again.next_of("attendance").await["seconds"], 4);
}

/// The real binary (system clock, `--addr 127.0.0.1:0`, so its media server on free ports too)
/// with one participant publishing verified video in a session happening now; returns the
/// server, the participant's socket and test peer, token and room.
/// `None` too close to midnight in Seoul for a same-day session window.
async fn live_session_on_the_binary(
    dir: &std::path::Path,
) -> Option<(ServerChild, Ws, TestPeer, String, i64)> {
    let seoul = jiff::tz::TimeZone::get("Asia/Seoul").expect("tz");
    let local = jiff::Timestamp::now().to_zoned_datetime(seoul);
    if local.hour() == 23 && local.minute() >= 35 {
        eprintln!("skipping: too close to midnight in Seoul for a same-day session window");
        return None;
    }
    let server = start_binary(dir);
    let client = reqwest::Client::new();
    let login: Value = client
        .post(server.url("/api/auth/dev-login"))
        .json(&json!({ "nickname": "crashy" }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let session_start = format!("{:02}:{:02}", local.hour(), local.minute());
    let end_minutes = i32::from(local.hour()) * 60 + i32::from(local.minute()) + 20;
    let session_end = format!("{:02}:{:02}", end_minutes / 60, end_minutes % 60);
    let body = json!({
        "title": "crash test", "category": "ETC", "capacity": 2, "startDate": local.date().to_string(), "endDate": local.date().to_string(),
        "sessionStart": session_start, "sessionEnd": session_end, "minMinutes": 15, "timezone": "Asia/Seoul",
    });
    let created: Value = client
        .post(server.url("/api/challenges"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let room = created["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("created: {created}"));
    let mut ws = crate::support::connect_ws(&server.base, &token).await;
    ws.join(room, None).await;
    let peer = ws.go_on_camera(room).await;
    Some((server, ws, peer, token, room))
}

fn start_binary(dir: &std::path::Path) -> ServerChild {
    let mut command = child::ssgwan();
    command
        .args([
            "serve",
            "--dev-login",
            "--rate-limit-per-second",
            "0",
            "--web-dir",
            "/nonexistent",
            "--data-dir",
        ])
        .arg(dir)
        .stderr(std::process::Stdio::null());
    child::start_server(command)
}

/// The next attendance frame reporting at least `seconds` (written every 5 s of real time).
async fn written_at_least(ws: &mut Ws, seconds: i64) -> i64 {
    loop {
        let frame = ws
            .try_next(Duration::from_secs(15))
            .await
            .unwrap_or_else(|| panic!("no attendance frame reaching {seconds} s within 15 s"));
        if frame["type"] == "attendance"
            && let Some(written) = frame["seconds"].as_i64()
            && written >= seconds
        {
            return written;
        }
    }
}

/// The seconds the database holds for the room, as a fresh start of the binary reports them.
async fn seconds_after_restart(dir: &std::path::Path, token: &str, room: i64) -> i64 {
    let server = start_binary(dir);
    let mut ws = crate::support::connect_ws(&server.base, token).await;
    ws.join(room, None).await;
    ws.next_of("attendance").await["seconds"]
        .as_i64()
        .expect("seconds")
}

/// The real binary on the real clock: on camera until the server has written twice (~10 s),
/// then SIGKILL (no chance to flush), then a restart. What was written survives, and at most
/// 15 s of the time may be lost.
#[tokio::test]
async fn on_camera_time_survives_a_kill_9_losing_at_most_15_seconds() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((mut server, mut ws, peer, token, room)) =
        live_session_on_the_binary(dir.path()).await
    else {
        return;
    };
    let on_since = std::time::Instant::now();
    let written = written_at_least(&mut ws, 10).await;
    server.kill();
    let on_camera = on_since.elapsed().as_secs() as i64;
    drop((ws, peer));

    let kept = seconds_after_restart(dir.path(), &token, room).await;
    eprintln!("on camera {on_camera} s before SIGKILL ({written} s written); {kept} s survived");
    assert!(kept >= written, "{written} s were written, {kept} s kept");
    assert!(
        kept >= on_camera - 15 && kept <= on_camera + 1,
        "on camera {on_camera} s, kept {kept} s after SIGKILL"
    );
}

/// The real binary and a real SIGTERM between two writes: every second on camera up to the
/// signal is kept (within the one second the count rounds down).
#[tokio::test]
async fn on_camera_time_survives_a_sigterm_to_the_second() {
    let dir = tempfile::tempdir().expect("dir");
    let Some((mut server, mut ws, peer, token, room)) =
        live_session_on_the_binary(dir.path()).await
    else {
        return;
    };
    let on_since = std::time::Instant::now();
    // Written at about 5 s; the next write would be at about 10 s.
    let written = written_at_least(&mut ws, 5).await;
    // Two more seconds of real time on camera that only the flush at the signal can keep (the
    // binary runs on the system clock: this is the time under test, not a synchronization).
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.terminate();
    let on_camera = on_since.elapsed().as_secs() as i64;
    let status = server.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}");
    drop((ws, peer));

    let kept = seconds_after_restart(dir.path(), &token, room).await;
    eprintln!("on camera {on_camera} s before SIGTERM ({written} s written); {kept} s kept");
    assert!(
        kept >= on_camera - 1 && kept <= on_camera + 1,
        "on camera {on_camera} s, kept {kept} s after SIGTERM"
    );
}

/// Three one-minute challenges of 2026-03-03 06:00–07:00 Seoul, each created by `busy` with a
/// mate (two participants, so they earn points). Returns the rooms and busy's token.
async fn three_one_minute_rooms(app: &TestApp) -> (Vec<i64>, String) {
    let busy = app.login("busy").await;
    let mut rooms = Vec::new();
    for n in 0..3 {
        let room = app
            .create_challenge(
                &busy,
                json!({ "startDate": "2026-03-03", "endDate": "2026-03-03", "daysOfWeek": null, "minMinutes": 1, "successRate": 100 }),
            )
            .await;
        let mate = app.login(&format!("mate-{n}")).await;
        let (status, body) = app
            .post(
                &format!("/api/challenges/{room}/participants"),
                Some(&mate),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        rooms.push(room);
    }
    (rooms, busy)
}

/// busy's achieved sessions in `room`.
async fn achieved_by_busy(app: &TestApp, room: i64) -> i64 {
    participant_statuses(app, room)
        .await
        .into_iter()
        .find(|(name, _, _)| name == "busy")
        .map(|(_, _, achieved)| achieved)
        .expect("busy takes part")
}

#[tokio::test]
async fn attendance_counts_in_one_room_at_a_time_so_parallel_rooms_earn_once() {
    let app = spawn_app().await;
    let (rooms, busy) = three_one_minute_rooms(&app).await;
    let mut ws = app.ws(&busy).await;
    for room in &rooms {
        ws.join(*room, None).await;
    }
    app.set_now("2026-03-02T21:00:00Z");
    // On camera in all three at once: the first room counts, the others are told so.
    let mut videos = Vec::new();
    for room in &rooms {
        videos.push(app.go_on_camera(&mut ws, *room).await);
    }
    for room in &rooms[1..] {
        let frame = ws.next_of("attendanceElsewhere").await;
        assert_eq!(frame["room"], *room);
        assert_eq!(frame["countingRoom"], rooms[0]);
    }
    app.set_now("2026-03-02T21:05:00Z");
    loop {
        let frame = ws.next_of("attendance").await;
        if frame["room"] != rooms[0] {
            // The frames `join` answers with (nothing counted) are all the others get.
            assert_eq!(frame["seconds"], 0, "only the first room counts: {frame}");
            continue;
        }
        if frame["achieved"] == true {
            break;
        }
    }
    for video in &videos {
        video.stop_video();
    }
    for room in &rooms {
        ws.camera_verdict(*room, false).await;
    }
    app.attendance.settled().await;
    // Settled after the 07:00 end: one session and one completion, not three.
    app.set_now("2026-03-02T22:00:16Z");
    app.completion.run_now().await;
    let achieved: Vec<i64> =
        futures::future::join_all(rooms.iter().map(|r| achieved_by_busy(&app, *r))).await;
    assert_eq!(achieved, vec![1, 0, 0]);
    let started = std::time::Instant::now();
    loop {
        let (_, me) = app.get("/api/me", Some(&busy)).await;
        if me["totalScore"] == 60 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "score: {me}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, board) = app.get("/api/rankings", None).await;
    assert_eq!(board["entries"][0]["totalScore"], 60, "{board}");
}

#[tokio::test]
async fn when_the_counting_room_goes_off_camera_the_next_one_counts() {
    let app = spawn_app().await;
    let (rooms, busy) = three_one_minute_rooms(&app).await;
    let mut ws = app.ws(&busy).await;
    ws.join(rooms[0], None).await;
    ws.join(rooms[1], None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let first = app.go_on_camera(&mut ws, rooms[0]).await;
    let second = app.go_on_camera(&mut ws, rooms[1]).await;
    assert_eq!(ws.next_of("attendanceElsewhere").await["room"], rooms[1]);
    // The frames of going on camera are read first: the next one of the second room is the
    // hand-over's (the first room's frames may come in either order with the second's).
    app.attendance.settled().await;
    while ws.try_next(Duration::from_millis(300)).await.is_some() {}
    app.set_now("2026-03-02T21:00:30Z");
    // The first room stops: its lease is given back, the second room takes it over at its
    // next tick and says so with its current total.
    app.go_off_camera(&mut ws, rooms[0], &first).await;
    loop {
        let frame = ws.next_of("attendance").await;
        if frame["room"] == rooms[1] && frame["date"] == "2026-03-03" {
            assert_eq!(frame["seconds"], 0, "{frame}");
            break;
        }
    }
    app.set_now("2026-03-02T21:02:00Z");
    loop {
        let frame = ws.next_of("attendance").await;
        if frame["room"] == rooms[1] && frame["achieved"] == true {
            // Counted from the hand-over (21:00:30), not from when it went on camera.
            assert_eq!(frame["seconds"], 90, "{frame}");
            break;
        }
    }
    app.go_off_camera(&mut ws, rooms[1], &second).await;
    assert_eq!(
        achieved_by_busy(&app, rooms[0]).await,
        0,
        "30 s is not a minute"
    );
    assert_eq!(achieved_by_busy(&app, rooms[1]).await, 1);
}
