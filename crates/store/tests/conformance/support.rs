//! A fresh database per test on each backend: SQLite in a temporary directory always;
//! PostgreSQL and MariaDB/MySQL when `SSGWAN_TEST_POSTGRES_URL` / `SSGWAN_TEST_MYSQL_URL` name a
//! server (an administrator URL: each test creates and drops a database of its own there).
//! `scripts/test.sh` starts throwaway servers and sets both.

use std::sync::atomic::{AtomicU32, Ordering};

use jiff::{Timestamp, civil::Date};
use sqlx::{Connection, Executor};
use ssgwan_domain::{ChallengeDraft, ChallengeSpec};
use ssgwan_store::{NewUser, SqlStore, Store, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

pub struct TestDb {
    pub store: SqlStore,
    kind: Kind,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn env_url(kind: Kind) -> Option<String> {
    let var = match kind {
        Kind::Sqlite => return None,
        Kind::Postgres => "SSGWAN_TEST_POSTGRES_URL",
        Kind::MySql => "SSGWAN_TEST_MYSQL_URL",
    };
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// Replaces the database name (the URL's last path segment) of a server URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (server, _) = base.rsplit_once('/').expect("a database URL has a path");
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestDb {
    /// A migrated, empty database on `kind`, or `None` (with a note) when that backend is not
    /// configured for this run.
    pub async fn open(kind: Kind) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let name = format!(
            "ssgwan_t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let db = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                TestDb {
                    store: SqlStore::connect(&url, 16).await.expect("open sqlite"),
                    kind,
                    admin_url: None,
                    name,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres | Kind::MySql => {
                let Some(admin) = env_url(kind) else {
                    eprintln!("{kind:?} not configured (set SSGWAN_TEST_{kind:?}_URL); skipped");
                    return None;
                };
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .expect("connect to the test server");
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create database");
                conn.close().await.ok();
                TestDb {
                    store: SqlStore::connect(&with_database(&admin, &name), 40)
                        .await
                        .expect("open test database"),
                    kind,
                    admin_url: Some(admin),
                    name,
                    _dir: None,
                }
            }
        };
        db.store.migrate().await.expect("migrations apply");
        Some(db)
    }

    /// Drops the database (the throwaway server goes too, at the end of the run).
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(admin) = &self.admin_url {
            let mut conn = sqlx::AnyConnection::connect(admin).await.expect("connect");
            let sql = match self.kind {
                Kind::Postgres => format!("DROP DATABASE {} WITH (FORCE)", self.name),
                _ => format!("DROP DATABASE {}", self.name),
            };
            conn.execute(sql.as_str()).await.expect("drop database");
            conn.close().await.ok();
        }
    }
}

/// Runs one conformance case on each configured backend.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $case() { super::run(super::support::Kind::Sqlite, super::cases::$case).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $case() { super::run(super::support::Kind::Postgres, super::cases::$case).await } )*
        }
        mod mysql {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $case() { super::run(super::support::Kind::MySql, super::cases::$case).await } )*
        }
    };
}
pub(crate) use conformance;

// ---- fixtures ----

pub fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

pub fn date(text: &str) -> Date {
    text.parse().expect("date")
}

/// Monday 2 March 2026, 09:00 in Seoul.
pub fn now() -> Timestamp {
    ts("2026-03-02T00:00:00Z")
}

pub async fn user(store: &SqlStore, nickname: &str) -> User {
    store
        .create_user(
            NewUser {
                kakao_id: None,
                nickname: nickname.into(),
                profile_image: None,
            },
            now(),
        )
        .await
        .expect("create user")
}

/// A valid challenge draft: daily 07:00–08:00 in Seoul from `start` to `end`.
pub fn draft(title: &str, start: &str, end: &str, capacity: i64) -> ChallengeDraft {
    ChallengeDraft {
        title: Some(title.into()),
        description: Some(format!("{title}: 함께 해요")),
        category: Some("STUDY".into()),
        capacity: Some(capacity),
        start_date: Some(start.into()),
        end_date: Some(end.into()),
        days_of_week: Some(
            ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
                .map(String::from)
                .to_vec(),
        ),
        session_start: Some("07:00".into()),
        session_end: Some("08:00".into()),
        min_minutes: Some(10),
        success_rate: Some(50),
        ..Default::default()
    }
}

pub fn spec(title: &str, start: &str, end: &str, capacity: i64) -> ChallengeSpec {
    draft(title, start, end, capacity)
        .validate(now())
        .expect("valid draft")
}

/// Creates a challenge starting 3 March (the day after `now`) for a week.
pub async fn challenge(store: &SqlStore, creator: &User, title: &str, capacity: i64) -> i64 {
    store
        .create_challenge(
            creator.id,
            &spec(title, "2026-03-03", "2026-03-09", capacity),
            date("2026-03-02"),
            now(),
        )
        .await
        .expect("create challenge")
}
