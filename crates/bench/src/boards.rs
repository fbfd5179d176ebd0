//! The ranking boards alone, in process (`LocalBoards`) and in Redis (`RedisBoards`), with the
//! same standings: the time to build a board of `users` standings, reads of the top 100 and of
//! one user's position, and score updates, each per second with latency percentiles, with one
//! operation in flight and with many (`--scenario boards`). Redis is the given URL, or a
//! throwaway `redis-server` (no persistence) on a free loopback port. The ranking scenario
//! prints [`board_updates`] beside its reads.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::{StreamExt, stream};
use jiff::civil::Date;
use ssgwan_domain::stats::{Period, Standing};
use ssgwan_realtime::{LocalBoards, RankingBoards, RedisBoards, RedisClient, RedisOptions};

use crate::{ms, percentile};

/// A redis-server of our own, killed when dropped.
pub(crate) struct ThrowawayRedis(Child);

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_redis() -> anyhow::Result<(String, ThrowawayRedis)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting redis-server (apt-get install redis-server, or pass --redis-url)")?;
    let server = ThrowawayRedis(child);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((format!("redis://127.0.0.1:{port}/"), server))
}

struct Figure {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `count` operations, `in_flight` at a time.
async fn measure<F, Fut>(count: usize, in_flight: usize, operation: F) -> anyhow::Result<Figure>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..count)
        .map(|i| {
            let op = operation(i);
            async move {
                let t = Instant::now();
                op.await.map(|()| t.elapsed())
            }
        })
        .buffer_unordered(in_flight)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(Figure {
        per_second: count as f64 / elapsed,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    })
}

fn row(board: &str, what: &str, in_flight: usize, f: &Figure) {
    println!(
        "| {board} | {what} | {in_flight} | {:.0} | {:.3} | {:.3} |",
        f.per_second,
        ms(f.p50),
        ms(f.p99)
    );
}

/// Prints the figures for both boards with `users` standings.
pub async fn run(users: usize, redis_url: Option<String>, in_flight: usize) -> anyhow::Result<()> {
    let (url, _server) = match redis_url {
        Some(url) => (url, None),
        None => {
            let (url, server) = start_redis()?;
            (url, Some(server))
        }
    };
    let client = RedisClient::open(
        &url,
        RedisOptions {
            prefix: format!("bench{:x}", std::process::id()),
            timeout: Duration::from_secs(10),
        },
    )?;
    let boards: [(&str, Arc<dyn RankingBoards>); 2] = [
        ("in process", Arc::new(LocalBoards::new())),
        ("Redis", Arc::new(RedisBoards::new(client))),
    ];
    let day = Date::constant(2026, 3, 4);
    let users_i = users as i64;
    println!("ssgwan-bench boards: {users} users on the all-time board; Redis at {url}");
    println!("| board | operation | in flight | per second | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (name, boards) in boards {
        let standings: Vec<Standing> = (0..users_i)
            .map(|i| Standing {
                user_id: i,
                score: ((i * 7919) % 97) * 10,
                completed: i % 3,
                reached_at: 1_700_000_000_000 + (i * 104_729) % 1_000_000_000,
            })
            .collect();
        let started = Instant::now();
        boards.replace(Period::All, None, standings).await?;
        println!(
            "| {name} | build ({users} standings) | 1 | {:.0} | total {:.0} ms | |",
            users as f64 / started.elapsed().as_secs_f64(),
            ms(started.elapsed())
        );
        for flight in [1, in_flight] {
            let reads = if flight == 1 { 5_000 } else { 20_000 };
            let top = measure(reads, flight, |_| {
                let boards = boards.clone();
                async move {
                    let top = boards.top(Period::All, 100, day).await?;
                    anyhow::ensure!(top.len() == 100.min(users));
                    Ok(())
                }
            })
            .await?;
            row(name, "top 100", flight, &top);
            let mine = measure(reads * 2, flight, |i| {
                let boards = boards.clone();
                let user = (i as i64 * 7_919) % users_i;
                async move {
                    let me = boards.position(Period::All, user, day).await?;
                    anyhow::ensure!(me.is_some());
                    Ok(())
                }
            })
            .await?;
            row(name, "my position", flight, &mine);
            let updates = measure(reads * 2, flight, |i| {
                let boards = boards.clone();
                let user = (i as i64 * 104_729) % users_i;
                async move {
                    boards
                        .add(user, 10, false, 1_800_000_000_000 + i as i64, day)
                        .await?;
                    Ok(())
                }
            })
            .await?;
            row(name, "add 10 points (3 boards)", flight, &updates);
        }
    }
    Ok(())
}

/// Board updates per second at `users` entries, in process (the board alone), and the seconds
/// it took to build the board.
pub async fn board_updates(users: usize) -> (f64, f64) {
    let boards = LocalBoards::new();
    let day = Date::constant(2026, 3, 4);
    let standings = (0..users as i64)
        .map(|i| Standing {
            user_id: i,
            score: ((i * 7919) % 97) * 10,
            completed: 0,
            reached_at: i,
        })
        .collect();
    let started = Instant::now();
    let _ = boards.replace(Period::All, None, standings).await;
    let build = started.elapsed().as_secs_f64();
    let updates = 200_000;
    let started = Instant::now();
    for n in 0..updates as i64 {
        boards
            .add((n * 104_729) % users as i64, 10, false, 2_000_000 + n, day)
            .await
            .ok();
    }
    (updates as f64 / started.elapsed().as_secs_f64(), build)
}
