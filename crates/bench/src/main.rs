//! `ssgwan-bench`: load figures for the hot paths, printed as tables.
//!
//! It starts the real `ssgwan serve` binary on a throwaway SQLite database (rate limits off,
//! dev login on, see [`server`]), drives it over HTTP and WebSockets from this process, and
//! prints one block of figures per scenario (`--scenario`):
//! - `joins` ([`joins`]): joins/s racing for one challenge and spread over many, against the
//!   plain INSERT floor of the same database file, and search latency;
//! - `backends` ([`backends`]): store joins on SQLite, PostgreSQL and MariaDB side by side;
//! - `cluster` ([`cluster`]): chat latency across two nodes sharing Redis;
//! - `realtime` ([`realtime`]): idle WebSockets, fan-out and the cost of attendance;
//! - `ranking` ([`ranking_reads`]): ranking reads with a million users on the board, board
//!   updates, and the time from an achieved session to the ranking frame ([`ranking_latency`]);
//! - `all`: every one of these; and, not part of `all`, `boards` ([`boards`]): the ranking
//!   boards alone, in process and in Redis.
//!
//! Usage: `scripts/bench.sh` (builds release binaries first), or
//! `ssgwan-bench --server target/release/ssgwan [--users 1000] [--challenges 10000]`.
#![allow(clippy::print_stdout)]

mod backends;
mod boards;
mod cluster;
mod joins;
mod ranking_latency;
mod ranking_reads;
mod realtime;
mod server;

use std::{path::PathBuf, time::Duration};

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// The `ssgwan` binary to benchmark.
    #[arg(long, default_value = "target/release/ssgwan")]
    server: PathBuf,
    /// Users racing for places.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Challenges to search over.
    #[arg(long, default_value_t = 10_000)]
    challenges: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Search requests to time.
    #[arg(long, default_value_t = 2_000)]
    searches: usize,
    /// Which figures: `joins` (joins and search), `backends` (store joins on SQLite, PostgreSQL
    /// and MariaDB side by side), `cluster` (chat latency across two nodes), `realtime` (WebSockets), `ranking`, or `all`; and, not part of
    /// `all`, `boards` (the ranking boards alone, in process and in Redis).
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Idle WebSockets to open for the memory figure.
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// Users on camera for the attendance figure.
    #[arg(long, default_value_t = 5_000)]
    camera_users: usize,
    /// Users on the ranking board for the ranking figures.
    #[arg(long, default_value_t = 1_000_000)]
    board_users: usize,
    /// Redis for `--scenario boards` (default: a throwaway redis-server on a free port).
    #[arg(long)]
    redis_url: Option<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.scenario == "boards" {
        return boards::run(args.board_users, args.redis_url.clone(), args.concurrency).await;
    }
    if matches!(args.scenario.as_str(), "cluster" | "all") {
        cluster::run(&args.server, 500).await?;
        println!();
    }
    if matches!(args.scenario.as_str(), "backends" | "all") {
        backends::run(args.users, args.concurrency).await?;
        println!();
    }
    if matches!(args.scenario.as_str(), "ranking" | "all") {
        ranking_reads::run(&args.server, args.board_users).await?;
        println!();
    }
    if matches!(args.scenario.as_str(), "realtime" | "all") {
        realtime::run(&args).await?;
        println!();
    }
    if matches!(args.scenario.as_str(), "joins" | "all") {
        joins::run(&args).await?;
    }
    Ok(())
}
