//! Joins under contention through the store on every database backend in the same run:
//! SQLite in a temporary file, and PostgreSQL and MariaDB/MySQL when
//! `SSGWAN_TEST_POSTGRES_URL` / `SSGWAN_TEST_MYSQL_URL` name a server (each gets a fresh
//! database). The same load on each: `users` users racing for one 50-place challenge, then the
//! same users joining 5 challenges each over 100.

use std::sync::Arc;

use sqlx::{Connection, Executor};
use ssgwan_store::{NewUser, SqlStore, prelude::*};

use crate::joins::race_store;

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
        let (contested, spread) = race_store(
            &store,
            host.id,
            &user_ids,
            concurrency,
            &start,
            "backend race",
        )
        .await?;
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
