//! Capacity under contention: the database, not the process, decides who gets a place.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_times_capacity_racing_joins_fill_exactly_capacity() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let capacity = 20;
    let id = app
        .create_challenge(&host, json!({ "capacity": capacity }))
        .await;
    let mut tokens = Vec::new();
    for i in 0..capacity * 3 {
        tokens.push(app.login(&format!("racer{i}")).await);
    }
    let path = format!("/api/challenges/{id}/participants");
    let results = join_all(tokens.iter().map(|t| app.post(&path, Some(t), json!({})))).await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let full = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "CHALLENGE_FULL")
        .count();
    assert_eq!(won as i64, capacity - 1, "the creator holds one place");
    assert_eq!(
        won + full,
        results.len(),
        "every loser is told CHALLENGE_FULL: {:?}",
        results
            .iter()
            .find(|(s, b)| *s != StatusCode::CREATED && b["code"] != "CHALLENGE_FULL")
    );
    let (_, detail) = app.get(&format!("/api/challenges/{id}"), None).await;
    assert_eq!(detail["participantCount"], capacity);
    let (_, participants) = app.get(&path, None).await;
    assert_eq!(
        participants["items"].as_array().expect("items").len() as i64,
        capacity
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_user_racing_itself_gets_one_place() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({ "capacity": 50 })).await;
    let token = app.login("eager").await;
    let path = format!("/api/challenges/{id}/participants");
    let results = join_all((0..20).map(|_| app.post(&path, Some(&token), json!({})))).await;
    assert_eq!(
        results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count(),
        1
    );
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s != StatusCode::CREATED)
            .all(|(_, b)| b["code"] == "ALREADY_JOINED")
    );
    assert_eq!(
        app.get(&format!("/api/challenges/{id}"), None).await.1["participantCount"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_cancels_and_joins_keep_the_count_true() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app.create_challenge(&host, json!({ "capacity": 5 })).await;
    let path = format!("/api/challenges/{id}/participants");
    let mut tokens = Vec::new();
    for i in 0..12 {
        tokens.push(app.login(&format!("churn{i}")).await);
    }
    let cancel = format!("{path}/me");
    for _round in 0..3 {
        join_all(tokens.iter().map(|t| app.post(&path, Some(t), json!({})))).await;
        join_all(
            tokens
                .iter()
                .step_by(2)
                .map(|t| app.call(reqwest::Method::DELETE, &cancel, Some(t), None)),
        )
        .await;
    }
    let (_, detail) = app.get(&format!("/api/challenges/{id}"), None).await;
    let (_, participants) = app.get(&path, None).await;
    let listed = participants["items"].as_array().expect("items").len() as i64;
    assert_eq!(
        detail["participantCount"].as_i64(),
        Some(listed),
        "the counter matches the rows"
    );
    assert!(listed <= 5);
}
