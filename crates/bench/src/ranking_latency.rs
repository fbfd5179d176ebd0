//! The time from an achieved session to the ranking moving, as the participants see it: the
//! attendance frame that says "achieved", then the ranking frame that follows.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use reqwest::Client;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    ms, percentile,
    server::{connect, go_on_camera, login, session_happening_now},
};

/// `participants` users on camera in a session with a 1-minute minimum: for each, the time
/// between the attendance frame that says "achieved" and the ranking frame that follows.
pub async fn event_to_visible(
    base: &str,
    client: &Client,
    participants: usize,
) -> anyhow::Result<Vec<Duration>> {
    let Some((date, start, end)) = session_happening_now() else {
        println!("event-to-visible: skipped (too close to midnight in Seoul)");
        return Ok(Vec::new());
    };
    let host = login(client, base, "e2v-host").await?;
    let body = json!({ "title": "event to visible", "category": "ETC", "capacity": 50, "startDate": date, "endDate": date, "sessionStart": start, "sessionEnd": end, "minMinutes": 1 });
    let room: Value = client
        .post(format!("{base}/api/challenges"))
        .bearer_auth(&host)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let room = room["id"]
        .as_i64()
        .with_context(|| format!("room: {room}"))?;
    let mut tokens = vec![host];
    for i in 1..participants {
        let token = login(client, base, &format!("e2v{i}")).await?;
        client
            .post(format!("{base}/api/challenges/{room}/participants"))
            .bearer_auth(&token)
            .send()
            .await?;
        tokens.push(token);
    }
    let mut tasks = Vec::new();
    for token in tokens {
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut socket = connect(&base, &token).await?;
            socket
                .send(Message::Text(
                    json!({ "type": "join", "room": room }).to_string().into(),
                ))
                .await?;
            // On camera: real (synthetic) video the media server verifies; a `media` frame
            // alone counts for nothing.
            let _video = go_on_camera(&mut socket, room).await?;
            let mut achieved_at: Option<Instant> = None;
            while let Ok(Some(Ok(message))) =
                tokio::time::timeout(Duration::from_secs(120), socket.next()).await
            {
                let Message::Text(text) = message else {
                    continue;
                };
                let frame: Value = serde_json::from_str(&text)?;
                if frame["type"] == "attendance"
                    && frame["achieved"] == true
                    && achieved_at.is_none()
                {
                    achieved_at = Some(Instant::now());
                }
                if frame["type"] == "ranking" {
                    return Ok::<_, anyhow::Error>(achieved_at.map(|a| a.elapsed()));
                }
            }
            Ok(None)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        if let Some(latency) = task.await?? {
            latencies.push(latency);
        }
    }
    latencies.sort_unstable();
    Ok(latencies)
}

pub fn report_event_to_visible(latencies: &[Duration]) {
    if latencies.is_empty() {
        return;
    }
    println!(
        "event to visible (achieved attendance frame → ranking frame, {} users): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        ms(percentile(latencies, 0.5)),
        ms(percentile(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
}
