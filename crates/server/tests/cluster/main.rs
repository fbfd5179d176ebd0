//! Several `ssgwan serve` nodes acting as one: real processes on one PostgreSQL (and again on
//! one MariaDB) and one Redis. Each case runs on both databases when their servers are
//! configured (scripts/test.sh starts them) and is skipped with a note otherwise.

#[path = "../common/child.rs"]
mod child;
mod harness;
#[allow(dead_code)]
#[path = "../api/support.rs"]
mod support;

use futures::future::join_all;
use std::time::Duration;

use harness::{Api, Node, Redis, S3};
use reqwest::StatusCode;
use serde_json::json;
use ssgwan_testkit::databases::{Server as Db, TestDatabase as Database};

macro_rules! on_every_database {
    ($($case:ident),* $(,)?) => {
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $case() { super::$case(super::Db::Postgres).await } )*
        }
        mod mysql {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $case() { super::$case(super::Db::MySql).await } )*
        }
    };
}

on_every_database!(
    capacity_is_exact_when_joins_race_on_both_nodes,
    chat_and_presence_cross_nodes,
    both_nodes_show_the_same_ranking,
    an_upload_on_one_node_is_served_by_the_other,
    a_killed_nodes_users_reconnect_elsewhere_and_lose_nothing,
    a_redis_outage_degrades_live_features_and_heals_by_itself,
    on_camera_on_two_nodes_counts_once,
    two_rooms_on_two_nodes_count_in_one,
    the_chat_limit_is_one_limit_across_nodes,
    cancel_logout_and_deletion_on_one_node_reach_sockets_on_the_other_within_a_second,
    removal_suspension_and_blocks_reach_sockets_on_both_nodes,
    a_rooms_media_lives_on_one_node_and_reaches_tabs_on_both,
    when_the_media_owner_dies_the_tabs_start_again_on_another_node,
);

/// Node flags for a shared Redis, with a short node TTL so a dead node is noticed quickly.
fn shared(redis: &Redis) -> Vec<String> {
    vec![
        "--redis-url".to_owned(),
        redis.url(),
        "--node-ttl-secs".to_owned(),
        "3".to_owned(),
    ]
}

/// Two nodes on one database and one Redis.
async fn two_nodes(db: Db) -> Option<(Database, Redis, Node, Node)> {
    let database = Database::create(db, "ssgwan_c").await?;
    let redis = Redis::start();
    let flags = shared(&redis);
    let a = Node::start(&database.url, &flags).await;
    let b = Node::start(&database.url, &flags).await;
    Some((database, redis, a, b))
}

async fn capacity_is_exact_when_joins_race_on_both_nodes(db: Db) {
    let Some((database, _redis, a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (host, _) = api.login(&a, "host").await;
    let capacity = 12;
    let id = api.create_challenge(&a, &host, capacity).await;
    let mut racers = Vec::new();
    for i in 0..capacity * 3 {
        let node = if i % 2 == 0 { &a } else { &b };
        racers.push((node, api.login(node, &format!("racer{i}")).await.0));
    }
    let path = format!("/api/challenges/{id}/participants");
    let results = join_all(
        racers
            .iter()
            .map(|(node, token)| api.post(node, &path, Some(token), json!({}))),
    )
    .await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let full = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "CHALLENGE_FULL")
        .count();
    assert_eq!(won as i64, capacity - 1, "the creator holds one place");
    assert_eq!(won + full, results.len(), "{results:?}");
    for node in [&a, &b] {
        let (_, detail) = api.get(node, &format!("/api/challenges/{id}"), None).await;
        assert_eq!(detail["participantCount"], capacity);
    }
    drop((a, b));
    database.drop_now().await;
}

/// A host on node A and a guest on node B in one challenge's room.
async fn room_on_two_nodes(api: &Api, a: &Node, b: &Node) -> (i64, (String, i64), (String, i64)) {
    let host = api.login(a, "호스트").await;
    let guest = api.login(b, "게스트").await;
    let id = api.create_challenge(a, &host.0, 10).await;
    let (status, body) = api
        .post(
            b,
            &format!("/api/challenges/{id}/participants"),
            Some(&guest.0),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (id, host, guest)
}

async fn chat_and_presence_cross_nodes(db: Db) {
    let Some((database, _redis, a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    let mut on_a = support::connect_ws(&a.base, &host.0).await;
    let mut on_b = support::connect_ws(&b.base, &guest.0).await;
    on_a.join(room, None).await;
    let joined = on_b.join(room, None).await;
    let members: Vec<i64> = joined["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["userId"].as_i64().expect("user id"))
        .collect();
    assert!(
        members.contains(&host.1) && members.contains(&guest.1),
        "{joined}"
    );
    // The guest's arrival on B is announced on A.
    let presence = on_a.next_of("presence").await;
    assert_eq!(
        (
            presence["event"].as_str(),
            presence["user"]["userId"].as_i64()
        ),
        (Some("join"), Some(guest.1))
    );
    // Chat both ways; each side also sees its own message confirmed.
    on_a.send(json!({"type": "chat", "room": room, "body": "A에서 안녕", "clientId": "a1"}))
        .await;
    let seen_on_b = on_b.next_of("chat").await;
    assert_eq!(seen_on_b["message"]["body"], "A에서 안녕");
    assert_eq!(
        on_a.next_of("chat").await["message"]["id"],
        seen_on_b["message"]["id"]
    );
    on_b.send(json!({"type": "chat", "room": room, "body": "B에서 안녕", "clientId": "b1"}))
        .await;
    assert_eq!(on_a.next_of("chat").await["message"]["body"], "B에서 안녕");
    // Media state crosses nodes too (the microphone as the tab says; the camera as the media
    // server verifies it, so a claim alone shows off).
    on_b.send(json!({"type": "media", "room": room, "camera": true, "mic": true}))
        .await;
    let media = on_a.next_of("presence").await;
    assert_eq!(
        (
            media["event"].as_str(),
            media["user"]["mic"].as_bool(),
            media["user"]["camera"].as_bool()
        ),
        (Some("media"), Some(true), Some(false))
    );
    // Leaving on B is announced on A.
    on_b.send(json!({"type": "leave", "room": room})).await;
    let left = on_a.next_of("presence").await;
    assert_eq!(
        (left["event"].as_str(), left["user"]["userId"].as_i64()),
        (Some("leave"), Some(guest.1))
    );
    drop((on_a, on_b, a, b));
    database.drop_now().await;
}

async fn both_nodes_show_the_same_ranking(db: Db) {
    let Some(database) = Database::create(db, "ssgwan_c").await else {
        return;
    };
    // History with scores, written through the same domain code the server uses.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ssgwan"))
        .args([
            "seed",
            "--users",
            "60",
            "--challenges",
            "12",
            "--days",
            "10",
        ])
        .args(["--database-url", &database.url, "--log-format", "json"])
        .output()
        .expect("seed runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let redis = Redis::start();
    let a = Node::start(&database.url, &shared(&redis)).await;
    let b = Node::start(&database.url, &shared(&redis)).await;
    let api = Api::default();
    for period in ["all", "week", "month"] {
        let path = format!("/api/rankings?period={period}&limit=50");
        let mut from_a = api.get(&a, &path, None).await;
        // The boards are built from the ledger once, by whichever node finds Redis empty.
        for _ in 0..50 {
            if from_a.1["entries"]
                .as_array()
                .is_some_and(|i| !i.is_empty())
                || period != "all"
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            from_a = api.get(&a, &path, None).await;
        }
        let from_b = api.get(&b, &path, None).await;
        assert_eq!(from_a.0, StatusCode::OK);
        assert_eq!(from_a.1["entries"], from_b.1["entries"], "{period}");
        if period == "all" {
            assert!(
                from_a.1["entries"].as_array().is_some_and(|i| i.len() > 10),
                "{}",
                from_a.1
            );
        }
    }
    drop((a, b));
    database.drop_now().await;
}

async fn an_upload_on_one_node_is_served_by_the_other(db: Db) {
    let Some(s3) = S3::start().await else {
        return;
    };
    let Some(database) = Database::create(db, "ssgwan_c").await else {
        return;
    };
    let redis = Redis::start();
    let mut flags = shared(&redis);
    flags.extend(s3.flags.iter().cloned());
    let a = Node::start(&database.url, &flags).await;
    let b = Node::start(&database.url, &flags).await;
    let api = Api::default();
    let (token, _) = api.login(&a, "uploader").await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(harness::png())
            .file_name("me.png")
            .mime_str("image/png")
            .expect("mime"),
    );
    let response = api
        .client
        .post(a.url("/api/uploads"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.expect("json");
    let served = api
        .client
        .get(b.url(body["url"].as_str().expect("url")))
        .send()
        .await
        .expect("get");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    let bytes = served.bytes().await.expect("bytes");
    assert!(image::load_from_memory(&bytes).is_ok());
    drop((a, b));
    database.drop_now().await;
}

async fn a_killed_nodes_users_reconnect_elsewhere_and_lose_nothing(db: Db) {
    let Some((database, _redis, a, mut b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    let mut on_a = support::connect_ws(&a.base, &host.0).await;
    let mut on_b = support::connect_ws(&b.base, &guest.0).await;
    on_a.join(room, None).await;
    on_b.join(room, None).await;
    on_a.next_of("presence").await;
    // The guest's message is acknowledged by B (confirmed back), then B dies.
    on_b.send(json!({"type": "chat", "room": room, "body": "마지막 말", "clientId": "last"}))
        .await;
    let acked = on_b.next_of("chat").await;
    let last_seen = acked["message"]["id"].as_i64().expect("id");
    on_a.next_of("chat").await;
    b.kill();
    // A notices the dead node (TTL 3 s) and tells the room the guest left.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let left = loop {
        assert!(std::time::Instant::now() < deadline, "no leave within 15 s");
        if let Some(frame) = on_a.try_next(Duration::from_secs(1)).await
            && frame["type"] == "presence"
        {
            break frame;
        }
    };
    assert_eq!(
        (left["event"].as_str(), left["user"]["userId"].as_i64()),
        (Some("leave"), Some(guest.1))
    );
    // Meanwhile the host keeps talking.
    for i in 0..3 {
        on_a.send(json!({"type": "chat", "room": room, "body": format!("놓친 {i}"), "clientId": format!("m{i}")})).await;
        on_a.next_of("chat").await;
    }
    // The guest reconnects to A with what it had seen and gets exactly what it missed.
    let mut again = support::connect_ws(&a.base, &guest.0).await;
    let joined = again.join(room, Some(last_seen)).await;
    let missed: Vec<&str> = joined["missed"]
        .as_array()
        .expect("missed")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(missed, ["놓친 0", "놓친 1", "놓친 2"]);
    // And everything acknowledged before the crash is in the history.
    let (_, history) = api
        .get(
            &a,
            &format!("/api/challenges/{room}/messages?limit=50"),
            Some(&guest.0),
        )
        .await;
    let bodies: Vec<&str> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert!(bodies.contains(&"마지막 말"), "{history}");
    drop((on_a, again, a, b));
    database.drop_now().await;
}

async fn a_redis_outage_degrades_live_features_and_heals_by_itself(db: Db) {
    let Some((database, mut redis, a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    let mut on_a = support::connect_ws(&a.base, &host.0).await;
    on_a.join(room, None).await;

    redis.stop();
    // HTTP keeps serving from the database.
    let (status, detail) = api.get(&a, &format!("/api/challenges/{room}"), None).await;
    assert_eq!(
        (status, detail["id"].as_i64()),
        (StatusCode::OK, Some(room))
    );
    // Not ready, and says why.
    let (status, health) = api.get(&b, "/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health["redis"], "unavailable");
    assert_eq!(health["database"], "ok");
    // The ranking lives in Redis: a clear 503 once the cached page (at most a second old) is
    // gone, so within 1.2 s from now.
    let cache_gone_by = std::time::Instant::now() + Duration::from_millis(1_200);
    let body = loop {
        let (status, body) = api.get(&a, "/api/rankings", None).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break body;
        }
        assert!(
            std::time::Instant::now() < cache_gone_by,
            "still {status} after 1.2 s: {body}"
        );
        // Pacing: the cached page expires on a real-time tick, with nothing to wait for.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
    // A live operation answers a clear error quickly instead of hanging.
    let mut on_b = support::connect_ws(&b.base, &guest.0).await;
    let started = std::time::Instant::now();
    on_b.send(json!({"type": "join", "room": room})).await;
    let error = on_b.next_of("error").await;
    assert_eq!(error["code"], "SERVICE_UNAVAILABLE", "{error}");
    assert!(started.elapsed() < Duration::from_secs(4));
    on_b.assert_alive().await;

    redis.restart();
    // Ready again by itself, and the live features work across nodes again.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for node in [&a, &b] {
        loop {
            if api.get(node, "/readyz", None).await.0 == StatusCode::OK {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not ready again within 30 s"
            );
            // Pacing: readiness comes back when the Redis client reconnects, unannounced.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        on_b.send(json!({"type": "join", "room": room})).await;
        let frame = loop {
            let frame = on_b.next().await;
            if frame["type"] == "joined" || frame["type"] == "error" {
                break frame;
            }
        };
        if frame["type"] == "joined" && frame["members"].as_array().is_some_and(|m| m.len() == 2) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "room not healed: {frame}"
        );
        // Pacing: the room heals when the node re-announces its members, unannounced.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The ranking answers again (rebuilt from the ledger if Redis came back empty).
    let (status, _) = api.get(&b, "/api/rankings", None).await;
    assert_eq!(status, StatusCode::OK);
    on_b.send(json!({"type": "chat", "room": room, "body": "돌아왔다", "clientId": "back"}))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame = on_a.next().await;
        if frame["type"] == "chat" && frame["message"]["body"] == "돌아왔다" {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
    }
    drop((on_a, on_b, a, b));
    database.drop_now().await;
}

async fn on_camera_on_two_nodes_counts_once(db: Db) {
    // A session window around now, in Seoul (skipped in the half hour before midnight there).
    let seoul = jiff::tz::TimeZone::get("Asia/Seoul").expect("tz");
    let local = jiff::Timestamp::now().to_zoned_datetime(seoul);
    let start = i32::from(local.hour()) * 60 + i32::from(local.minute());
    let end = start + 30;
    if end >= 24 * 60 {
        eprintln!("too close to midnight in Seoul for a session window now; skipped");
        return;
    }
    let Some((database, redis, mut a, mut b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (token, _) = api.login(&a, "두탭").await;
    let (status, body) = api
        .post(
            &a,
            "/api/challenges",
            Some(&token),
            json!({
                "title": "지금 세션",
                "category": "STUDY",
                "capacity": 5,
                "startDate": local.date().to_string(),
                "endDate": local.date().to_string(),
                "sessionStart": format!("{:02}:{:02}", start / 60, start % 60),
                "sessionEnd": format!("{:02}:{:02}", end / 60, end % 60),
                "minMinutes": 10,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let room = body["id"].as_i64().expect("id");
    // One tab on each node, both on camera.
    // Both sessions are on the media server of the node that opened the room first (A); the
    // verdicts of the tab on B travel back to B, whose attendance counts them.
    let mut tab_a = support::connect_ws(&a.base, &token).await;
    let mut tab_b = support::connect_ws(&b.base, &token).await;
    tab_a.join(room, None).await;
    let video_a = tab_a.go_on_camera(room).await;
    // Counting from here (on A; B's tab adds nothing while A's counts).
    let on_camera = std::time::Instant::now();
    tab_b.join(room, None).await;
    let video_b = tab_b.go_on_camera(room).await;
    // On camera until the server has written at least 5 s (every 5 s of real time; on two
    // nodes counting both it would get there in half the time, and the total below would be
    // twice the time on camera).
    on_camera_written(&mut tab_a, &mut tab_b, 5).await;
    for tab in [&mut tab_a, &mut tab_b] {
        tab.send(json!({"type": "leave", "room": room})).await;
        // The session handled the leave: the node's attendance actor has been told.
        tab.assert_alive().await;
    }
    let elapsed = on_camera.elapsed().as_secs_f64();
    // Stopping a node (SIGTERM) returns once its actor has written all it counted; a third
    // node reads what was recorded.
    a.stop();
    b.stop();
    let c = Node::start(&database.url, &shared(&redis)).await;
    // What was recorded: the time on camera once, not once per node.
    let mut check = support::connect_ws(&c.base, &token).await;
    check.join(room, None).await;
    let attendance = check.next_of("attendance").await;
    let seconds = attendance["seconds"].as_f64().expect("seconds");
    assert!(
        seconds >= elapsed - 3.0 && seconds <= elapsed + 1.0,
        "{seconds} s recorded for {elapsed:.1} s on camera in two tabs on two nodes"
    );
    drop((tab_a, tab_b, video_a, video_b, check, a, b, c));
    database.drop_now().await;
}

/// A challenge body with a 30-minute session window starting now in Seoul (`None` in the half
/// hour before midnight there).
fn session_now(title: &str) -> Option<serde_json::Value> {
    let seoul = jiff::tz::TimeZone::get("Asia/Seoul").expect("tz");
    let local = jiff::Timestamp::now().to_zoned_datetime(seoul);
    let start = i32::from(local.hour()) * 60 + i32::from(local.minute());
    let end = start + 30;
    (end < 24 * 60).then(|| {
        json!({
            "title": title,
            "category": "STUDY",
            "capacity": 5,
            "startDate": local.date().to_string(),
            "endDate": local.date().to_string(),
            "sessionStart": format!("{:02}:{:02}", start / 60, start % 60),
            "sessionEnd": format!("{:02}:{:02}", end / 60, end % 60),
            "minMinutes": 10,
        })
    })
}

async fn two_rooms_on_two_nodes_count_in_one(db: Db) {
    let (Some(first), Some(second)) = (session_now("첫 방"), session_now("둘째 방")) else {
        eprintln!("too close to midnight in Seoul for a session window now; skipped");
        return;
    };
    let Some((database, redis, mut a, mut b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (token, _) = api.login(&a, "두방").await;
    let mut rooms = Vec::new();
    for body in [first, second] {
        let (status, created) = api.post(&a, "/api/challenges", Some(&token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        rooms.push(created["id"].as_i64().expect("id"));
    }
    // The first room on camera on node A, then the second on node B.
    let mut tab_a = support::connect_ws(&a.base, &token).await;
    tab_a.join(rooms[0], None).await;
    let video_a = tab_a.go_on_camera(rooms[0]).await;
    let mut tab_b = support::connect_ws(&b.base, &token).await;
    tab_b.join(rooms[1], None).await;
    let video_b = tab_b.go_on_camera(rooms[1]).await;
    let elsewhere = tab_b.next_of("attendanceElsewhere").await;
    assert_eq!(
        (
            elsewhere["room"].as_i64(),
            elsewhere["countingRoom"].as_i64()
        ),
        (Some(rooms[1]), Some(rooms[0]))
    );
    on_camera_written(&mut tab_a, &mut tab_b, 5).await;
    for (tab, room) in [(&mut tab_a, rooms[0]), (&mut tab_b, rooms[1])] {
        tab.send(json!({"type": "leave", "room": room})).await;
        tab.assert_alive().await;
    }
    a.stop();
    b.stop();
    let c = Node::start(&database.url, &shared(&redis)).await;
    let mut check = support::connect_ws(&c.base, &token).await;
    let mut recorded = Vec::new();
    for room in &rooms {
        check.join(*room, None).await;
        recorded.push(check.next_of("attendance").await["seconds"].as_i64());
    }
    assert!(recorded[0] >= Some(5), "{recorded:?}");
    assert_eq!(recorded[1], Some(0), "the second room counted nothing");
    drop((tab_a, tab_b, video_a, video_b, check, a, b, c));
    database.drop_now().await;
}

/// Waits until an attendance frame on either tab reports at least `seconds` written.
async fn on_camera_written(tab_a: &mut support::Ws, tab_b: &mut support::Ws, seconds: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        for tab in [&mut *tab_a, &mut *tab_b] {
            if let Some(frame) = tab.try_next(Duration::from_millis(100)).await
                && frame["type"] == "attendance"
                && frame["seconds"].as_i64() >= Some(seconds)
            {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing written reaching {seconds} s within 30 s"
        );
    }
}

async fn the_chat_limit_is_one_limit_across_nodes(db: Db) {
    let Some(database) = Database::create(db, "ssgwan_c").await else {
        return;
    };
    let redis = Redis::start();
    let mut flags = shared(&redis);
    flags.extend(["--chat-messages-per-10s".to_owned(), "6".to_owned()]);
    let a = Node::start(&database.url, &flags).await;
    let b = Node::start(&database.url, &flags).await;
    let api = Api::default();
    let (token, _) = api.login(&a, "수다쟁이").await;
    let room = api.create_challenge(&a, &token, 5).await;
    let mut tab_a = support::connect_ws(&a.base, &token).await;
    let mut tab_b = support::connect_ws(&b.base, &token).await;
    tab_a.join(room, None).await;
    tab_b.join(room, None).await;
    // Four from each node: six pass, two are refused, wherever they were sent.
    let mut refused = 0;
    for i in 0..4 {
        for (name, tab) in [("a", &mut tab_a), ("b", &mut tab_b)] {
            tab.send(json!({"type": "chat", "room": room, "body": "안녕", "clientId": format!("{name}{i}")}))
                .await;
            loop {
                let frame = tab.next().await;
                if frame["type"] == "error" {
                    assert_eq!(frame["code"], "RATE_LIMITED", "{frame}");
                    refused += 1;
                    break;
                }
                if frame["type"] == "chat" && frame["clientId"] == format!("{name}{i}") {
                    break;
                }
            }
        }
    }
    assert_eq!(
        refused, 2,
        "one limit of 6 per 10 s for the user across both nodes"
    );
    drop((tab_a, tab_b, a, b));
    database.drop_now().await;
}

/// The next `left` frame within a second.
async fn left_within_a_second(ws: &mut support::Ws) -> serde_json::Value {
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

async fn cancel_logout_and_deletion_on_one_node_reach_sockets_on_the_other_within_a_second(db: Db) {
    let Some((database, _redis, a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    let mut host_on_a = support::connect_ws(&a.base, &host.0).await;
    host_on_a.join(room, None).await;
    let mut guest_on_b = support::connect_ws(&b.base, &guest.0).await;
    guest_on_b.join(room, None).await;
    assert_eq!(host_on_a.next_of("presence").await["event"], "join");

    // The guest cancels through node A; their socket on B is out within a second.
    let (status, body) = api
        .send(
            reqwest::Method::DELETE,
            a.url(&format!("/api/challenges/{room}/participants/me")),
            Some(&guest.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = left_within_a_second(&mut guest_on_b).await;
    assert_eq!(
        (left["room"].as_i64(), left["reason"].as_str()),
        (Some(room), Some("cancelled"))
    );
    assert_eq!(host_on_a.next_of("presence").await["event"], "leave");
    guest_on_b
        .send(json!({"type": "chat", "room": room, "body": "늦었나요", "clientId": "g1"}))
        .await;
    assert_eq!(guest_on_b.next_of("error").await["code"], "NOT_IN_ROOM");

    // A second challenge, which the host deletes through A while the guest is in it on B.
    let second = api.create_challenge(&a, &host.0, 10).await;
    let (status, body) = api
        .post(
            &b,
            &format!("/api/challenges/{second}/participants"),
            Some(&guest.0),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    guest_on_b.join(second, None).await;
    let (status, body) = api
        .send(
            reqwest::Method::DELETE,
            a.url(&format!("/api/challenges/{second}")),
            Some(&host.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = left_within_a_second(&mut guest_on_b).await;
    assert_eq!(
        (left["room"].as_i64(), left["reason"].as_str()),
        (Some(second), Some("deleted"))
    );

    // Signing the guest's session out through A closes its socket on B with 4401.
    let (status, _) = api
        .post(&a, "/api/auth/logout", Some(&guest.0), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        guest_on_b.close_code(Duration::from_secs(1)).await,
        Some(4401)
    );
    host_on_a.assert_alive().await;
    database.drop_now().await;
}

/// Issue 18 across nodes: a removal through A takes the member's socket on B out of the room
/// within a second; a block keeps the blocked user's chat on B from the blocker's socket on A;
/// a suspension decided through A closes the user's sockets on both nodes within a second.
async fn removal_suspension_and_blocks_reach_sockets_on_both_nodes(db: Db) {
    let Some((database, _redis, a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    let troll = api.login(&b, "트롤").await;
    let join = format!("/api/challenges/{room}/participants");
    assert_eq!(
        api.post(&a, &join, Some(&troll.0), json!({})).await.0,
        StatusCode::CREATED
    );
    let mut host_on_a = support::connect_ws(&a.base, &host.0).await;
    host_on_a.join(room, None).await;
    let mut guest_on_b = support::connect_ws(&b.base, &guest.0).await;
    guest_on_b.join(room, None).await;
    let mut troll_on_a = support::connect_ws(&a.base, &troll.0).await;
    troll_on_a.join(room, None).await;
    let mut troll_on_b = support::connect_ws(&b.base, &troll.0).await;
    troll_on_b.join(room, None).await;

    // The host blocks the troll (through B): the troll's chat on B never reaches the host's
    // socket on A; the guest (on B) still gets it.
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            b.url(&format!("/api/me/blocks/{}", troll.1)),
            Some(&host.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    troll_on_b
        .send(json!({"type": "chat", "room": room, "body": "차단된 말", "clientId": "t1"}))
        .await;
    assert_eq!(
        guest_on_b.next_of("chat").await["message"]["body"],
        "차단된 말"
    );
    guest_on_b
        .send(json!({"type": "chat", "room": room, "body": "보이는 말", "clientId": "g1"}))
        .await;
    assert_eq!(
        host_on_a.next_of("chat").await["message"]["body"],
        "보이는 말"
    );
    host_on_a
        .expect_none_of("chat", Duration::from_millis(300))
        .await;

    // Suspension decided through A: the troll's sockets close on both nodes within a second.
    let op = api.login(&a, "운영자").await;
    let output = child::ssgwan()
        .args([
            "admin",
            "grant",
            &op.1.to_string(),
            "--database-url",
            &database.url,
        ])
        .output()
        .expect("ran");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, report) = api
        .post(
            &b,
            "/api/reports",
            Some(&guest.0),
            json!({"targetType": "user", "targetId": troll.1, "reason": "harassment"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let decision = format!("/api/admin/reports/{}/decision", report["id"]);
    let started = std::time::Instant::now();
    let (status, body) = api
        .post(
            &a,
            &decision,
            Some(&op.0),
            json!({"action": "suspend", "reason": "괴롭힘"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        troll_on_a.close_code(Duration::from_secs(1)).await,
        Some(4401)
    );
    assert_eq!(
        troll_on_b.close_code(Duration::from_secs(1)).await,
        Some(4401)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let (status, body) = api
        .post(&b, "/api/auth/dev-login", None, json!({"nickname": "트롤"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("ACCOUNT_SUSPENDED")),
        "{body}"
    );

    // The host removes the guest through A: their socket on B leaves within a second.
    let (status, body) = api
        .send(
            reqwest::Method::DELETE,
            a.url(&format!("/api/challenges/{room}/participants/{}", guest.1)),
            Some(&host.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = left_within_a_second(&mut guest_on_b).await;
    assert_eq!(
        (left["room"].as_i64(), left["reason"].as_str()),
        (Some(room), Some("removed"))
    );
    host_on_a.assert_alive().await;
    database.drop_now().await;
}

/// One line of `node`'s `/metrics` for `name` (without labels).
async fn metric(node: &Node, name: &str) -> Option<f64> {
    let text = reqwest::get(node.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    support::metric_value(&text, name)
}

/// The `rtcClosed` frame for `room` (within `within`); other frames read meanwhile are dropped.
async fn rtc_closed(ws: &mut support::Ws, room: i64, within: Duration) -> serde_json::Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let frame = ws
            .try_next(left)
            .await
            .unwrap_or_else(|| panic!("no rtcClosed for room {room} within {within:?}"));
        if frame["type"] == "rtcClosed" && frame["room"] == room {
            return frame;
        }
    }
}

async fn a_rooms_media_lives_on_one_node_and_reaches_tabs_on_both(db: Db) {
    let Some((database, _redis, a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    // The host's tab on A opens the room's media first: A's media server holds the room.
    let mut on_a = support::connect_ws(&a.base, &host.0).await;
    on_a.join(room, None).await;
    let host_video = on_a.go_on_camera(room).await;
    // The guest's tab on B gets its session from A (B's offer, answer and verdict travel
    // between the nodes; the video goes straight to A), and is verified there.
    let mut on_b = support::connect_ws(&b.base, &guest.0).await;
    on_b.join(room, None).await;
    let guest_video = on_b.go_on_camera(room).await;
    // Each sees the other through the one media server.
    on_b.sees_video_of(room, &guest_video, host.1).await;
    on_a.sees_video_of(room, &host_video, guest.1).await;
    assert_eq!(
        metric(&b, "ssgwan_media_sessions_routed_total").await,
        Some(1.0),
        "B routed its tab's session to A"
    );
    assert_eq!(
        metric(&a, "ssgwan_media_sessions_routed_total").await,
        None,
        "A served its own tab"
    );
    // The host stops the guest's video through node B: A's media server, which holds the
    // room, stops forwarding it.
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            b.url(&format!(
                "/api/challenges/{room}/participants/{}/media",
                guest.1
            )),
            Some(&host.0),
            Some(json!({"videoStopped": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // (The guest is the only one whose video the host receives.)
    on_a.receives_nothing_more(room, &host_video, "the guest's video to the host")
        .await;
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            b.url(&format!(
                "/api/challenges/{room}/participants/{}/media",
                guest.1
            )),
            Some(&host.0),
            Some(json!({"videoStopped": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    on_a.sees_video_of(room, &host_video, guest.1).await;
    // Leaving on B ends the session on A: the host stops receiving the guest.
    on_b.send(json!({"type": "leave", "room": room})).await;
    on_b.assert_alive().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = host_video.received_video_from(guest.1).frames;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        host_video.received_video_from(guest.1).frames,
        before,
        "the guest's video still reaches the host after the guest left"
    );
    drop((on_a, on_b, host_video, guest_video, a, b));
    database.drop_now().await;
}

async fn when_the_media_owner_dies_the_tabs_start_again_on_another_node(db: Db) {
    let Some((database, _redis, mut a, b)) = two_nodes(db).await else {
        return;
    };
    let api = Api::default();
    let (room, host, guest) = room_on_two_nodes(&api, &a, &b).await;
    let mut on_a = support::connect_ws(&a.base, &host.0).await;
    on_a.join(room, None).await;
    let host_video = on_a.go_on_camera(room).await;
    let mut on_b = support::connect_ws(&b.base, &guest.0).await;
    on_b.join(room, None).await;
    let guest_video = on_b.go_on_camera(room).await;
    on_b.sees_video_of(room, &guest_video, host.1).await;
    // The room's media server dies without a word: within the lease's lifetime and a watch
    // pass, the guest's tab on B is told its session moved.
    let killed = std::time::Instant::now();
    a.kill();
    drop((on_a, host_video, guest_video));
    let closed = rtc_closed(&mut on_b, room, Duration::from_secs(10)).await;
    assert_eq!(closed["reason"], "moved", "{closed}");
    eprintln!(
        "rtcClosed moved {:?} after the owner was killed",
        killed.elapsed()
    );
    // Starting again, B's own media server takes the room: the guest is verified on camera
    // again, and the host (reconnected to B, as the web app does) and the guest see each other.
    let guest_video = on_b.go_on_camera(room).await;
    let mut host_on_b = support::connect_ws(&b.base, &host.0).await;
    host_on_b.join(room, None).await;
    let host_video = host_on_b.go_on_camera(room).await;
    host_on_b.sees_video_of(room, &host_video, guest.1).await;
    on_b.sees_video_of(room, &guest_video, host.1).await;
    drop((on_b, host_on_b, host_video, guest_video, a, b));
    database.drop_now().await;
}
