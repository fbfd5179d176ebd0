//! Chat delivery latency across nodes beside within one node: two `ssgwan serve` nodes on one
//! PostgreSQL (`SSGWAN_TEST_POSTGRES_URL`, an administrator URL; a fresh database is created)
//! and one Redis (a throwaway `redis-server`). A sender on node A posts messages one at a time;
//! a member on A and a member on B each time note when the message reaches them.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::SinkExt;
use reqwest::Client;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    ms, percentile,
    server::{Socket, challenge_body, connect, login, start_server},
};

/// How long a frame may take to come.
const PATIENCE: Duration = Duration::from_secs(10);

async fn until(socket: &mut Socket, kind: &str) -> anyhow::Result<Value> {
    crate::server::until(socket, kind, PATIENCE).await
}

async fn join(socket: &mut Socket, room: i64) -> anyhow::Result<()> {
    socket
        .send(Message::Text(
            json!({"type": "join", "room": room}).to_string().into(),
        ))
        .await?;
    until(socket, "joined").await?;
    Ok(())
}

pub async fn run(binary: &std::path::PathBuf, messages: usize) -> anyhow::Result<()> {
    let Ok(admin) = std::env::var("SSGWAN_TEST_POSTGRES_URL") else {
        println!("cluster chat latency skipped: set SSGWAN_TEST_POSTGRES_URL");
        return Ok(());
    };
    sqlx::any::install_default_drivers();
    let name = format!("ssgwan_bench_cluster_{}", std::process::id());
    let mut conn = sqlx::AnyConnection::connect(&admin).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let (server_url, _) = admin.rsplit_once('/').context("URL with a path")?;
    let database = format!("{server_url}/{name}");
    let (redis_url, _redis) = crate::boards::start_redis()?;
    let flags = [
        "--database-url",
        &database,
        "--redis-url",
        &redis_url,
        "--chat-messages-per-10s",
        "0",
    ];
    let a = start_server(binary, &flags).await?;
    let b = start_server(binary, &flags).await?;
    let client = Client::new();
    let sender = login(&client, &a.base, "sender").await?;
    let near = login(&client, &a.base, "near").await?;
    let far = login(&client, &b.base, "far").await?;
    let room = client
        .post(format!("{}/api/challenges", a.base))
        .bearer_auth(&sender)
        .json(&challenge_body(0, 10))
        .send()
        .await?
        .json::<Value>()
        .await?["id"]
        .as_i64()
        .context("challenge id")?;
    for (base, token) in [(&a.base, &near), (&b.base, &far)] {
        let status = client
            .post(format!("{base}/api/challenges/{room}/participants"))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "join: {status}");
    }
    let mut sending = connect(&a.base, &sender).await?;
    let mut on_a = connect(&a.base, &near).await?;
    let mut on_b = connect(&b.base, &far).await?;
    for socket in [&mut sending, &mut on_a, &mut on_b] {
        join(socket, room).await?;
    }
    let mut same_node = Vec::with_capacity(messages);
    let mut other_node = Vec::with_capacity(messages);
    for i in 0..messages {
        let started = Instant::now();
        sending
            .send(Message::Text(
                json!({"type": "chat", "room": room, "body": format!("m{i}"), "clientId": format!("c{i}")})
                    .to_string()
                    .into(),
            ))
            .await?;
        let (near_frame, far_frame) = tokio::join!(
            async {
                let frame = until(&mut on_a, "chat").await;
                (frame, started.elapsed())
            },
            async {
                let frame = until(&mut on_b, "chat").await;
                (frame, started.elapsed())
            }
        );
        near_frame.0?;
        far_frame.0?;
        same_node.push(near_frame.1);
        other_node.push(far_frame.1);
        until(&mut sending, "chat").await?;
    }
    same_node.sort();
    other_node.sort();
    println!(
        "chat delivery, {messages} messages one at a time (stored in PostgreSQL, then delivered):"
    );
    for (label, sorted) in [("same node ", &same_node), ("other node", &other_node)] {
        println!(
            "  {label}: p50 {:.2} ms, p99 {:.2} ms",
            ms(percentile(sorted, 0.5)),
            ms(percentile(sorted, 0.99))
        );
    }
    drop((sending, on_a, on_b, a, b));
    conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await?;
    Ok(())
}
