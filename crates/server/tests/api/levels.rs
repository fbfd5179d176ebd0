//! Levels from the all-time score and 7-day sparklines on profiles and every ranking entry,
//! computed for a whole page with one query: the query count does not grow with the page.

use std::time::Duration;

use jiff::{Timestamp, civil::Date};
use reqwest::StatusCode;
use serde_json::{Value, json};
use ssgwan_store::{NewUser, ScoreKind, ScoreStore, SqlStore, UserStore};
use tempfile::TempDir;

use crate::{
    attendance::{attendance_reaching, one_session_room},
    support::{TestApp, assert_error, spawn_app, spawn_app_from, test_args},
};

/// A ledger row to seed: (points, when, kind).
type Score = (i64, &'static str, ScoreKind);

/// Starts a server on a database seeded with `users` and their score ledger rows (the boards
/// are rebuilt from the ledger at start, as after any restart).
async fn seeded_app(extra: &[&str], users: &[(&str, Vec<Score>)]) -> TestApp {
    let dir = TempDir::new().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ssgwan.db").display()
    );
    let store = SqlStore::connect(&url, 4).await.expect("open");
    store.migrate().await.expect("migrate");
    let created_at: Timestamp = "2026-01-01T00:00:00Z".parse().expect("instant");
    for (nickname, scores) in users {
        let user = store
            .create_user(
                NewUser {
                    kakao_id: None,
                    nickname: (*nickname).to_owned(),
                    profile_image: None,
                },
                created_at,
            )
            .await
            .expect("user");
        for (n, (points, at, kind)) in scores.iter().enumerate() {
            let at: Timestamp = at.parse().expect("instant");
            let session_date = (*kind == ScoreKind::Session)
                .then(|| Date::constant(2026, 1, 1).saturating_add(jiff::ToSpan::days(n as i64)));
            assert!(
                store
                    .record_score(user.id, n as i64 + 1, *kind, session_date, *points, at)
                    .await
                    .expect("score")
            );
        }
    }
    store.close().await;
    let args = test_args(&dir, extra);
    spawn_app_from(dir, args).await
}

/// "ace": 400 points all time (level 4, next at 520), some of them in the last seven days;
/// "bee": 100 points in February (level 2, next at 220).
fn ledger() -> Vec<(&'static str, Vec<Score>)> {
    vec![
        (
            "ace",
            vec![
                (300, "2026-01-15T03:00:00Z", ScoreKind::Session),
                // 2026-02-24 01:00 and 23:59 in Seoul.
                (10, "2026-02-23T16:00:00Z", ScoreKind::Session),
                (10, "2026-02-24T14:59:00Z", ScoreKind::Session),
                // 2026-02-25 00:00 in Seoul.
                (20, "2026-02-24T15:00:00Z", ScoreKind::Session),
                // 2026-03-01 23:00 in Seoul (a Sunday: last week).
                (10, "2026-03-01T14:00:00Z", ScoreKind::Session),
                // 2026-03-02 08:00 in Seoul: today, this week.
                (50, "2026-03-01T23:00:00Z", ScoreKind::Completion),
            ],
        ),
        (
            "bee",
            vec![(100, "2026-02-10T03:00:00Z", ScoreKind::Session)],
        ),
    ]
}

fn entry<'a>(page: &'a Value, nickname: &str) -> &'a Value {
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["nickname"] == nickname)
        .unwrap_or_else(|| panic!("{nickname} in {page}"))
}

#[tokio::test]
async fn profiles_show_the_level_of_the_all_time_score_and_the_last_seven_days() {
    let app = seeded_app(&["--dev-login"], &ledger()).await;
    let ace = app.login("ace").await;
    let (status, me) = app.get("/api/me", Some(&ace)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["nickname"], "ace", "the profile fields are still there");
    assert_eq!(
        (&me["totalScore"], &me["level"], &me["nextLevelScore"]),
        (&json!(400), &json!(4), &json!(520))
    );
    // 2026-02-24 … 2026-03-02 in Seoul, oldest first.
    assert_eq!(me["recentScores"], json!([20, 20, 0, 0, 0, 10, 50]));
    let bee_token = app.login("bee").await;
    let (_, bee_me) = app.get("/api/me", Some(&bee_token)).await;
    let (status, bee) = app.get(&format!("/api/users/{}", bee_me["id"]), None).await;
    assert_eq!(status, StatusCode::OK, "{bee}");
    assert_eq!(
        (&bee["level"], &bee["nextLevelScore"], &bee["recentScores"]),
        (&json!(2), &json!(220), &json!([0, 0, 0, 0, 0, 0, 0]))
    );
    // Someone without points is level 1, 100 points from level 2.
    let newbie = app.login("newbie").await;
    let (_, fresh) = app.get("/api/me", Some(&newbie)).await;
    assert_eq!(
        (
            &fresh["totalScore"],
            &fresh["level"],
            &fresh["nextLevelScore"]
        ),
        (&json!(0), &json!(1), &json!(100))
    );
    // Editing the profile answers with the same shape.
    let (status, edited) = app
        .call(
            reqwest::Method::PATCH,
            "/api/me",
            Some(&ace),
            Some(json!({ "bio": "달리기" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (&edited["bio"], &edited["level"]),
        (&json!("달리기"), &json!(4))
    );
}

#[tokio::test]
async fn every_ranking_entry_and_me_carry_level_and_sparkline_on_every_board() {
    let app = seeded_app(&["--dev-login"], &ledger()).await;
    let ace = app.login("ace").await;
    let (status, all) = app.get("/api/rankings", Some(&ace)).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let top = entry(&all, "ace");
    assert_eq!(
        (
            &top["rank"],
            &top["totalScore"],
            &top["level"],
            &top["nextLevelScore"]
        ),
        (&json!(1), &json!(400), &json!(4), &json!(520))
    );
    assert_eq!(top["recentScores"], json!([20, 20, 0, 0, 0, 10, 50]));
    assert_eq!(
        entry(&all, "bee")["recentScores"],
        json!([0, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(all["me"], *top, "me is the same entry");

    // This week's board counts 50 points, but the level is the all-time one.
    let (_, week) = app.get("/api/rankings?period=week", Some(&ace)).await;
    let this_week = entry(&week, "ace");
    assert_eq!(
        (
            &this_week["totalScore"],
            &this_week["level"],
            &this_week["nextLevelScore"]
        ),
        (&json!(50), &json!(4), &json!(520))
    );
    assert_eq!(week["entries"].as_array().expect("entries").len(), 1);
    assert_eq!(week["me"]["level"], 4);

    // fields=basic leaves the extras out, for entries and me alike.
    let (_, basic) = app.get("/api/rankings?fields=basic", Some(&ace)).await;
    for e in basic["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .chain([&basic["me"]])
    {
        assert!(
            e.get("level").is_none() && e.get("recentScores").is_none(),
            "{e}"
        );
        assert!(e.get("nextLevelScore").is_none(), "{e}");
        assert!(e["totalScore"].is_i64());
    }
    let (_, full) = app.get("/api/rankings?fields=full", None).await;
    assert_eq!(entry(&full, "ace")["level"], 4);
    assert_error(
        &app.get("/api/rankings?fields=all", None).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("fields"),
    );
}

#[tokio::test]
async fn sparkline_days_follow_the_servers_timezone() {
    let app = seeded_app(&["--dev-login", "--timezone", "UTC"], &ledger()).await;
    let ace = app.login("ace").await;
    // 2026-02-24 … 2026-03-02 in UTC: the first row (02-23 16:00 UTC) is a day too early.
    let (_, me) = app.get("/api/me", Some(&ace)).await;
    assert_eq!(me["recentScores"], json!([30, 0, 0, 0, 0, 60, 0]));
    let (_, board) = app.get("/api/rankings", None).await;
    assert_eq!(
        entry(&board, "ace")["recentScores"],
        json!([30, 0, 0, 0, 0, 60, 0])
    );
    // A day later the window moves by one.
    app.set_now("2026-03-03T00:00:00Z");
    let (_, me) = app.get("/api/me", Some(&ace)).await;
    assert_eq!(me["recentScores"], json!([0, 0, 0, 0, 60, 0, 0]));
}

#[tokio::test]
async fn a_new_score_moves_the_sparkline_and_the_level_at_once() {
    let app = spawn_app().await;
    // Two participants earn points; the mate stays off camera.
    let (room, tokens) = one_session_room(&app, &["runner", "runner-mate"]).await;
    let mut ws = app.ws(&tokens[0]).await;
    ws.join(room, None).await;
    let (_, before) = app.get("/api/me", Some(&tokens[0])).await;
    assert_eq!(before["recentScores"], json!([0, 0, 0, 0, 0, 0, 0]));
    app.set_now("2026-03-02T21:00:00Z");
    let _video = app.go_on_camera(&mut ws, room).await;
    app.set_now("2026-03-02T21:40:00Z");
    attendance_reaching(&mut ws, 2400).await;
    // 2026-03-03 06:40 in Seoul: today is the last day of the sparkline.
    let started = std::time::Instant::now();
    loop {
        let (_, page) = app.get("/api/rankings", Some(&tokens[0])).await;
        if page["entries"].as_array().is_some_and(|e| !e.is_empty()) {
            let runner = entry(&page, "runner");
            assert_eq!(runner["recentScores"], json!([0, 0, 0, 0, 0, 0, 10]));
            assert_eq!(
                (&runner["level"], &runner["nextLevelScore"]),
                (&json!(1), &json!(100))
            );
            assert_eq!(page["me"]["recentScores"], runner["recentScores"]);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never ranked: {page}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, me) = app.get("/api/me", Some(&tokens[0])).await;
    assert_eq!(
        (&me["totalScore"], &me["recentScores"]),
        (&json!(10), &json!([0, 0, 0, 0, 0, 0, 10]))
    );
}

/// `ssgwan_db_queries_total` from `/metrics` (the store's own statement count).
async fn db_queries(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix("ssgwan_db_queries_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no ssgwan_db_queries_total in {text}"))
}

/// Queries one ranking read costs on this server (nothing else runs: background jobs are idle).
async fn queries_for(app: &TestApp, path: &str, token: Option<&str>) -> (u64, Value) {
    let before = db_queries(app).await;
    let (status, page) = app.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    (db_queries(app).await - before, page)
}

#[tokio::test]
async fn the_query_count_of_a_ranking_page_does_not_grow_with_the_page() {
    // 120 ranked users with points on different recent days.
    let names: Vec<String> = (0..120).map(|i| format!("ranker{i:03}")).collect();
    let days = [
        "2026-02-24T03:00:00Z",
        "2026-02-26T03:00:00Z",
        "2026-02-28T03:00:00Z",
        "2026-03-01T03:00:00Z",
    ];
    let users: Vec<(&str, Vec<Score>)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let scores = (0..=(i % 3))
                .map(|k| {
                    (
                        10 * (i as i64 + 1),
                        days[(i + k) % days.len()],
                        ScoreKind::Session,
                    )
                })
                .collect();
            (name.as_str(), scores)
        })
        .collect();
    // Settling runs once at start and then hourly: nothing but the requests touches the database.
    let app = seeded_app(
        &["--dev-login", "--completion-interval-ms", "3600000"],
        &users,
    )
    .await;
    // The pass at start is over once a requested pass (queued behind it) has returned.
    app.completion.run_now().await;
    app.attendance.settled().await;
    assert_eq!(
        queries_for(&app, "/healthz", None).await.0,
        0,
        "the server is otherwise idle"
    );

    let (ten, page) = queries_for(&app, "/api/rankings?limit=10", None).await;
    assert_eq!(page["entries"].as_array().expect("entries").len(), 10);
    let (hundred, page) = queries_for(&app, "/api/rankings?limit=100", None).await;
    let entries = page["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 100);
    assert!(
        entries
            .iter()
            .all(|e| e["recentScores"].as_array().map(Vec::len) == Some(7)
                && e["level"].as_u64().is_some_and(|l| l >= 1))
    );
    // Profiles and levels+sparklines: one query each, for 10 entries as for 100.
    assert_eq!(
        (ten, hundred),
        (2, 2),
        "10 entries: {ten} queries, 100 entries: {hundred}"
    );
    // Until the boards change, the page is served from memory.
    assert_eq!(
        queries_for(&app, "/api/rankings?limit=100", None).await.0,
        0
    );
    // Another board costs at most the same two (for users not seen yet), its levels still
    // from the all-time score.
    let (month, page) = queries_for(&app, "/api/rankings?period=month&limit=100", None).await;
    assert!(!page["entries"].as_array().expect("entries").is_empty());
    assert!(month <= 2, "{month}");

    // Signed in, `me` (here outside the top 100) costs its own profile and activity once, then
    // nothing (the session, profile and activity are cached).
    let token = app.login("ranker000").await;
    app.get("/api/me", Some(&token)).await;
    let (first, page) = queries_for(&app, "/api/rankings?limit=100", Some(&token)).await;
    assert!(
        page["me"]["rank"].as_u64().is_some_and(|r| r > 100),
        "{}",
        page["me"]
    );
    assert_eq!(page["me"]["recentScores"].as_array().map(Vec::len), Some(7));
    assert!(first <= 2, "{first}");
    let (again, _) = queries_for(&app, "/api/rankings?limit=100", Some(&token)).await;
    assert_eq!(again, 0);
}
