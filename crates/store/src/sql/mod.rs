//! The SQL implementation of [`Store`], one codebase for SQLite, PostgreSQL and MySQL/MariaDB
//! through sqlx's `Any` driver.
//!
//! Queries are written once in the SQL all three share, with `?` placeholders that
//! [`SqlStore::sql`] rewrites to `$n` for PostgreSQL (see [`dialect`]). Only the DDL differs,
//! so each backend family has its own migration directory. Columns use portable types only
//! (BIGINT, TEXT): instants are unix milliseconds, dates `YYYY-MM-DD`, times `HH:MM`.
//!
//! One file per concern implements one trait: [`users`], [`challenges`], [`wishes`],
//! [`participation`], [`chat`], [`attendance`], [`scores`] (with the statistics reads),
//! [`uploads`] (upload records, quota, the file sweep and job claims),
//! [`notifications`] (calendar feeds, notifications, push subscriptions).
//! Shared by them: [`dialect`] (placeholders, binds, backend differences), [`retry`] (losing a
//! race and trying again) and [`rows`] (turning rows into records).

mod attendance;
mod challenges;
mod chat;
mod dialect;
mod moderation;
mod notifications;
mod participation;
mod retry;
mod rows;
mod scores;
mod uploads;
mod users;
mod wishes;

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

use ssgwan_domain::participation::Refusal;

use crate::{Conflict, Store, StoreError, StoreResult};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");
static MYSQL_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/mysql");

/// Which database family a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::MySql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }
}

/// The store on a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Statements sent so far (shared by clones): see [`Store::round_trips`].
    round_trips: Arc<AtomicU64>,
}

impl SqlStore {
    /// Connects to the database the URL names (`sqlite://path?mode=rwc`, `postgres://…`, `mysql://…`).
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            StoreError::Backend(sqlx::Error::Configuration(
                "database URL must start with sqlite:, postgres: or mysql:".into(),
            ))
        })?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = open_pool(options, backend, max_connections).await?;
        Ok(Self {
            pool,
            backend,
            round_trips: Arc::default(),
        })
    }

    /// The pool, for one statement: counts it as a round trip. Every statement goes through
    /// here or [`Self::on`], so the counter is exact and costs one relaxed atomic add.
    fn db(&self) -> &AnyPool {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        &self.pool
    }

    /// A connection or transaction, for one statement: counts it like [`Self::db`].
    fn on<'c>(&self, conn: &'c mut sqlx::AnyConnection) -> &'c mut sqlx::AnyConnection {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        conn
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection of the pool (waits for checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies the embedded migrations of this backend family, then computes what SQL cannot:
    /// the nickname skeletons of rows that lack one (see migration 0006).
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
            Backend::MySql => &MYSQL_MIGRATIONS,
        };
        migrator
            .run(self.db())
            .await
            .map_err(|e| StoreError::Backend(e.into()))?;
        self.backfill_nickname_skeletons().await?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.db()).await?;
        Ok(())
    }

    fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }
}

/// The error for a statement the database refused, named by the domain rule that explains it
/// over what was read after; `otherwise` when no rule does any more (the facts changed again
/// between the statement and the read).
fn refused(refusal: Option<Refusal>, otherwise: Conflict) -> StoreError {
    StoreError::Conflict(
        refusal
            .and_then(Conflict::from_refusal)
            .unwrap_or(otherwise),
    )
}

async fn open_pool(
    options: AnyConnectOptions,
    backend: Backend,
    max_connections: u32,
) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match backend {
                    // WAL lets readers proceed while a writer commits; the busy timeout makes
                    // concurrent writers (other connections, other processes) queue for the lock.
                    Backend::Sqlite => {
                        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 15000"] {
                            conn.execute(pragma).await?;
                        }
                    }
                    Backend::MySql => {
                        conn.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ANSI_QUOTES'").await?;
                    }
                    Backend::Postgres => {}
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/x.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://u@h/db"), Some(Backend::MySql));
        assert_eq!(Backend::from_url("redis://h"), None);
    }
}
