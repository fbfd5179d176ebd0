//! Joins and search (`--scenario joins`), on the same database in the same run:
//! - joins/s with many users racing for one challenge, and spread over many challenges, over
//!   HTTP and through the store directly;
//! - plain single-row INSERT throughput on that database file, as the floor to compare with;
//! - latency percentiles of `GET /api/challenges?q=` over many challenges.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::{StreamExt, stream};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{
    Args, ms, percentile,
    server::{WORDS, challenge_body, login, start_date, start_server},
};

async fn create_challenges(
    client: &Client,
    base: &str,
    token: &str,
    count: usize,
    capacity: i64,
    concurrency: usize,
) -> anyhow::Result<Vec<i64>> {
    let ids: Vec<anyhow::Result<i64>> = stream::iter(0..count)
        .map(|i| async move {
            let r: Value = client
                .post(format!("{base}/api/challenges"))
                .bearer_auth(token)
                .json(&challenge_body(i, capacity))
                .send()
                .await?
                .json()
                .await?;
            r["id"]
                .as_i64()
                .with_context(|| format!("create failed: {r}"))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    ids.into_iter().collect()
}

pub(crate) struct JoinFigures {
    pub(crate) requests: usize,
    pub(crate) won: usize,
    pub(crate) elapsed: Duration,
}

impl JoinFigures {
    /// Requests a second.
    pub(crate) fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Sends every (token, challenge) join at once (bounded by `concurrency`).
async fn race(
    client: &Client,
    base: &str,
    jobs: Vec<(Arc<str>, i64)>,
    concurrency: usize,
) -> JoinFigures {
    let started = Instant::now();
    let requests = jobs.len();
    let statuses: Vec<Option<StatusCode>> = stream::iter(jobs)
        .map(|(token, id)| async move {
            client
                .post(format!("{base}/api/challenges/{id}/participants"))
                .bearer_auth(&*token)
                .send()
                .await
                .ok()
                .map(|r| r.status())
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    JoinFigures {
        requests,
        won: statuses
            .iter()
            .filter(|s| **s == Some(StatusCode::CREATED))
            .count(),
        elapsed: started.elapsed(),
    }
}

/// Single-row INSERTs, each its own transaction, through a pool like the server's.
async fn insert_floor(
    db: &PathBuf,
    rows: usize,
    concurrency: usize,
    connections: u32,
) -> anyhow::Result<f64> {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(15));
    let pool = SqlitePoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_inserts (id INTEGER PRIMARY KEY, challenge_id BIGINT NOT NULL, user_id BIGINT NOT NULL, joined_at BIGINT NOT NULL)").execute(&pool).await?;
    let started = Instant::now();
    let results: Vec<Result<_, sqlx::Error>> = stream::iter(0..rows)
        .map(|i| {
            let pool = pool.clone();
            async move {
                sqlx::query(
                    "INSERT INTO bench_inserts (challenge_id, user_id, joined_at) VALUES (?, ?, ?)",
                )
                .bind(i as i64 % 100)
                .bind(i as i64)
                .bind(i as i64)
                .execute(&pool)
                .await
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        return Err(e.into());
    }
    sqlx::query("DROP TABLE bench_inserts")
        .execute(&pool)
        .await?;
    Ok(rows as f64 / elapsed.as_secs_f64())
}

/// The same two races through the store directly, on the server's database: what a join costs
/// the database, without HTTP and session look-ups, comparable with the INSERT floor.
async fn store_races(
    db: &std::path::Path,
    host_id: i64,
    user_ids: &[i64],
    concurrency: usize,
) -> anyhow::Result<(JoinFigures, JoinFigures)> {
    let url = format!("sqlite://{}", db.display());
    let store = Arc::new(ssgwan_store::SqlStore::connect(&url, 16).await?);
    race_store(
        &store,
        host_id,
        user_ids,
        concurrency,
        &start_date(),
        "store race",
    )
    .await
}

/// The two races through `store` directly: 101 challenges by `host_id` (50 places, one
/// session on `start`, titled `title` and a number), every user joining the first, then every
/// user joining five of the other hundred.
pub(crate) async fn race_store(
    store: &Arc<ssgwan_store::SqlStore>,
    host_id: i64,
    user_ids: &[i64],
    concurrency: usize,
    start: &str,
    title: &str,
) -> anyhow::Result<(JoinFigures, JoinFigures)> {
    use ssgwan_store::prelude::*;
    let now = jiff::Timestamp::now();
    let spec = |i: usize| {
        ssgwan_domain::ChallengeDraft {
            title: Some(format!("{title} {i}")),
            category: Some("STUDY".into()),
            capacity: Some(50),
            start_date: Some(start.to_owned()),
            end_date: Some(start.to_owned()),
            session_start: Some("06:00".into()),
            session_end: Some("07:00".into()),
            min_minutes: Some(30),
            ..Default::default()
        }
        .validate(now)
    };
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let mut ids = Vec::new();
    for i in 0..101 {
        ids.push(
            store
                .create_challenge(
                    host_id,
                    &spec(i)?,
                    today,
                    now,
                    ssgwan_store::CreationLimit::NONE,
                )
                .await?,
        );
    }
    let run = |jobs: Vec<(i64, i64)>| {
        let store = store.clone();
        async move {
            let started = Instant::now();
            let requests = jobs.len();
            let won = stream::iter(jobs)
                .map(|(user, challenge)| {
                    let store = store.clone();
                    async move { store.join_challenge(challenge, user, now).await.is_ok() }
                })
                .buffer_unordered(concurrency)
                .filter(|ok| futures::future::ready(*ok))
                .count()
                .await;
            JoinFigures {
                requests,
                won,
                elapsed: started.elapsed(),
            }
        }
    };
    let contested = run(user_ids.iter().map(|u| (*u, ids[0])).collect()).await;
    let spread_ids = &ids[1..];
    let spread = run(user_ids
        .iter()
        .enumerate()
        .flat_map(|(n, u)| (0..5).map(move |k| (*u, spread_ids[(n * 5 + k) % spread_ids.len()])))
        .collect())
    .await;
    Ok((contested, spread))
}

/// Prints the join and search figures.
pub async fn run(args: &Args) -> anyhow::Result<()> {
    let server = start_server(&args.server, &[]).await?;
    let base = server.base.clone();
    let client = Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    println!(
        "ssgwan-bench: server {} on SQLite, {} users, concurrency {}",
        args.server.display(),
        args.users,
        args.concurrency
    );

    let host = login(&client, &base, "bench-host").await?;
    let mut tokens: Vec<Arc<str>> = Vec::with_capacity(args.users);
    for i in 0..args.users {
        tokens.push(login(&client, &base, &format!("racer{i}")).await?.into());
    }

    // 1. Everyone races for one 50-place challenge (repeated to smooth the figure).
    let mut contested = Vec::new();
    for _ in 0..3 {
        let id = create_challenges(&client, &base, &host, 1, 50, 1).await?[0];
        let jobs = tokens.iter().map(|t| (t.clone(), id)).collect();
        contested.push(race(&client, &base, jobs, args.concurrency).await);
    }
    // 2. The same users spread over 100 challenges at once: each joins 5.
    let ids = create_challenges(&client, &base, &host, 100, 50, args.concurrency).await?;
    let ids = &ids;
    let jobs = tokens
        .iter()
        .enumerate()
        .flat_map(|(u, t)| (0..5).map(move |k| (t.clone(), ids[(u * 5 + k) % ids.len()])))
        .collect();
    let spread = race(&client, &base, jobs, args.concurrency).await;
    // 3. The floor: plain single-row INSERTs on the same database file.
    // Measured both through one connection (SQLite's single writer, no lock contention) and
    // through 16 contending connections; the better of the two is the floor.
    let floor_single = insert_floor(&server.db, 20_000, args.concurrency, 1).await?;
    let floor_pooled = insert_floor(&server.db, 20_000, args.concurrency, 16).await?;
    let floor = floor_single.max(floor_pooled);
    // 4. The same races through the store directly.
    let me: Value = client
        .get(format!("{base}/api/me"))
        .bearer_auth(&host)
        .send()
        .await?
        .json()
        .await?;
    let host_id = me["id"].as_i64().context("host id")?;
    let first_racer = host_id + 1;
    let user_ids: Vec<i64> = (first_racer..first_racer + args.users as i64).collect();
    let (store_contested, store_spread) =
        store_races(&server.db, host_id, &user_ids, args.concurrency).await?;

    println!();
    println!("| scenario | requests | places won | seconds | requests/s | joins won/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    let (mut total_requests, mut total_secs) = (0usize, 0f64);
    for (i, f) in contested.iter().enumerate() {
        let secs = f.elapsed.as_secs_f64();
        total_requests += f.requests;
        total_secs += secs;
        println!(
            "| {} users race for 1 challenge (50 places), round {} | {} | {} | {:.2} | {:.0} | {:.0} |",
            args.users,
            i + 1,
            f.requests,
            f.won,
            secs,
            f.requests as f64 / secs,
            f.won as f64 / secs
        );
    }
    let spread_secs = spread.elapsed.as_secs_f64();
    println!(
        "| {} users × 5 joins over 100 challenges | {} | {} | {:.2} | {:.0} | {:.0} |",
        args.users,
        spread.requests,
        spread.won,
        spread_secs,
        spread.requests as f64 / spread_secs,
        spread.won as f64 / spread_secs
    );
    for (name, f) in [
        (
            format!("store only: {} users race for 1 challenge", args.users),
            &store_contested,
        ),
        (
            format!(
                "store only: {} users × 5 joins over 100 challenges",
                args.users
            ),
            &store_spread,
        ),
    ] {
        let secs = f.elapsed.as_secs_f64();
        println!(
            "| {name} | {} | {} | {:.2} | {:.0} | {:.0} |",
            f.requests,
            f.won,
            secs,
            f.requests as f64 / secs,
            f.won as f64 / secs
        );
    }
    println!();
    let contested_rate = total_requests as f64 / total_secs;
    let spread_rate = spread.requests as f64 / spread_secs;
    println!(
        "plain single-row INSERTs on the same database: {floor_single:.0} rows/s on 1 connection, {floor_pooled:.0} rows/s on 16; floor = {floor:.0} rows/s"
    );
    let store_rate = |f: &JoinFigures| f.requests as f64 / f.elapsed.as_secs_f64();
    println!(
        "store-level join attempts/s ÷ INSERT floor: contested {:.2}×, spread {:.2}× (goal ≥ 0.5×)",
        store_rate(&store_contested) / floor,
        store_rate(&store_spread) / floor
    );
    println!(
        "end-to-end HTTP join requests/s ÷ INSERT floor: contested {:.2}×, spread {:.2}×",
        contested_rate / floor,
        spread_rate / floor
    );

    // 4. Search latency over many challenges.
    let existing = 103 + 101;
    if args.challenges > existing {
        let started = Instant::now();
        create_challenges(
            &client,
            &base,
            &host,
            args.challenges - existing,
            50,
            args.concurrency,
        )
        .await?;
        println!();
        println!(
            "created {} challenges in {:.1} s",
            args.challenges - existing,
            started.elapsed().as_secs_f64()
        );
    }
    // The first title words as they are, others in another case, and a few rarer or absent.
    let mut queries = WORDS[..6].to_vec();
    queries.extend([
        "study",
        "FOCUS",
        "piano",
        "챌린지 #77",
        "없는말",
        "session 9",
    ]);
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..args.searches)
        .map(|i| {
            let client = &client;
            let base = &base;
            let q = queries[i % queries.len()];
            async move {
                let t = Instant::now();
                let ok = client
                    .get(format!("{base}/api/challenges"))
                    .query(&[("q", q), ("limit", "20")])
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == StatusCode::OK);
                ok.then(|| t.elapsed())
            }
        })
        .buffer_unordered(16)
        .filter_map(|d| async move { d })
        .collect()
        .await;
    let wall = started.elapsed();
    latencies.sort_unstable();
    println!(
        "GET /api/challenges?q= over {} challenges: {} ok of {}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} req/s (16 in flight)",
        args.challenges,
        latencies.len(),
        args.searches,
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len() as f64 / wall.as_secs_f64()
    );
    Ok(())
}
