//! A fresh database per test on each backend: SQLite in a temporary directory always;
//! PostgreSQL and MariaDB/MySQL when `SSGWAN_TEST_POSTGRES_URL` / `SSGWAN_TEST_MYSQL_URL` name a
//! server (an administrator URL: each test creates and drops a database of its own there).
//! `scripts/test.sh` starts throwaway servers and sets both.

use jiff::{Timestamp, civil::Date};
use ssgwan_domain::{ChallengeDraft, ChallengeSpec};
use ssgwan_store::{ChallengeStore, NewUser, SqlStore, User, UserStore};
use ssgwan_testkit::databases::{Server, TestDatabase};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

pub struct TestDb {
    pub store: SqlStore,
    /// Where it is, for a second connection that writes what the store would not.
    pub url: String,
    /// The server database to drop at the end (none for SQLite, whose directory goes).
    database: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A migrated, empty database on `kind`, or `None` (with a note) when that backend is not
    /// configured for this run.
    pub async fn open(kind: Kind) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let db = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                TestDb {
                    store: SqlStore::connect(&url, 16).await.expect("open sqlite"),
                    url,
                    database: None,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres | Kind::MySql => {
                let server = if kind == Kind::Postgres {
                    Server::Postgres
                } else {
                    Server::MySql
                };
                let database = TestDatabase::create(server, "ssgwan_t").await?;
                TestDb {
                    store: SqlStore::connect(&database.url, 40)
                        .await
                        .expect("open test database"),
                    url: database.url.clone(),
                    database: Some(database),
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
        if let Some(database) = self.database {
            database.drop_now().await;
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

pub async fn user_result(
    store: &SqlStore,
    nickname: &str,
) -> Result<User, ssgwan_store::StoreError> {
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
            ssgwan_store::CreationLimit::NONE,
        )
        .await
        .expect("create challenge")
}
