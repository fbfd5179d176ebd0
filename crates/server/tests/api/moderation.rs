//! Host controls (issue 18): removing a member, co-hosts, deleting a chat message, locking the
//! room; every refusal names its code and changes nothing, every action is idempotent.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    attendance::{one_session_room, participant_statuses, settled_statuses},
    support::{TestApp, Ws, assert_error},
    ws::room_with,
};

pub(crate) async fn user_id(app: &TestApp, token: &str) -> i64 {
    app.get("/api/me", Some(token)).await.1["id"]
        .as_i64()
        .expect("id")
}

pub(crate) async fn delete(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.call(Method::DELETE, path, Some(token), None).await
}

pub(crate) async fn put(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.call(Method::PUT, path, Some(token), None).await
}

async fn participant_count(app: &TestApp, room: i64) -> i64 {
    app.get(&format!("/api/challenges/{room}"), None).await.1["participantCount"]
        .as_i64()
        .expect("participantCount")
}

/// The next frame of `kind` within a second (the bound the product promises).
pub(crate) async fn within_a_second(ws: &mut Ws, kind: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let frame = ws
            .try_next(left)
            .await
            .unwrap_or_else(|| panic!("a {kind} frame within a second"));
        if frame["type"] == kind {
            return frame;
        }
    }
}

fn chat(room: i64, body: &str, client_id: &str) -> Value {
    json!({ "type": "chat", "room": room, "body": body, "clientId": client_id })
}

async fn kinds_of_notifications(app: &TestApp, token: &str) -> Vec<String> {
    let (status, page) = app.get("/api/me/notifications", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[tokio::test]
async fn a_removed_member_leaves_the_room_at_once_and_cannot_come_back() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "troll", "bystander"]).await;
    let troll = user_id(&app, &tokens[1]).await;
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let mut ws = app.ws(&tokens[1]).await;
    ws.join(room, None).await;
    assert_eq!(host.next_of("presence").await["event"], "join");
    assert_eq!(participant_count(&app, room).await, 3);

    let path = format!("/api/challenges/{room}/participants/{troll}");
    let (status, body) = delete(&app, &path, &tokens[0]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = within_a_second(&mut ws, "left").await;
    assert_eq!(
        (left["room"].as_i64(), left["reason"].as_str()),
        (Some(room), Some("removed"))
    );
    assert_eq!(host.next_of("presence").await["event"], "leave");
    // Their place is freed, and they are told why.
    assert_eq!(participant_count(&app, room).await, 2);
    let notice = app.get("/api/me/notifications", Some(&tokens[1])).await.1;
    assert_eq!(
        notice["items"][0]["kind"], "REMOVED_FROM_CHALLENGE",
        "{notice}"
    );
    assert_eq!(notice["items"][0]["challengeId"], room, "{notice}");
    assert_eq!(
        notice["items"][0]["data"]["challengeTitle"],
        "새벽 공부 Morning Study"
    );
    // In words (the web app's texts, and Web Push's, from the domain).
    let (_, text) = ssgwan_domain::notification::text(
        ssgwan_domain::notification::Kind::RemovedFromChallenge,
        &ssgwan_domain::notification::Details::default(),
        true,
    );
    assert!(text.contains("내보냈습니다"), "{text}");
    // They cannot join again, over HTTP or the socket, nor read the room.
    let again = app
        .post(
            &format!("/api/challenges/{room}/participants"),
            Some(&tokens[1]),
            json!({}),
        )
        .await;
    assert_error(
        &again,
        StatusCode::FORBIDDEN,
        "REMOVED_FROM_CHALLENGE",
        None,
    );
    let detail = app
        .get(&format!("/api/challenges/{room}"), Some(&tokens[1]))
        .await
        .1;
    assert_eq!(
        (&detail["removed"], &detail["joined"]),
        (&json!(true), &json!(false)),
        "{detail}"
    );
    ws.send(json!({ "type": "join", "room": room })).await;
    assert_eq!(ws.next_of("error").await["code"], "FORBIDDEN");
    ws.send(chat(room, "let me in", "c1")).await;
    assert_eq!(ws.next_of("error").await["code"], "NOT_IN_ROOM");
    let history = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[1]),
        )
        .await;
    assert_error(&history, StatusCode::FORBIDDEN, "FORBIDDEN", None);
    // A repeat is a no-op: 204, no second notice.
    let (status, body) = delete(&app, &path, &tokens[0]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(participant_count(&app, room).await, 2);
    assert_eq!(
        kinds_of_notifications(&app, &tokens[1]).await,
        vec!["REMOVED_FROM_CHALLENGE"]
    );
    // The place they freed is open to others: the participants list no longer has them.
    let list = app
        .get(&format!("/api/challenges/{room}/participants"), None)
        .await
        .1;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["user"]["id"].as_i64().expect("id"))
        .collect();
    assert!(!ids.contains(&troll), "{list}");
}

#[tokio::test]
async fn host_actions_by_the_wrong_people_or_on_the_wrong_targets_are_refused() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "member", "other"]).await;
    let (elsewhere, strangers) = room_with(&app, &["stranger-host", "stranger"]).await;
    let host = user_id(&app, &tokens[0]).await;
    let member = user_id(&app, &tokens[1]).await;
    let stranger = user_id(&app, &strangers[1]).await;
    let remove = |target: i64| format!("/api/challenges/{room}/participants/{target}");

    // A member is not a host.
    let refused = delete(&app, &remove(member), &tokens[2]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
    // Nor is the host of another room.
    let refused = delete(&app, &remove(member), &strangers[0]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
    // Not on themselves.
    let refused = delete(&app, &remove(host), &tokens[0]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "SELF_TARGET", None);
    // Not on a member of another room.
    let refused = delete(&app, &remove(stranger), &tokens[0]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_ROOM_MEMBER", None);
    // A co-host cannot remove the creator.
    let (status, body) = put(
        &app,
        &format!("/api/challenges/{room}/cohosts/{member}"),
        &tokens[0],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let refused = delete(&app, &remove(host), &tokens[1]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "TARGET_IS_HOST", None);
    // Nothing changed.
    assert_eq!(participant_count(&app, room).await, 3);
    assert_eq!(participant_count(&app, elsewhere).await, 2);
    // Bad ids.
    let refused = delete(
        &app,
        &format!("/api/challenges/{room}/participants/abc"),
        &tokens[0],
    )
    .await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "VALIDATION_FAILED", None);
    let refused = delete(&app, "/api/challenges/999999/participants/1", &tokens[0]).await;
    assert_error(&refused, StatusCode::NOT_FOUND, "CHALLENGE_NOT_FOUND", None);
    let anonymous = app.call(Method::DELETE, &remove(member), None, None).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", None);
}

#[tokio::test]
async fn the_creator_appoints_at_most_three_co_hosts_who_act_as_hosts() {
    let app = crate::support::spawn_app().await;
    let names = ["host", "c1", "c2", "c3", "c4", "member"];
    let (room, tokens) = room_with(&app, &names).await;
    let mut ids = Vec::new();
    for token in &tokens {
        ids.push(user_id(&app, token).await);
    }
    let cohost = |i: usize| format!("/api/challenges/{room}/cohosts/{}", ids[i]);
    for i in 1..=3 {
        let (status, body) = put(&app, &cohost(i), &tokens[0]).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    // Again: idempotent.
    assert_eq!(
        put(&app, &cohost(1), &tokens[0]).await.0,
        StatusCode::NO_CONTENT
    );
    let full = put(&app, &cohost(4), &tokens[0]).await;
    assert_error(&full, StatusCode::CONFLICT, "COHOST_LIMIT_REACHED", None);
    // Only the creator appoints, and only members.
    let refused = put(&app, &cohost(5), &tokens[1]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
    let (_, outsiders) = room_with(&app, &["outsider"]).await;
    let outsider = user_id(&app, &outsiders[0]).await;
    let refused = put(
        &app,
        &format!("/api/challenges/{room}/cohosts/{outsider}"),
        &tokens[0],
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_ROOM_MEMBER", None);
    let (status, hosts) = app
        .get(&format!("/api/challenges/{room}/hosts"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{hosts}");
    assert_eq!(hosts["creator"]["id"], ids[0]);
    let listed: Vec<i64> = hosts["cohosts"]
        .as_array()
        .expect("cohosts")
        .iter()
        .map(|u| u["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(listed, ids[1..=3].to_vec());
    assert_eq!(hosts["locked"], false);
    // A co-host may remove a member, but not another co-host.
    let refused = delete(
        &app,
        &format!("/api/challenges/{room}/participants/{}", ids[2]),
        &tokens[1],
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "TARGET_IS_HOST", None);
    let (status, body) = delete(
        &app,
        &format!("/api/challenges/{room}/participants/{}", ids[5]),
        &tokens[1],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Demoted (twice: idempotent), the slot is free again.
    for _ in 0..2 {
        let (status, body) = delete(&app, &cohost(3), &tokens[0]).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    assert_eq!(
        put(&app, &cohost(4), &tokens[0]).await.0,
        StatusCode::NO_CONTENT
    );
    // Demoting is the creator's too.
    let refused = delete(&app, &cohost(4), &tokens[1]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
}

#[tokio::test]
async fn a_host_deletes_a_chat_message_for_everyone() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "writer"]).await;
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let mut writer = app.ws(&tokens[1]).await;
    writer.join(room, None).await;
    writer.send(chat(room, "rude words", "m1")).await;
    let id = writer.next_of("chat").await["message"]["id"]
        .as_i64()
        .expect("message id");
    host.next_of("chat").await;
    let path = format!("/api/challenges/{room}/messages/{id}");
    // The writer is no host (not even of their own message).
    let refused = delete(&app, &path, &tokens[1]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
    let missing = delete(
        &app,
        &format!("/api/challenges/{room}/messages/999"),
        &tokens[0],
    )
    .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "MESSAGE_NOT_FOUND", None);
    for _ in 0..2 {
        let (status, body) = delete(&app, &path, &tokens[0]).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for ws in [&mut host, &mut writer] {
            let tombstone = within_a_second(ws, "chatDeleted").await;
            assert_eq!(
                (tombstone["room"].as_i64(), tombstone["messageId"].as_i64()),
                (Some(room), Some(id))
            );
        }
    }
    let (_, page) = app
        .get(
            &format!("/api/challenges/{room}/messages"),
            Some(&tokens[1]),
        )
        .await;
    let message = &page["items"][0];
    assert_eq!(
        (
            message["id"].as_i64(),
            message["deleted"].as_bool(),
            message["body"].as_str()
        ),
        (Some(id), Some(true), Some("")),
        "{page}"
    );
    // A later join's replay carries the tombstone too.
    let mut late = app.ws(&tokens[1]).await;
    let joined = late.join(room, Some(0)).await;
    assert_eq!(joined["missed"][0]["deleted"], true, "{joined}");
}

#[tokio::test]
async fn a_locked_room_takes_no_new_joins_until_the_next_session() {
    let app = crate::support::spawn_app().await;
    let (room, tokens) = room_with(&app, &["host", "inside", "late"]).await;
    let mut host = app.ws(&tokens[0]).await;
    host.join(room, None).await;
    let mut inside = app.ws(&tokens[1]).await;
    inside.join(room, None).await;
    let refused = put(&app, &format!("/api/challenges/{room}/lock"), &tokens[1]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "NOT_HOST", None);
    for _ in 0..2 {
        let (status, body) = put(&app, &format!("/api/challenges/{room}/lock"), &tokens[0]).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let locked = within_a_second(&mut inside, "roomLocked").await;
    assert_eq!(locked["room"], room);
    assert_eq!(
        app.get(&format!("/api/challenges/{room}/hosts"), None)
            .await
            .1["locked"],
        true
    );
    // A newcomer is refused; those inside stay, and may open another tab.
    let mut late = app.ws(&tokens[2]).await;
    late.send(json!({ "type": "join", "room": room })).await;
    let error = late.next_of("error").await;
    assert_eq!(
        (error["code"].as_str(), error["room"].as_i64()),
        (Some("ROOM_LOCKED"), Some(room))
    );
    inside.send(chat(room, "still here", "s1")).await;
    inside.next_of("chat").await;
    let mut second_tab = app.ws(&tokens[1]).await;
    second_tab.join(room, None).await;
    // The next day's session opens again.
    app.set_now("2026-03-03T00:00:00Z");
    late.join(room, None).await;
}

#[tokio::test]
async fn a_removed_member_keeps_their_attendance_but_does_not_complete() {
    use ssgwan_store::{AttendanceStore, ScoreStore};
    let app = crate::support::spawn_app().await;
    let (room, tokens) = one_session_room(&app, &["host", "achiever"]).await;
    let achiever = user_id(&app, &tokens[1]).await;
    // The session achieved (as the attendance actor would record it), then the removal.
    let url = format!("sqlite://{}", app._dir.path().join("ssgwan.db").display());
    let store = ssgwan_store::SqlStore::connect(&url, 2)
        .await
        .expect("store");
    let date = "2026-03-03".parse().expect("date");
    app.set_now("2026-03-02T21:40:00Z");
    let at = "2026-03-02T21:40:00Z".parse().expect("instant");
    let update = store
        .add_attendance(room, achiever, date, 1800, 1800, at)
        .await
        .expect("attendance");
    assert!(update.newly_achieved, "{update:?}");
    let path = format!("/api/challenges/{room}/participants/{achiever}");
    assert_eq!(
        delete(&app, &path, &tokens[0]).await.0,
        StatusCode::NO_CONTENT
    );
    app.set_now("2026-03-02T22:00:16Z");
    let statuses = settled_statuses(&app, room).await;
    assert_eq!(statuses, vec![("host".to_owned(), "FAILED".to_owned(), 0)]);
    assert_eq!(participant_statuses(&app, room).await.len(), 1);
    // Their attendance stays on record; the challenge is not among their completed ones, and
    // the ledger has no completion for them.
    let day = store
        .attendance_day(room, achiever, date)
        .await
        .expect("day");
    assert_eq!((day.seconds, day.achieved), (1800, true));
    let (_, completed) = app
        .get("/api/me/challenges?state=completed", Some(&tokens[1]))
        .await;
    assert_eq!(completed["items"], json!([]), "{completed}");
    let rules = ssgwan_domain::award::AwardRules::DEFAULT;
    store.reconcile_scores(&rules).await.expect("reconciled");
    let totals = store.score_totals(None).await.expect("totals");
    assert!(
        totals
            .iter()
            .all(|t| t.user_id != achiever || t.completed == 0),
        "no completion for them: {totals:?}"
    );
}

#[tokio::test]
async fn accounts_younger_than_a_day_get_the_lower_creation_limit() {
    let app = crate::support::spawn_app_with(&[
        "--dev-login",
        "--challenge-daily-limit",
        "3",
        "--new-account-challenge-daily-limit",
        "1",
    ])
    .await;
    let token = app.login("newcomer").await;
    app.create_challenge(&token, json!({})).await;
    let refused = app
        .post(
            "/api/challenges",
            Some(&token),
            crate::support::valid_challenge(),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "CHALLENGE_LIMIT_REACHED",
        None,
    );
    // A day old (and a new day): the general limit.
    app.set_now("2026-03-03T00:00:01Z");
    for _ in 0..3 {
        app.create_challenge(&token, json!({ "startDate": "2026-03-10" }))
            .await;
    }
    let refused = app
        .post(
            "/api/challenges",
            Some(&token),
            crate::support::valid_challenge(),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "CHALLENGE_LIMIT_REACHED",
        None,
    );
}
