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
        // Warm up, then the three loads in alternating rounds (h t m, m t h, …) in the same run,
        // so that drift on a shared machine weighs on all three alike.
        load(client, format!("{base}/healthz"), None, 2_000, in_flight).await;
        let targets = [
            (format!("{base}/healthz"), None),
            (format!("{base}/api/rankings?limit=100"), None),
            (
                format!("{base}/api/rankings?limit=100"),
                Some(me_token.clone()),
            ),
        ];
        let mut rounds: [Vec<Load>; 3] = Default::default();
        for round in 0..LOAD_ROUNDS {
            let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
            for which in order {
                let (url, token) = &targets[which];
                rounds[which].push(
                    load(
                        client,
                        url.clone(),
                        token.clone(),
                        requests / LOAD_ROUNDS,
                        in_flight,
                    )
                    .await,
                );
            }
        }
        let ratio = |which: usize| {
            let per_round: Vec<f64> = rounds[which]
                .iter()
                .zip(&rounds[0])
                .map(|(r, h)| r.per_second / h.per_second)
                .collect();
            median(&per_round)
        };
        let (top_ratio, me_ratio) = (ratio(1), ratio(2));
        let [health, top, me] = rounds.map(combined);
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
            "  {in_flight:>2} in flight | ÷ healthz throughput (median of {LOAD_ROUNDS} rounds): top 100 {top_ratio:.2}×, with me {me_ratio:.2}× (goal ≥ 0.95×)"
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
    wrk_reads(base, &me_token);
    Ok(())
}

/// Rounds of `wrk` runs per concurrency (each round runs the three targets, in alternating
/// order) and seconds per run.
const WRK_ROUNDS: usize = 5;
const WRK_SECONDS: u32 = 2;

/// The same three reads with `wrk` (Debian's package; `scripts/bench.sh` installs it), whose
/// client costs far less than reqwest's, so the server's share shows: `/healthz`, the
/// anonymous top 100 and the top 100 with `me`, in alternating rounds at 16 and 64 connections;
/// each round's throughput ratio, and their median.
fn wrk_reads(base: &str, me_token: &str) {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk not found: no wrk figures (scripts/bench.sh installs it)");
        return;
    }
    let top = format!("{base}/api/rankings?limit=100");
    let targets = [
        ("GET /healthz", format!("{base}/healthz"), None),
        ("top 100 (anonymous)", top.clone(), None),
        ("top 100 + me (signed in)", top, Some(me_token)),
    ];
    println!(
        "wrk, 2 threads, {WRK_ROUNDS} rounds of {WRK_SECONDS} s per target (alternating order):"
    );
    for connections in [16, 64] {
        // Warm-up.
        for (_, url, token) in &targets {
            let _ = wrk(url, *token, connections, 1);
        }
        let mut rates: [Vec<f64>; 3] = Default::default();
        for round in 0..WRK_ROUNDS {
            let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
            for which in order {
                let (_, url, token) = &targets[which];
                match wrk(url, *token, connections, WRK_SECONDS) {
                    Ok(rate) => rates[which].push(rate),
                    Err(err) => {
                        println!("  wrk failed: {err}");
                        return;
                    }
                }
            }
        }
        for (which, (name, _, _)) in targets.iter().enumerate() {
            println!(
                "  {connections:>2} connections | {name:<26} | median {:>7.0} req/s | rounds {}",
                median(&rates[which]),
                rates[which]
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        let ratio = |which: usize| {
            let per_round: Vec<f64> = rates[which]
                .iter()
                .zip(&rates[0])
                .map(|(r, h)| r / h)
                .collect();
            median(&per_round)
        };
        println!(
            "  {connections:>2} connections | ÷ healthz (median of rounds): top 100 {:.2}×, with me {:.2}× (goal ≥ 0.95×)",
            ratio(1),
            ratio(2)
        );
    }
}

/// One `wrk` run: requests per second, or why there is none (a non-2xx answer counts as one).
fn wrk(url: &str, token: Option<&str>, connections: usize, seconds: u32) -> anyhow::Result<f64> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2".to_owned(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
    ]);
    if let Some(token) = token {
        command.args(["-H".to_owned(), format!("Authorization: Bearer {token}")]);
    }
    let output = command.arg(url).stderr(Stdio::inherit()).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success() && !text.contains("Non-2xx"),
        "wrk on {url}: {text}"
    );
    text.lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no Requests/sec in wrk's output: {text}"))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Rounds of the reqwest loads (each round runs the three targets, in alternating order).
const LOAD_ROUNDS: usize = 5;

/// Loads of several rounds as one: total requests ÷ total time; latencies as the median
/// round's.
fn combined(loads: Vec<Load>) -> Load {
    let ok: usize = loads.iter().map(|l| l.ok).sum();
    let wall: f64 = loads.iter().map(|l| l.ok as f64 / l.per_second).sum();
    let mut p50s: Vec<Duration> = loads.iter().map(|l| l.p50).collect();
    let mut p99s: Vec<Duration> = loads.iter().map(|l| l.p99).collect();
    p50s.sort_unstable();
    p99s.sort_unstable();
    Load {
        ok,
        p50: p50s.get(p50s.len() / 2).copied().unwrap_or_default(),
        p99: p99s.get(p99s.len() / 2).copied().unwrap_or_default(),
        per_second: ok as f64 / wall,
    }
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
    let [a, b] = rounds.map(combined);
    Paired {
        a,
        b,
        median_ratio: (ratios[ROUNDS / 2 - 1] + ratios[ROUNDS / 2]) / 2.0,
    }
}
