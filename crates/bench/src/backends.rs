//! Joins under contention through the store on every database backend in the same run:
//! SQLite in a temporary file, and PostgreSQL and MariaDB/MySQL when
//! `SSGWAN_TEST_POSTGRES_URL` / `SSGWAN_TEST_MYSQL_URL` name a server (each gets a fresh
//! database). The same load on each: `users` users racing for one 50-place challenge, then the
//! same users joining 5 challenges each over 100.

use std::{sync::Arc, time::Instant};

use futures::{StreamExt, stream};
use sqlx::{Connection, Executor};
use ssgwan_store::{NewUser, SqlStore, prelude::*};

struct Figures {
    requests: usize,
    won: usize,
    seconds: f64,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (server, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{server}/{name}")
}

async fn open(backend: &str) -> anyhow::Result<Option<(SqlStore, Option<tempfile::TempDir>)>> {
    sqlx::any::install_default_drivers();
    let name = format!("ssgwan_bench_{}", std::process::id());
    let (url, dir) = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir()?;
            (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                ),
                Some(dir),
            )
        }
        _ => {
            let var = if backend == "postgres" {
                "SSGWAN_TEST_POSTGRES_URL"
            } else {
                "SSGWAN_TEST_MYSQL_URL"
            };
            let Ok(admin) = std::env::var(var) else {
                println!("{backend:<9} skipped: set {var} to an administrator URL");
                return Ok(None);
            };
            let mut conn = sqlx::AnyConnection::connect(&admin).await?;
            conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await?;
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await?;
            (with_database(&admin, &name), None)
        }
    };
    let store = SqlStore::connect(&url, 16).await?;
    store.migrate().await?;
    Ok(Some((store, dir)))
}

async fn race(store: &Arc<SqlStore>, jobs: Vec<(i64, i64)>, concurrency: usize) -> Figures {
    let now = jiff::Timestamp::now();
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
    Figures {
        requests,
        won,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Prints one line per backend and race.
pub async fn run(users: usize, concurrency: usize) -> anyhow::Result<()> {
    println!(
        "store joins on each backend ({users} users, {concurrency} in flight, 16 connections):"
    );
    for backend in ["sqlite", "postgres", "mysql"] {
        let Some((store, _dir)) = open(backend).await? else {
            continue;
        };
        let store = Arc::new(store);
        let now = jiff::Timestamp::now();
        let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let host = store
            .create_user(
                NewUser {
                    kakao_id: None,
                    nickname: "bench-host".into(),
                    profile_image: None,
                },
                now,
            )
            .await?;
        let mut user_ids = Vec::with_capacity(users);
        for i in 0..users {
            let user = NewUser {
                kakao_id: None,
                nickname: format!("bench{i}"),
                profile_image: None,
            };
            user_ids.push(store.create_user(user, now).await?.id);
        }
        let start = (today + jiff::ToSpan::days(1)).to_string();
        let mut ids = Vec::new();
        for i in 0..101 {
            let spec = ssgwan_domain::ChallengeDraft {
                title: Some(format!("backend race {i}")),
                category: Some("STUDY".into()),
                capacity: Some(50),
                start_date: Some(start.clone()),
                end_date: Some(start.clone()),
                session_start: Some("06:00".into()),
                session_end: Some("07:00".into()),
                min_minutes: Some(30),
                ..Default::default()
            }
            .validate(now)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            ids.push(store.create_challenge(host.id, &spec, today, now).await?);
        }
        let contested = race(
            &store,
            user_ids.iter().map(|u| (*u, ids[0])).collect(),
            concurrency,
        )
        .await;
        let spread_ids = &ids[1..];
        let spread = race(
            &store,
            user_ids
                .iter()
                .enumerate()
                .flat_map(|(n, u)| {
                    (0..5).map(move |k| (*u, spread_ids[(n * 5 + k) % spread_ids.len()]))
                })
                .collect(),
            concurrency,
        )
        .await;
        println!(
            "{backend:<9} one contested challenge: {:>7.0} attempts/s ({} won of {}); spread over 100: {:>7.0} joins/s ({} won of {})",
            contested.rate(),
            contested.won,
            contested.requests,
            spread.rate(),
            spread.won,
            spread.requests
        );
        anyhow::ensure!(
            contested.won == 49,
            "capacity must hold exactly: {} won",
            contested.won
        );
        store.close().await;
    }
    Ok(())
}
