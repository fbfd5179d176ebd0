//! Ranking boards and statistics, fed by attendance and completion.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    attendance::{attendance_reaching, one_session_room, participant_statuses, settled_statuses},
    support::{TestApp, assert_error, spawn_app, test_args},
};

/// Polls the board until `check` holds (fails after 5 s); returns the page and how long it took.
async fn board_until(
    app: &TestApp,
    query: &str,
    token: Option<&str>,
    check: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let (status, page) = app.get(&format!("/api/rankings{query}"), token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        if check(&page) {
            return (page, started.elapsed());
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "board never got there: {page}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ranks(page: &Value) -> Vec<(i64, String, i64, i64)> {
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["rank"].as_i64().expect("rank"),
                e["nickname"].as_str().expect("nickname").to_owned(),
                e["totalScore"].as_i64().expect("score"),
                e["completedCount"].as_i64().expect("completed"),
            )
        })
        .collect()
}

/// Host achieves the 2026-03-03 session (on camera from 06:00 Seoul) in a fresh room; call it
/// once per test, while the clock is still before the session.
async fn achieve(app: &TestApp, names: &[&str]) -> (i64, Vec<String>) {
    let (room, tokens) = one_session_room(app, names).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _video = app.go_on_camera(&mut ws, room).await;
    app.set_now("2026-03-02T21:40:00Z");
    attendance_reaching(&mut ws, 2400).await;
    (room, tokens)
}

#[tokio::test]
async fn scores_show_on_the_board_within_a_second_and_push_a_ranking_frame() {
    let app = spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["runner", "watcher"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _video = app.go_on_camera(&mut ws, room).await;
    app.set_now("2026-03-02T21:30:00Z");
    attendance_reaching(&mut ws, 1800).await;
    let (page, took) = board_until(&app, "", Some(&tokens[0]), |p| {
        !p["entries"].as_array().expect("entries").is_empty()
    })
    .await;
    assert!(took < Duration::from_secs(1), "visible after {took:?}");
    assert_eq!(ranks(&page), vec![(1, "runner".to_owned(), 10, 0)]);
    assert_eq!(page["me"]["rank"], 1);
    let frame = ws.next_of("ranking").await;
    assert_eq!(
        (
            frame["rank"].as_i64(),
            frame["totalScore"].as_i64(),
            frame["period"].as_str()
        ),
        (Some(1), Some(10), Some("all"))
    );
    // Unranked and anonymous callers have no `me`.
    assert_eq!(
        app.get("/api/rankings", Some(&tokens[1])).await.1["me"],
        Value::Null
    );
    assert_eq!(app.get("/api/rankings", None).await.1["me"], Value::Null);

    // Completing the challenge adds 50 and a completion.
    app.set_now("2026-03-02T22:00:16Z");
    app.completion.run_now().await;
    let (page, _) = board_until(&app, "", None, |p| p["entries"][0]["totalScore"] == 60).await;
    assert_eq!(ranks(&page), vec![(1, "runner".to_owned(), 60, 1)]);
    assert_eq!(participant_statuses(&app, room).await[0].1, "COMPLETED");
}

#[tokio::test]
async fn equal_scores_rank_who_reached_them_first_and_me_shows_outside_the_top() {
    let app = spawn_app().await;
    // "later" signs up first (lower user id) but reaches the score later. (A challenge earns
    // points with two participants or more: each has a mate who stays off camera.)
    let (later_room, later) = one_session_room(&app, &["later", "later-mate"]).await;
    let (early_room, early) = one_session_room(&app, &["early", "early-mate"]).await;
    let mut later_ws = app.ws(&later[0]).await;
    let mut early_ws = app.ws(&early[0]).await;
    later_ws.join(later_room, None).await;
    early_ws.join(early_room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let _early_video = app.go_on_camera(&mut early_ws, early_room).await;
    app.set_now("2026-03-02T21:10:00Z");
    let _later_video = app.go_on_camera(&mut later_ws, later_room).await;
    app.set_now("2026-03-02T21:35:00Z");
    attendance_reaching(&mut early_ws, 2100).await;
    app.set_now("2026-03-02T21:45:00Z");
    attendance_reaching(&mut later_ws, 2100).await;
    let (page, _) = board_until(&app, "?limit=1", Some(&later[0]), |p| p["me"].is_object()).await;
    assert_eq!(page["entries"].as_array().expect("entries").len(), 1);
    assert_eq!(
        (
            page["entries"][0]["nickname"].as_str(),
            page["entries"][0]["totalScore"].as_i64()
        ),
        (Some("early"), Some(10))
    );
    assert_eq!(
        (
            page["me"]["nickname"].as_str(),
            page["me"]["rank"].as_i64(),
            page["me"]["totalScore"].as_i64()
        ),
        (Some("later"), Some(2), Some(10))
    );
}

#[tokio::test]
async fn weeks_and_months_roll_over_and_boards_survive_a_restart() {
    let app = spawn_app().await;
    achieve(&app, &["steady", "steady-mate"]).await;
    board_until(&app, "?period=week", None, |p| {
        p["entries"][0]["totalScore"] == 10
    })
    .await;
    board_until(&app, "?period=month", None, |p| {
        p["entries"][0]["totalScore"] == 10
    })
    .await;
    // Monday 2026-03-09 in Seoul: a new week, the same month.
    app.set_now("2026-03-08T15:00:00Z");
    let (week, _) = board_until(&app, "?period=week", None, |_| true).await;
    assert!(
        week["entries"].as_array().expect("entries").is_empty(),
        "{week}"
    );
    // The challenge ended long before this clock: wait for its completion (+50) to land.
    let (before_restart, _) = board_until(&app, "?period=month", None, |p| {
        p["entries"][0]["totalScore"] == 60
    })
    .await;
    let dir = app.stop();
    let args = test_args(&dir, &["--dev-login"]);
    let app = crate::support::spawn_app_at(dir, args, "2026-03-08T15:00:00Z").await;
    let (after_restart, _) = board_until(&app, "?period=month", None, |_| true).await;
    assert_eq!(ranks(&after_restart), ranks(&before_restart));
    assert_eq!(
        ranks(&app.get("/api/rankings?period=all", None).await.1),
        ranks(&before_restart)
    );
    app.set_now("2026-03-31T15:00:00Z");
    assert!(
        app.get("/api/rankings?period=month", None).await.1["entries"]
            .as_array()
            .expect("entries")
            .is_empty()
    );
}

#[tokio::test]
async fn ranking_parameters_are_validated() {
    let app = spawn_app().await;
    for (query, field) in [
        ("period=year", "period"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
    ] {
        assert_error(
            &app.get(&format!("/api/rankings?{query}"), None).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
}

#[tokio::test]
async fn statistics_count_achievements_schedules_minutes_and_streaks() {
    let app = spawn_app().await;
    let (room, tokens) = achieve(&app, &["stat", "idle"]).await;
    app.set_now("2026-03-02T22:00:16Z");
    assert_eq!(settled_statuses(&app, room).await[0].1, "COMPLETED");
    let me = app.get("/api/me", Some(&tokens[0])).await.1["id"]
        .as_i64()
        .expect("id");
    let idle = app.get("/api/me", Some(&tokens[1])).await.1["id"]
        .as_i64()
        .expect("id");
    let (status, stats) = app
        .get(&format!("/api/challenges/stats/user/{me}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats,
        json!({ "totalChallenges": 1, "completedChallenges": 1, "completionRate": 100.0, "currentStreak": 1, "longestStreak": 1 })
    );
    let idle_stats = app
        .get(&format!("/api/challenges/stats/user/{idle}"), None)
        .await
        .1;
    assert_eq!(
        (
            idle_stats["completionRate"].as_f64(),
            idle_stats["currentStreak"].as_i64()
        ),
        (Some(0.0), Some(0))
    );

    let (_, week) = app
        .get(
            &format!("/api/challenges/stats/user/{me}/weekly?startDate=2026-02-28"),
            None,
        )
        .await;
    let week = week.as_array().expect("days");
    assert_eq!(week.len(), 7);
    assert_eq!(week[0]["date"], "2026-02-28");
    // On camera from 06:00 until the window closed at 07:00 (the socket stayed open).
    assert_eq!(
        week[3],
        json!({ "date": "2026-03-03", "achievedSessions": 1, "scheduledSessions": 1, "minutes": 60 })
    );
    assert!(
        week.iter()
            .enumerate()
            .filter(|(i, _)| *i != 3)
            .all(|(_, d)| d["achievedSessions"] == 0
                && d["scheduledSessions"] == 0
                && d["minutes"] == 0)
    );
    let idle_week = app
        .get(
            &format!("/api/challenges/stats/user/{idle}/weekly?startDate=2026-03-02"),
            None,
        )
        .await
        .1;
    assert_eq!(
        idle_week[1],
        json!({ "date": "2026-03-03", "achievedSessions": 0, "scheduledSessions": 1, "minutes": 0 })
    );

    let (_, month) = app
        .get(
            &format!("/api/challenges/stats/user/{me}/monthly?month=2026-02"),
            None,
        )
        .await;
    assert_eq!(month.as_array().expect("days").len(), 28);
    let (_, per_challenge) = app
        .get(&format!("/api/challenges/{room}/stats"), None)
        .await;
    assert_eq!(
        per_challenge["days"],
        json!([{ "date": "2026-03-03", "scheduled": 2, "achieved": 1, "rate": 50.0 }])
    );

    assert_error(
        &app.get("/api/challenges/stats/user/99999", None).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
        None,
    );
    assert_error(
        &app.get(
            &format!("/api/challenges/stats/user/{me}/weekly?startDate=2026-02-30"),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("startDate"),
    );
    assert_error(
        &app.get(
            &format!("/api/challenges/stats/user/{me}/monthly?month=2026-13"),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("month"),
    );
}

#[tokio::test]
async fn a_connected_user_who_is_overtaken_hears_their_new_rank() {
    let app = spawn_app().await;
    // The leader's challenge runs two days, so it does not complete tonight; the chaser's ends
    // tonight and its completion (+50) carries them past the leader.
    let leader = app.login("leader").await;
    let leader_room = app.create_challenge(&leader, json!({ "startDate": "2026-03-03", "endDate": "2026-03-04", "daysOfWeek": null, "minMinutes": 30, "successRate": 100 })).await;
    // Two participants or more earn points: the leader has a mate who stays off camera.
    let mate = app.login("leader-mate").await;
    let (status, body) = app
        .post(
            &format!("/api/challenges/{leader_room}/participants"),
            Some(&mate),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (chaser_room, chaser) = one_session_room(&app, &["chaser", "chaser-mate"]).await;
    let mut leader_ws = app.ws(&leader).await;
    let mut chaser_ws = app.ws(&chaser[0]).await;
    leader_ws.join(leader_room, None).await;
    chaser_ws.join(chaser_room, None).await;
    app.set_now("2026-03-02T21:00:00Z");
    let leader_video = app.go_on_camera(&mut leader_ws, leader_room).await;
    app.set_now("2026-03-02T21:10:00Z");
    let chaser_video = app.go_on_camera(&mut chaser_ws, chaser_room).await;
    app.set_now("2026-03-02T21:31:00Z");
    attendance_reaching(&mut leader_ws, 1800).await;
    assert_eq!(leader_ws.next_of("ranking").await["rank"], 1);
    app.set_now("2026-03-02T21:45:00Z");
    attendance_reaching(&mut chaser_ws, 1800).await;
    assert_eq!(chaser_ws.next_of("ranking").await["rank"], 2);
    chaser_video.stop_video();
    leader_video.stop_video();
    chaser_ws.camera_verdict(chaser_room, false).await;
    leader_ws.camera_verdict(leader_room, false).await;
    app.attendance.settled().await;
    // The chaser's challenge ends at 22:00 and is settled after the grace period.
    app.set_now("2026-03-02T22:00:16Z");
    let overtaken = leader_ws.next_of("ranking").await;
    assert_eq!(
        (
            overtaken["rank"].as_i64(),
            overtaken["previousRank"].as_i64(),
            overtaken["totalScore"].as_i64()
        ),
        (Some(2), Some(1), Some(10))
    );
    let moved = chaser_ws.next_of("ranking").await;
    assert_eq!(
        (moved["rank"].as_i64(), moved["totalScore"].as_i64()),
        (Some(1), Some(60))
    );
}

/// The one-session challenge of `one_session_room` (2026-03-03 06:00–07:00 Seoul).
fn one_session() -> Value {
    json!({ "startDate": "2026-03-03", "endDate": "2026-03-03", "daysOfWeek": null, "minMinutes": 30, "successRate": 100 })
}

/// Each of `rooms` (room, token) on camera from 06:00 Seoul until its session is achieved at
/// 06:40, then every challenge settled after its 07:00 end.
async fn achieve_and_settle(app: &TestApp, rooms: &[(i64, &str)]) {
    let mut sockets = Vec::new();
    for (room, token) in rooms {
        let mut ws = app.ws(token).await;
        ws.join(*room, None).await;
        sockets.push((*room, ws));
    }
    app.set_now("2026-03-02T21:00:00Z");
    let mut videos = Vec::new();
    for (room, ws) in &mut sockets {
        videos.push(app.go_on_camera(ws, *room).await);
    }
    app.set_now("2026-03-02T21:40:00Z");
    for (_, ws) in &mut sockets {
        attendance_reaching(ws, 2400).await;
    }
    app.set_now("2026-03-02T22:00:16Z");
    app.completion.run_now().await;
}

/// Joins `room` as `token`.
async fn join(app: &TestApp, room: i64, token: &str) {
    let (status, body) = app
        .post(
            &format!("/api/challenges/{room}/participants"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_solo_challenge_earns_no_points_though_its_attendance_and_completion_count() {
    let app = spawn_app().await;
    let (solo_room, solo) = one_session_room(&app, &["solo"]).await;
    // A challenge of two, achieved after the solo one: once its points are on the board, the
    // solo challenge's events (earlier in the same stream) have been handled.
    let (pair_room, pair) = one_session_room(&app, &["pair", "pair-mate"]).await;
    achieve_and_settle(&app, &[(solo_room, &solo[0]), (pair_room, &pair[0])]).await;
    let (page, _) = board_until(&app, "", None, |p| p["entries"][0]["totalScore"] == 60).await;
    assert_eq!(ranks(&page), vec![(1, "pair".to_owned(), 60, 1)]);
    assert_eq!(
        participant_statuses(&app, solo_room).await[0].1,
        "COMPLETED"
    );
    let (_, me) = app.get("/api/me", Some(&solo[0])).await;
    assert_eq!(me["totalScore"], 0, "{me}");
    // A restart reconciles the ledger from achievements and completions: by the same rules.
    let dir = app.stop();
    let args = test_args(&dir, &["--dev-login"]);
    let app = crate::support::spawn_app_at(dir, args, "2026-03-02T22:30:00Z").await;
    let (page, _) = board_until(&app, "", None, |_| true).await;
    assert_eq!(ranks(&page), vec![(1, "pair".to_owned(), 60, 1)]);
}

#[tokio::test]
async fn challenges_scheduled_less_than_an_hour_before_their_start_earn_no_points() {
    let app = spawn_app().await;
    let mut tokens = std::collections::HashMap::new();
    for name in [
        "late",
        "late-mate",
        "moved",
        "moved-mate",
        "kept",
        "kept-mate",
    ] {
        tokens.insert(name, app.login(name).await);
    }
    // Created a week before: "moved" for Wednesday, "kept" for Tuesday's session.
    let mut moved_spec = one_session();
    moved_spec["startDate"] = json!("2026-03-04");
    moved_spec["endDate"] = json!("2026-03-04");
    let moved = app.create_challenge(&tokens["moved"], moved_spec).await;
    let kept = app.create_challenge(&tokens["kept"], one_session()).await;
    // An edit that keeps the start leaves the schedule's time as it was.
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/challenges/{kept}"),
            Some(&tokens["kept"]),
            Some(json!({ "title": "새 이름 New name" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 30 minutes before Tuesday's 06:00 session: "late" is created for it and "moved" is
    // moved to it (a challenge can be edited until its first day).
    app.set_now("2026-03-02T20:30:00Z");
    let late = app.create_challenge(&tokens["late"], one_session()).await;
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/challenges/{moved}"),
            Some(&tokens["moved"]),
            Some(json!({ "startDate": "2026-03-03", "endDate": "2026-03-03" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (room, mate) in [
        (late, "late-mate"),
        (moved, "moved-mate"),
        (kept, "kept-mate"),
    ] {
        join(&app, room, &tokens[mate]).await;
    }
    achieve_and_settle(
        &app,
        &[
            (late, &tokens["late"]),
            (moved, &tokens["moved"]),
            (kept, &tokens["kept"]),
        ],
    )
    .await;
    // Settled in id order (moved, kept, late): once late's would-be points had time to land
    // after kept's, only kept's are there.
    let (page, _) = board_until(&app, "", None, |p| p["entries"][0]["totalScore"] == 60).await;
    for room in [late, moved] {
        assert_eq!(participant_statuses(&app, room).await[0].1, "COMPLETED");
    }
    let dir = app.stop();
    let args = test_args(&dir, &["--dev-login"]);
    let app = crate::support::spawn_app_at(dir, args, "2026-03-02T22:30:00Z").await;
    let (after, _) = board_until(&app, "", None, |_| true).await;
    assert_eq!(ranks(&page), vec![(1, "kept".to_owned(), 60, 1)]);
    assert_eq!(ranks(&after), ranks(&page));
}

#[tokio::test]
async fn a_signed_in_page_is_the_shared_page_with_its_own_entry_and_follows_profile_edits() {
    let app = spawn_app().await;
    let (_, tokens) = achieve(&app, &["runner", "watcher"]).await;
    board_until(&app, "", None, |p| {
        !p["entries"].as_array().expect("entries").is_empty()
    })
    .await;
    let raw = |token: Option<&str>| {
        let mut request = app.client.get(app.url("/api/rankings?limit=10"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("sent");
            assert_eq!(response.status(), StatusCode::OK);
            assert!(response.headers().get("transfer-encoding").is_none());
            let length: Option<usize> = response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse().ok());
            let body = response.bytes().await.expect("body");
            assert_eq!(length, Some(body.len()), "Content-Length as for one buffer");
            String::from_utf8(body.to_vec()).expect("utf-8")
        }
    };
    let anonymous = raw(None).await;
    let signed_in = raw(Some(&tokens[0])).await;
    let shared = anonymous
        .strip_suffix("null}")
        .expect("anonymous me is null");
    let own = signed_in
        .strip_prefix(shared)
        .and_then(|rest| rest.strip_suffix('}'))
        .expect("the shared page, then me");
    let me: Value = serde_json::from_str(own).expect("me entry");
    assert_eq!(
        (&me["rank"], &me["nickname"]),
        (&json!(1), &json!("runner"))
    );
    // Same bytes again (served from memory), and a profile edit shows at once.
    assert_eq!(raw(Some(&tokens[0])).await, signed_in);
    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            "/api/me",
            Some(&tokens[0]),
            Some(json!({ "nickname": "sprinter" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page: Value = serde_json::from_str(&raw(Some(&tokens[0])).await).expect("json");
    assert_eq!(page["me"]["nickname"], "sprinter");
    assert_eq!(page["entries"][0]["nickname"], "sprinter");
}
