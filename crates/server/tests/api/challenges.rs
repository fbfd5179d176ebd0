use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, merge, spawn_app, spawn_app_with, valid_challenge};

async fn count(app: &TestApp) -> usize {
    app.get("/api/challenges?limit=100", None).await.1["items"]
        .as_array()
        .expect("items")
        .len()
}

#[tokio::test]
async fn creating_a_challenge_makes_the_creator_its_first_participant() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let (status, body) = app
        .post("/api/challenges", Some(&token), valid_challenge())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "RECRUITING");
    assert_eq!(body["participantCount"], 1);
    assert_eq!(body["capacity"], 10);
    assert_eq!(body["joined"], true);
    assert_eq!(body["creator"]["nickname"], "host");
    assert_eq!(
        body["daysOfWeek"],
        json!(["MON", "TUE", "WED", "THU", "FRI"])
    );
    let (_, participants) = app
        .get(
            &format!("/api/challenges/{}/participants", body["id"]),
            None,
        )
        .await;
    assert_eq!(participants["items"][0]["user"]["nickname"], "host");
    // Anonymous viewers see the same challenge, not joined.
    let (_, anonymous) = app
        .get(&format!("/api/challenges/{}", body["id"]), None)
        .await;
    assert_eq!(anonymous["joined"], false);
}

#[tokio::test]
async fn defaults_fill_days_timezone_and_success_rate() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let body = merge(
        valid_challenge(),
        json!({ "daysOfWeek": null, "timezone": null, "successRate": null, "description": null }),
    );
    let (status, created) = app.post("/api/challenges", Some(&token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["daysOfWeek"].as_array().expect("days").len(), 7);
    assert_eq!(created["timezone"], "Asia/Seoul");
    assert_eq!(created["successRate"], 80);
    assert_eq!(created["description"], "");
}

#[tokio::test]
async fn every_invalid_field_is_named_and_nothing_is_created() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "title": "" }), "title"),
        (json!({ "title": "   " }), "title"),
        (json!({ "title": "가".repeat(101) }), "title"),
        (json!({ "title": null }), "title"),
        (json!({ "description": "a".repeat(5001) }), "description"),
        (json!({ "category": "SLEEP" }), "category"),
        (json!({ "category": null }), "category"),
        (json!({ "thumbnail": "javascript:alert(1)" }), "thumbnail"),
        (json!({ "capacity": 1 }), "capacity"),
        (json!({ "capacity": 51 }), "capacity"),
        (json!({ "capacity": "ten" }), "capacity"),
        (json!({ "capacity": 2.5 }), "capacity"),
        (json!({ "startDate": "2026-03-01" }), "startDate"),
        (json!({ "startDate": "2026/03/09" }), "startDate"),
        (json!({ "startDate": "2026-02-30" }), "startDate"),
        (json!({ "endDate": "2026-03-08" }), "endDate"),
        (json!({ "endDate": "2026-06-18" }), "endDate"),
        (json!({ "daysOfWeek": [] }), "daysOfWeek"),
        (json!({ "daysOfWeek": ["MON", "MON"] }), "daysOfWeek"),
        (json!({ "daysOfWeek": ["FUNDAY"] }), "daysOfWeek"),
        (
            json!({ "startDate": "2026-03-10", "endDate": "2026-03-10", "daysOfWeek": ["MON"] }),
            "daysOfWeek",
        ),
        (json!({ "sessionStart": "6:00" }), "sessionStart"),
        (json!({ "sessionStart": "24:00" }), "sessionStart"),
        (json!({ "sessionEnd": "06:00" }), "sessionEnd"),
        (json!({ "sessionEnd": "05:00" }), "sessionEnd"),
        (json!({ "timezone": "Mars/Olympus" }), "timezone"),
        (json!({ "minMinutes": 0 }), "minMinutes"),
        (json!({ "minMinutes": 61 }), "minMinutes"),
        (json!({ "successRate": 0 }), "successRate"),
        (json!({ "successRate": 101 }), "successRate"),
        (json!({ "owner": 1 }), "owner"),
    ];
    for (overrides, field) in cases {
        let result = app
            .post(
                "/api/challenges",
                Some(&token),
                merge(valid_challenge(), overrides.clone()),
            )
            .await;
        assert_eq!(
            result.0,
            StatusCode::BAD_REQUEST,
            "{overrides} gave {}",
            result.1
        );
        assert_error(
            &result,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    assert_eq!(
        count(&app).await,
        0,
        "no refused create left anything behind"
    );
}

#[tokio::test]
async fn validation_messages_follow_accept_language() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let send = |lang: &'static str| {
        app.client
            .post(app.url("/api/challenges"))
            .bearer_auth(&token)
            .header("accept-language", lang)
            .json(&merge(valid_challenge(), json!({ "capacity": 99 })))
            .send()
    };
    let (_, en) = crate::support::read(send("en-US,en;q=0.9").await.expect("sent")).await;
    let (_, ko) = crate::support::read(send("ko-KR").await.expect("sent")).await;
    assert_eq!(en["message"], "capacity must be between 2 and 50.");
    assert!(
        ko["message"].as_str().expect("message").contains("이상"),
        "{ko}"
    );
}

#[tokio::test]
async fn a_start_date_of_today_is_fine_but_a_session_already_over_is_not() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    // At EPOCH it is 09:00 on 2026-03-02 in Seoul.
    let today_later = json!({ "startDate": "2026-03-02", "endDate": "2026-03-02", "daysOfWeek": null, "sessionStart": "20:00", "sessionEnd": "21:00" });
    assert_eq!(
        app.post(
            "/api/challenges",
            Some(&token),
            merge(valid_challenge(), today_later)
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let today_over = json!({ "startDate": "2026-03-02", "endDate": "2026-03-02", "daysOfWeek": null, "sessionStart": "06:00", "sessionEnd": "07:00" });
    assert_error(
        &app.post(
            "/api/challenges",
            Some(&token),
            merge(valid_challenge(), today_over),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("sessionEnd"),
    );
}

#[tokio::test]
async fn status_follows_the_clock_in_the_challenges_own_timezone() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    let seoul = app.create_challenge(&token, json!({})).await;
    let new_york = app
        .create_challenge(&token, json!({ "timezone": "America/New_York" }))
        .await;
    let status = |id: i64| {
        let app = &app;
        async move {
            app.get(&format!("/api/challenges/{id}"), None).await.1["status"]
                .as_str()
                .expect("status")
                .to_owned()
        }
    };
    // 2026-03-09 00:00 in Seoul is 2026-03-08 15:00 UTC; New York starts 14 hours later.
    app.set_now("2026-03-08T14:59:59Z");
    assert_eq!(
        (status(seoul).await, status(new_york).await),
        ("RECRUITING".into(), "RECRUITING".into())
    );
    app.set_now("2026-03-08T15:00:00Z");
    assert_eq!(
        (status(seoul).await, status(new_york).await),
        ("IN_PROGRESS".into(), "RECRUITING".into())
    );
    app.set_now("2026-03-09T05:00:00Z");
    assert_eq!(status(new_york).await, "IN_PROGRESS");
    // Seoul ends at 07:00 on 2026-03-22 local = 2026-03-21 22:00 UTC.
    app.set_now("2026-03-21T21:59:59Z");
    assert_eq!(status(seoul).await, "IN_PROGRESS");
    app.set_now("2026-03-21T22:00:00Z");
    assert_eq!(
        (status(seoul).await, status(new_york).await),
        ("ENDED".into(), "IN_PROGRESS".into())
    );
}

#[tokio::test]
async fn only_the_creator_edits_and_only_before_the_start() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let id = app.create_challenge(&host, json!({})).await;
    let path = format!("/api/challenges/{id}");
    assert_error(
        &app.call(
            Method::PATCH,
            &path,
            Some(&guest),
            Some(json!({ "title": "mine now" })),
        )
        .await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        None,
    );
    let (status, edited) = app
        .call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({ "title": "새 제목", "capacity": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (
            edited["title"].as_str(),
            edited["capacity"].as_i64(),
            edited["sessionStart"].as_str()
        ),
        (Some("새 제목"), Some(5), Some("06:00"))
    );
    assert_error(
        &app.call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({ "minMinutes": 90 })),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("minMinutes"),
    );
    app.set_now("2026-03-09T00:00:00Z");
    assert_error(
        &app.call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({ "title": "too late" })),
        )
        .await,
        StatusCode::CONFLICT,
        "CHALLENGE_ALREADY_STARTED",
        None,
    );
    assert_error(
        &app.call(Method::DELETE, &path, Some(&host), None).await,
        StatusCode::CONFLICT,
        "CHALLENGE_ALREADY_STARTED",
        None,
    );
    assert_eq!(app.get(&path, None).await.1["title"], "새 제목");
}

#[tokio::test]
async fn capacity_cannot_drop_below_the_people_already_in() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({})).await;
    for name in ["a1", "a2", "a3"] {
        let token = app.login(name).await;
        assert_eq!(
            app.post(
                &format!("/api/challenges/{id}/participants"),
                Some(&token),
                json!({})
            )
            .await
            .0,
            StatusCode::CREATED
        );
    }
    let result = app
        .call(
            Method::PATCH,
            &format!("/api/challenges/{id}"),
            Some(&host),
            Some(json!({ "capacity": 3 })),
        )
        .await;
    assert_error(
        &result,
        StatusCode::CONFLICT,
        "CAPACITY_BELOW_PARTICIPANTS",
        Some("capacity"),
    );
    assert_eq!(
        app.call(
            Method::PATCH,
            &format!("/api/challenges/{id}"),
            Some(&host),
            Some(json!({ "capacity": 4 }))
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_creator_deletes_before_the_start_and_it_is_gone() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let id = app.create_challenge(&host, json!({})).await;
    app.post(
        &format!("/api/challenges/{id}/participants"),
        Some(&guest),
        json!({}),
    )
    .await;
    let path = format!("/api/challenges/{id}");
    assert_error(
        &app.call(Method::DELETE, &path, Some(&guest), None).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        None,
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&host), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &app.get(&path, None).await,
        StatusCode::NOT_FOUND,
        "CHALLENGE_NOT_FOUND",
        None,
    );
    assert_error(
        &app.call(Method::DELETE, &path, Some(&host), None).await,
        StatusCode::NOT_FOUND,
        "CHALLENGE_NOT_FOUND",
        None,
    );
    assert_eq!(
        app.get("/api/me/challenges?state=active", Some(&guest))
            .await
            .1["items"],
        json!([])
    );
}

#[tokio::test]
async fn join_and_cancel_follow_the_rules() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let id = app.create_challenge(&host, json!({ "capacity": 2 })).await;
    let join = format!("/api/challenges/{id}/participants");
    let cancel = format!("/api/challenges/{id}/participants/me");

    assert_error(
        &app.post(&join, Some(&host), json!({})).await,
        StatusCode::CONFLICT,
        "ALREADY_JOINED",
        None,
    );
    assert_error(
        &app.call(Method::DELETE, &cancel, Some(&host), None).await,
        StatusCode::CONFLICT,
        "CREATOR_CANNOT_CANCEL",
        None,
    );
    assert_error(
        &app.call(Method::DELETE, &cancel, Some(&guest), None).await,
        StatusCode::NOT_FOUND,
        "NOT_PARTICIPANT",
        None,
    );
    let (status, joined) = app.post(&join, Some(&guest), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (
            joined["participantCount"].as_i64(),
            joined["joined"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_error(
        &app.post(&join, Some(&guest), json!({})).await,
        StatusCode::CONFLICT,
        "ALREADY_JOINED",
        None,
    );

    let third = app.login("third").await;
    assert_error(
        &app.post(&join, Some(&third), json!({})).await,
        StatusCode::CONFLICT,
        "CHALLENGE_FULL",
        None,
    );

    // Cancelling frees the place at once, and the cancelled user may come back.
    assert_eq!(
        app.call(Method::DELETE, &cancel, Some(&guest), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(&join, Some(&third), json!({})).await.0,
        StatusCode::CREATED
    );
    assert_error(
        &app.post(&join, Some(&guest), json!({})).await,
        StatusCode::CONFLICT,
        "CHALLENGE_FULL",
        None,
    );
    assert_eq!(
        app.call(Method::DELETE, &cancel, Some(&third), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(&join, Some(&guest), json!({})).await.0,
        StatusCode::CREATED
    );

    // After the start nobody can cancel.
    app.set_now("2026-03-09T00:00:00Z");
    assert_error(
        &app.call(Method::DELETE, &cancel, Some(&guest), None).await,
        StatusCode::CONFLICT,
        "CANCELLATION_NOT_ALLOWED",
        None,
    );
    assert_eq!(
        app.get(&format!("/api/challenges/{id}"), None).await.1["participantCount"],
        2
    );
}

#[tokio::test]
async fn joining_in_progress_counts_sessions_from_the_join_day_and_ended_is_refused() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let late = app.login("late").await;
    let id = app.create_challenge(&host, json!({})).await;
    // Wednesday 2026-03-11, 12:00 in Seoul: Mon, Tue, Wed sessions have been scheduled for the host.
    app.set_now("2026-03-11T03:00:00Z");
    assert_eq!(
        app.post(
            &format!("/api/challenges/{id}/participants"),
            Some(&late),
            json!({})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (_, participants) = app
        .get(&format!("/api/challenges/{id}/participants"), None)
        .await;
    let scheduled: Vec<(String, i64)> = participants["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["user"]["nickname"].as_str().expect("nickname").to_owned(),
                p["scheduledSessions"].as_i64().expect("scheduled"),
            )
        })
        .collect();
    assert_eq!(
        scheduled,
        vec![("host".to_owned(), 3), ("late".to_owned(), 1)]
    );

    let ended = app.login("ended").await;
    app.set_now("2026-03-21T22:00:00Z");
    assert_error(
        &app.post(
            &format!("/api/challenges/{id}/participants"),
            Some(&ended),
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "CHALLENGE_ENDED",
        None,
    );
    assert_error(
        &app.post(
            "/api/challenges/424242/participants",
            Some(&ended),
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "CHALLENGE_NOT_FOUND",
        None,
    );
}

#[tokio::test]
async fn search_matches_korean_and_ignores_case() {
    let app = spawn_app().await;
    let token = app.login("host").await;
    app.create_challenge(
        &token,
        json!({ "title": "새벽 러닝 Club", "category": "WORKOUT" }),
    )
    .await;
    app.create_challenge(
        &token,
        json!({ "title": "책 읽기", "description": "하루 30쪽 READING", "category": "READING" }),
    )
    .await;
    app.create_challenge(
        &token,
        json!({ "title": "100% 집중_모드", "category": "STUDY" }),
    )
    .await;
    let titles = |body: Value| {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["title"].as_str().expect("title").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(
            app.get("/api/challenges?q=%EB%9F%AC%EB%8B%9D", None)
                .await
                .1
        ),
        vec!["새벽 러닝 Club"]
    ); // 러닝
    assert_eq!(
        titles(app.get("/api/challenges?q=club", None).await.1),
        vec!["새벽 러닝 Club"]
    );
    assert_eq!(
        titles(app.get("/api/challenges?q=reading", None).await.1),
        vec!["책 읽기"]
    );
    assert_eq!(
        titles(app.get("/api/challenges?q=%25", None).await.1),
        vec!["100% 집중_모드"],
        "% is literal"
    );
    assert_eq!(
        titles(app.get("/api/challenges?q=_", None).await.1),
        vec!["100% 집중_모드"],
        "_ is literal"
    );
    assert_eq!(
        titles(app.get("/api/challenges?category=READING", None).await.1),
        vec!["책 읽기"]
    );
    assert_eq!(
        titles(
            app.get("/api/challenges?q=club&category=READING", None)
                .await
                .1
        ),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn status_filter_and_sorts() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let soon = app.create_challenge(&host, json!({ "title": "soon", "startDate": "2026-03-03", "endDate": "2026-03-05", "daysOfWeek": null })).await;
    let later = app.create_challenge(&host, json!({ "title": "later", "startDate": "2026-04-01", "endDate": "2026-04-05", "daysOfWeek": null })).await;
    let crowded = app.create_challenge(&host, json!({ "title": "crowded", "startDate": "2026-03-20", "endDate": "2026-03-25", "daysOfWeek": null })).await;
    for name in ["p1", "p2"] {
        let token = app.login(name).await;
        app.post(
            &format!("/api/challenges/{crowded}/participants"),
            Some(&token),
            json!({}),
        )
        .await;
    }
    let ids = |body: Value| {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_i64().expect("id"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(app.get("/api/challenges", None).await.1),
        vec![crowded, later, soon]
    );
    assert_eq!(
        ids(app.get("/api/challenges?sort=popular", None).await.1)[0],
        crowded
    );
    assert_eq!(
        ids(app.get("/api/challenges?sort=startingSoon", None).await.1),
        vec![soon, crowded, later]
    );
    app.set_now("2026-03-04T00:00:00Z");
    assert_eq!(
        ids(app.get("/api/challenges?status=IN_PROGRESS", None).await.1),
        vec![soon]
    );
    assert_eq!(
        ids(app
            .get("/api/challenges?status=RECRUITING&sort=startingSoon", None)
            .await
            .1),
        vec![crowded, later]
    );
    assert_eq!(
        ids(app.get("/api/challenges?sort=startingSoon", None).await.1),
        vec![crowded, later],
        "started ones are not 'starting soon'"
    );
    app.set_now("2026-03-06T00:00:00Z");
    assert_eq!(
        ids(app.get("/api/challenges?status=ENDED", None).await.1),
        vec![soon]
    );
}

#[tokio::test]
async fn cursor_pages_cover_every_challenge_once_in_every_sort() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let mut created = Vec::new();
    for i in 0..23 {
        let start = format!("2026-03-{:02}", 3 + (i % 5));
        created.push(app.create_challenge(&host, json!({ "title": format!("c{i}"), "startDate": start, "endDate": "2026-03-28", "daysOfWeek": null })).await);
    }
    for sort in ["new", "popular", "startingSoon"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/challenges?sort={sort}&limit=5&cursor={c}"),
                None => format!("/api/challenges?sort={sort}&limit=5"),
            };
            let (status, page) = app.get(&path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.extend(
                page["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|c| c["id"].as_i64().expect("id")),
            );
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "no duplicates with sort={sort}");
        assert_eq!(
            sorted.len(),
            created.len(),
            "every challenge with sort={sort}"
        );
    }
}

#[tokio::test]
async fn bad_list_parameters_are_named() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("sort=oldest", "sort"),
        ("status=DONE", "status"),
        ("category=sleep", "category"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        assert_error(
            &app.get(&format!("/api/challenges?{query}"), None).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    assert_error(
        &app.get(&format!("/api/challenges?q={}", "가".repeat(101)), None)
            .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("q"),
    );
}

#[tokio::test]
async fn my_challenges_lists_active_and_created() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let mine = app
        .create_challenge(&host, json!({ "title": "mine" }))
        .await;
    let theirs = app
        .create_challenge(&guest, json!({ "title": "theirs" }))
        .await;
    app.post(
        &format!("/api/challenges/{theirs}/participants"),
        Some(&host),
        json!({}),
    )
    .await;
    let ids = |body: Value| {
        let mut ids = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_i64().expect("id"))
            .collect::<Vec<_>>();
        ids.sort_unstable();
        ids
    };
    assert_eq!(
        ids(app
            .get("/api/me/challenges?state=active", Some(&host))
            .await
            .1),
        vec![mine, theirs]
    );
    assert_eq!(
        ids(app.get("/api/me/challenges", Some(&host)).await.1),
        vec![mine, theirs]
    );
    assert_eq!(
        ids(app
            .get("/api/me/challenges?state=created", Some(&host))
            .await
            .1),
        vec![mine]
    );
    assert_eq!(
        ids(app
            .get("/api/me/challenges?state=completed", Some(&host))
            .await
            .1),
        Vec::<i64>::new()
    );
    assert_error(
        &app.get("/api/me/challenges?state=all", Some(&host)).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("state"),
    );
    assert_error(
        &app.get("/api/me/challenges", None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn a_user_creates_at_most_the_daily_limit_even_all_at_once() {
    let app =
        crate::support::spawn_app_with(&["--dev-login", "--challenge-daily-limit", "3"]).await;
    let token = app.login("prolific").await;
    // Eight at once: the database counts under the creator's lock, so exactly three land.
    let results = futures::future::join_all(
        (0..8).map(|_| app.post("/api/challenges", Some(&token), valid_challenge())),
    )
    .await;
    let created = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 3, "{results:?}");
    for result in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_error(
            result,
            StatusCode::TOO_MANY_REQUESTS,
            "CHALLENGE_LIMIT_REACHED",
            None,
        );
    }
    let (_, mine) = app
        .get("/api/me/challenges?state=created", Some(&token))
        .await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(3));
    // Someone else has a limit of their own.
    let other = app.login("other").await;
    app.create_challenge(&other, json!({})).await;
    // The day turns at midnight in the server's timezone (15:00 UTC in Seoul).
    app.set_now("2026-03-02T14:59:00Z");
    assert_error(
        &app.post("/api/challenges", Some(&token), valid_challenge())
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "CHALLENGE_LIMIT_REACHED",
        None,
    );
    app.set_now("2026-03-02T15:00:00Z");
    app.create_challenge(&token, json!({})).await;
}

#[tokio::test]
async fn a_join_over_http_costs_one_read_and_one_write_and_a_refused_one_a_read() {
    // Sessions trusted for a minute, so that the look-ups below are the cached ones; no
    // periodic completion passes counted with the join.
    let app = spawn_app_with(&[
        "--dev-login",
        "--session-cache-ttl-ms",
        "60000",
        "--completion-interval-ms",
        "3600000",
    ])
    .await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let late = app.login("late").await;
    let id = app.create_challenge(&host, json!({ "capacity": 2 })).await;
    let path = format!("/api/challenges/{id}/participants");
    for token in [&guest, &late] {
        assert_eq!(app.get("/api/me", Some(token)).await.0, StatusCode::OK);
    }
    // The creator's new-member notices off: telling them then costs one settings read, in the
    // background, and nothing else.
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            "/api/me/notification-settings",
            Some(&host),
            Some(json!({ "kinds": ["SESSION_REMINDER"], "minutesBefore": 10 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = app.settled_db_queries().await;
    let (status, body) = app.post(&path, Some(&guest), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (&body["participantCount"], &body["joined"]),
        (&json!(2), &json!(true))
    );
    // The whole challenge comes back as the detail page shows it.
    let (_, detail) = app
        .get(&format!("/api/challenges/{id}"), Some(&guest))
        .await;
    assert_eq!(body, detail);
    let after = app.settled_db_queries().await;
    // The join (the challenge read, the insert), the detail read, and the creator's settings.
    assert_eq!(after - before, 4, "statements for a join and a read");

    let result = app.post(&path, Some(&late), json!({})).await;
    assert_error(&result, StatusCode::CONFLICT, "CHALLENGE_FULL", None);
    assert_eq!(
        app.settled_db_queries().await - after,
        1,
        "a refused join reads and writes nothing"
    );
}
