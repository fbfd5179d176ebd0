//! The wish list (찜): idempotent add and remove, counts and `wished` on every challenge, the
//! caller's list in pages, and popularity that weighs wishes beside participants.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, spawn_app};

async fn wish(app: &TestApp, id: i64, token: Option<&str>) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("/api/challenges/{id}/wish"),
        token,
        None,
    )
    .await
}

async fn unwish(app: &TestApp, id: i64, token: Option<&str>) -> (StatusCode, Value) {
    app.call(
        Method::DELETE,
        &format!("/api/challenges/{id}/wish"),
        token,
        None,
    )
    .await
}

async fn detail(app: &TestApp, id: i64, token: Option<&str>) -> Value {
    let (status, body) = app.get(&format!("/api/challenges/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn wishing_is_idempotent_and_every_view_shows_the_count_and_the_callers_wish() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let fan = app.login("fan").await;
    let other = app.login("other").await;
    let id = app.create_challenge(&host, json!({})).await;
    let fresh = detail(&app, id, Some(&fan)).await;
    assert_eq!(
        (&fresh["wishCount"], &fresh["wished"]),
        (&json!(0), &json!(false))
    );

    assert_eq!(
        wish(&app, id, Some(&fan)).await,
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert_eq!(
        wish(&app, id, Some(&fan)).await.0,
        StatusCode::NO_CONTENT,
        "again: no change"
    );
    assert_eq!(wish(&app, id, Some(&other)).await.0, StatusCode::NO_CONTENT);
    let seen = detail(&app, id, Some(&fan)).await;
    assert_eq!(
        (&seen["wishCount"], &seen["wished"]),
        (&json!(2), &json!(true))
    );
    assert_eq!(seen["popularity"], 4, "2 × one participant + 2 wishes");
    assert_eq!(detail(&app, id, Some(&host)).await["wished"], false);
    let anonymous = detail(&app, id, None).await;
    assert_eq!(
        (&anonymous["wishCount"], &anonymous["wished"]),
        (&json!(2), &json!(false))
    );
    // List items carry the same.
    let (_, page) = app.get("/api/challenges", Some(&fan)).await;
    assert_eq!(
        (&page["items"][0]["wished"], &page["items"][0]["wishCount"]),
        (&json!(true), &json!(2))
    );
    let (_, page) = app.get("/api/challenges", None).await;
    assert_eq!(page["items"][0]["wished"], false);

    assert_eq!(
        unwish(&app, id, Some(&fan)).await,
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert_eq!(
        unwish(&app, id, Some(&fan)).await.0,
        StatusCode::NO_CONTENT,
        "again: no change"
    );
    assert_eq!(
        unwish(&app, id, Some(&host)).await.0,
        StatusCode::NO_CONTENT,
        "never wished"
    );
    let seen = detail(&app, id, Some(&fan)).await;
    assert_eq!(
        (&seen["wishCount"], &seen["wished"]),
        (&json!(1), &json!(false))
    );
}

#[tokio::test]
async fn wishes_need_a_session_and_an_existing_challenge() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({})).await;
    for response in [wish(&app, id, None).await, unwish(&app, id, None).await] {
        assert_error(&response, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", None);
    }
    assert_error(
        &app.get("/api/me/wishes", None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
    for response in [
        wish(&app, id + 1000, Some(&host)).await,
        unwish(&app, id + 1000, Some(&host)).await,
    ] {
        assert_error(
            &response,
            StatusCode::NOT_FOUND,
            "CHALLENGE_NOT_FOUND",
            None,
        );
    }
    assert_error(
        &app.call(Method::PUT, "/api/challenges/abc/wish", Some(&host), None)
            .await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("id"),
    );
    // Wishing an ended challenge is fine: it is a bookmark.
    app.set_now("2026-03-30T00:00:00Z");
    assert_eq!(wish(&app, id, Some(&host)).await.0, StatusCode::NO_CONTENT);
    // A deleted challenge leaves the wish lists.
    app.set_now("2026-03-02T00:00:00Z");
    let gone = app.create_challenge(&host, json!({})).await;
    wish(&app, gone, Some(&host)).await;
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/challenges/{gone}"),
            Some(&host),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        ids(&app.get("/api/me/wishes", Some(&host)).await.1),
        vec![id]
    );
}

#[tokio::test]
async fn my_wishes_come_newest_first_in_pages() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let fan = app.login("fan").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            app.create_challenge(&host, json!({ "title": format!("찜 {i}") }))
                .await,
        );
    }
    // Wished at different times, in this order: 3, 0, 4, 1 (2 never).
    for (minute, at) in [(1, 3), (2, 0), (3, 4), (4, 1)] {
        app.set_now(&format!("2026-03-02T00:0{minute}:00Z"));
        wish(&app, created[at], Some(&fan)).await;
    }
    let (status, first) = app.get("/api/me/wishes?limit=3", Some(&fan)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(ids(&first), vec![created[1], created[4], created[0]]);
    assert!(
        first["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|c| c["wished"] == true)
    );
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let (_, second) = app
        .get(
            &format!("/api/me/wishes?limit=3&cursor={cursor}"),
            Some(&fan),
        )
        .await;
    assert_eq!(ids(&second), vec![created[3]]);
    assert_eq!(second["nextCursor"], Value::Null);
    let (_, all) = app.get("/api/me/wishes", Some(&fan)).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 4);
    assert_eq!(all["nextCursor"], Value::Null);
    // Someone else's list is their own.
    let (_, hosts) = app.get("/api/me/wishes", Some(&host)).await;
    assert_eq!(hosts, json!({ "items": [], "nextCursor": null }));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("cursor=nope", "cursor"),
        ("cursor=1.2.3", "cursor"),
    ] {
        assert_error(
            &app.get(&format!("/api/me/wishes?{query}"), Some(&fan))
                .await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
}

#[tokio::test]
async fn popular_sort_weighs_a_participant_as_two_wishes_and_pages_exactly() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let mut people = Vec::new();
    for i in 0..4 {
        people.push(app.login(&format!("fan{i}")).await);
    }
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(
            app.create_challenge(&host, json!({ "title": format!("pop {i}") }))
                .await,
        );
    }
    // (challenge, joins, wishes) → popularity 2 × (1 + joins) + wishes.
    for (at, joins, wishes) in [(0, 2, 0), (1, 0, 3), (2, 1, 1), (4, 0, 1)] {
        for token in &people[..joins] {
            app.post(
                &format!("/api/challenges/{}/participants", created[at]),
                Some(token),
                json!({}),
            )
            .await;
        }
        for token in &people[..wishes] {
            wish(&app, created[at], Some(token)).await;
        }
    }
    let mut seen = Vec::new();
    let mut query = "/api/challenges?sort=popular&limit=2".to_owned();
    loop {
        let (status, page) = app.get(&query, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().expect("items") {
            seen.push((
                item["id"].as_i64().expect("id"),
                item["popularity"].as_i64().expect("popularity"),
            ));
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => query = format!("/api/challenges?sort=popular&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    // 0: 2×3 = 6; 2: 2×2+1 = 5; 1: 2+3 = 5 (ties: newer first); 4: 2+1 = 3; 5 and 3: 2.
    assert_eq!(
        seen,
        vec![
            (created[0], 6),
            (created[2], 5),
            (created[1], 5),
            (created[4], 3),
            (created[5], 2),
            (created[3], 2),
        ]
    );
}

#[tokio::test]
async fn racing_wishes_from_many_users_count_each_once() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({})).await;
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(app.login(&format!("racer{i}")).await);
    }
    // Each user wishes three times at once.
    let results = join_all(
        tokens
            .iter()
            .flat_map(|t| [t, t, t])
            .map(|t| wish(&app, id, Some(t))),
    )
    .await;
    assert!(results.iter().all(|(s, _)| *s == StatusCode::NO_CONTENT));
    assert_eq!(detail(&app, id, None).await["wishCount"], 20);
    // Half take it back, twice each, at once.
    join_all(
        tokens[..10]
            .iter()
            .flat_map(|t| [t, t])
            .map(|t| unwish(&app, id, Some(t))),
    )
    .await;
    assert_eq!(detail(&app, id, None).await["wishCount"], 10);
}
