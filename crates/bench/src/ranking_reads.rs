//! Ranking figures with a million users on the board (`--scenario ranking`): read latency and
//! throughput of the top 100 and of `me` beside `/healthz` (same load tool, same run), then in
//! the same run the in-process board's updates per second ([`crate::boards`]) and the time from
//! an achieved session to the ranking moving ([`crate::ranking_latency`]).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sqlx::{
    Connection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::{
    boards, ms, percentile, ranking_latency,
    server::{login, start_server_in},
};

/// Prints the ranking figures with `users` users on the board of the server `binary`.
pub async fn run(binary: &PathBuf, users: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let status = Command::new(binary)
        .args(["migrate", "--log-format", "json", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "migrate failed");
    let filled = fill_ledger(&dir.path().join("ssgwan.db"), users).await?;
    println!("ssgwan-bench ranking: {users} users with scores written in {filled:.1} s");
    let started = Instant::now();
    let server = start_server_in(binary, dir, &["--chat-messages-per-10s", "0"]).await?;
    println!(
        "server started and rebuilt its boards from the ledger in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let client = Client::builder().pool_max_idle_per_host(128).build()?;
    reads(&server.base, &client, users).await?;
    let (updates, build) = boards::board_updates(users).await;
    println!(
        "in-process board with {users} users: built in {build:.2} s; {updates:.0} score updates/s"
    );
    let latencies = ranking_latency::event_to_visible(&server.base, &client, 20).await?;
    ranking_latency::report_event_to_visible(&latencies);
    Ok(())
}

/// Writes `users` users with a spread of scores straight into a migrated database.
async fn fill_ledger(db: &Path, users: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let options = SqliteConnectOptions::new()
        .filename(db)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let recent_ms = jiff::Timestamp::now().as_millisecond() - 3_600_000;
    let mut tx = conn.begin().await?;
    for i in 0..users as i64 {
        let nickname = format!("ranker{i}");
        sqlx::query("INSERT INTO users (id, nickname, nickname_key, bio, created_at, updated_at) VALUES (?, ?, ?, '', 0, 0)")
            .bind(1_000_000 + i)
            .bind(&nickname)
            .bind(&nickname)
            .execute(&mut *tx)
            .await?;
        // Scores in steps of 10 with many ties, earned at different times.
        let sessions = (i * 7919) % 97;
        sqlx::query("INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) VALUES (?, 0, 'SESSION', '2026-01-01', ?, ?)")
            .bind(1_000_000 + i)
            .bind(sessions * 10)
            .bind(1_700_000_000_000 + (i * 104_729) % 1_000_000_000)
            .execute(&mut *tx)
            .await?;
        // A third of the users also scored in the last week, so sparklines have something to show.
        if i % 3 == 0 {
            sqlx::query("INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) VALUES (?, 1, 'SESSION', '2026-01-02', 10, ?)")
                .bind(1_000_000 + i)
                .bind(recent_ms - (i % 7) * 86_400_000)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(started.elapsed().as_secs_f64())
}

struct Load {
    ok: usize,
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

/// `requests` GETs of `path` with `in_flight` at once.
async fn load(
    client: &Client,
    url: String,
    token: Option<String>,
    requests: usize,
    in_flight: usize,
) -> Load {
    let started = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(0..requests)
        .map(|_| {
            let mut request = client.get(&url);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            async move {
                let t = Instant::now();
                let ok = match request.send().await {
                    Ok(r) if r.status() == StatusCode::OK => r.bytes().await.is_ok(),
                    _ => false,
                };
                ok.then(|| t.elapsed())
            }
        })
        .buffer_unordered(in_flight)
        .filter_map(|d| async move { d })
        .collect()
        .await;
    let wall = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Load {
        ok: latencies.len(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        per_second: latencies.len() as f64 / wall,
    }
}

async fn reads(base: &str, client: &Client, users: usize) -> anyhow::Result<()> {
    // A user near the bottom, signed in, for `me`.
    let me_token = login(client, base, &format!("ranker{}", users - 3)).await?;
    let page: Value = client
        .get(format!("{base}/api/rankings?limit=100"))
        .bearer_auth(&me_token)
        .send()
        .await?
        .json()
        .await?;
    println!(
        "board: {} entries shown, top score {}, me (ranker{}) at rank {}",
        page["entries"].as_array().map_or(0, Vec::len),
        page["entries"][0]["totalScore"],
        users - 3,
        page["me"]["rank"]
    );
    println!(
        "board: top entry level {} (next at {}), recentScores {}; me level {}, recentScores {}",
        page["entries"][0]["level"],
        page["entries"][0]["nextLevelScore"],
        page["entries"][0]["recentScores"],
        page["me"]["level"],
        page["me"]["recentScores"]
    );
    let requests = 20_000;
    for in_flight in [16, 64] {
        // Warm up, then the three loads back to back in the same run.
        load(client, format!("{base}/healthz"), None, 2_000, in_flight).await;
        let health = load(client, format!("{base}/healthz"), None, requests, in_flight).await;
        let top = load(
            client,
            format!("{base}/api/rankings?limit=100"),
            None,
            requests,
            in_flight,
        )
        .await;
        let me = load(
            client,
            format!("{base}/api/rankings?limit=100"),
            Some(me_token.clone()),
            requests,
            in_flight,
        )
        .await;
        for (name, l) in [
            ("GET /healthz", &health),
            ("GET /api/rankings top 100 (anonymous)", &top),
            ("GET /api/rankings top 100 + me (signed in)", &me),
        ] {
            println!(
                "  {in_flight:>2} in flight | {name:<45} | {:>6} ok | {:>7.0} req/s | p50 {:.2} ms | p99 {:.2} ms",
                l.ok,
                l.per_second,
                ms(l.p50),
                ms(l.p99)
            );
        }
        println!(
            "  {in_flight:>2} in flight | top 100 ÷ healthz throughput: {:.2}× ; with me: {:.2}× (goal ≥ 0.8×)",
            top.per_second / health.per_second,
            me.per_second / health.per_second
        );
        // Levels and sparklines on (the default) beside off (`fields=basic`), same run.
        let full = format!("{base}/api/rankings?limit=100");
        let basic = format!("{base}/api/rankings?limit=100&fields=basic");
        for (name, token) in [
            ("top 100 (anonymous)", None),
            ("top 100 + me (signed in)", Some(me_token.clone())),
        ] {
            let pair = paired(client, &full, &basic, token, requests, in_flight).await;
            println!(
                "  {in_flight:>2} in flight | {name:<24} levels+sparklines {:>6.0} req/s, p50 {:.2} ms | fields=basic {:>6.0} req/s, p50 {:.2} ms | on ÷ off {:.2}× (median round {:.2}×; goal ≥ 0.9×)",
                pair.a.per_second,
                ms(pair.a.p50),
                pair.b.per_second,
                ms(pair.b.p50),
                pair.a.per_second / pair.b.per_second,
                pair.median_ratio
            );
        }
    }
    Ok(())
}

/// Two loads compared on a shared machine.
struct Paired {
    a: Load,
    b: Load,
    /// The median over rounds of a's throughput ÷ b's.
    median_ratio: f64,
}

/// `requests` GETs each of `a` and `b`, in alternating rounds (a b, b a, a b, …) so that load
/// drifting on the machine (other processes, the server warming up) weighs on both alike.
async fn paired(
    client: &Client,
    a: &str,
    b: &str,
    token: Option<String>,
    requests: usize,
    in_flight: usize,
) -> Paired {
    const ROUNDS: usize = 8;
    let per_round = requests / ROUNDS;
    let mut rounds: [Vec<Load>; 2] = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let url = [a, b][which].to_owned();
            rounds[which].push(load(client, url, token.clone(), per_round, in_flight).await);
        }
    }
    let mut ratios: Vec<f64> = rounds[0]
        .iter()
        .zip(&rounds[1])
        .map(|(x, y)| x.per_second / y.per_second)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let [a, b] = rounds.map(|loads| {
        // Over all rounds: total requests ÷ total time; latencies as the median round's.
        let ok: usize = loads.iter().map(|l| l.ok).sum();
        let wall: f64 = loads.iter().map(|l| l.ok as f64 / l.per_second).sum();
        let mut p50s: Vec<Duration> = loads.iter().map(|l| l.p50).collect();
        let mut p99s: Vec<Duration> = loads.iter().map(|l| l.p99).collect();
        p50s.sort_unstable();
        p99s.sort_unstable();
        Load {
            ok,
            p50: p50s[p50s.len() / 2],
            p99: p99s[p99s.len() / 2],
            per_second: ok as f64 / wall,
        }
    });
    Paired {
        a,
        b,
        median_ratio: (ratios[ROUNDS / 2 - 1] + ratios[ROUNDS / 2]) / 2.0,
    }
}
