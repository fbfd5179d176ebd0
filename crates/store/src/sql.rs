//! The SQL implementation of [`Store`](crate::Store), one codebase for SQLite, PostgreSQL and
//! MySQL/MariaDB through sqlx's `Any` driver.
//!
//! Queries are written once in the SQL all three share, with `?` placeholders that
//! [`SqlStore::sql`] rewrites to `$n` for PostgreSQL. Only the DDL differs, so each backend
//! family has its own migration directory. Columns use portable types only (BIGINT, TEXT):
//! instants are unix milliseconds, dates `YYYY-MM-DD`, times `HH:MM`.

use std::{
    borrow::Cow,
    collections::HashMap,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date, tz::TimeZone};
use sqlx::{
    AnyPool, Executor, Row,
    any::{AnyConnectOptions, AnyPoolOptions, AnyRow},
    migrate::Migrator,
};
use ssgwan_domain::{
    Category, ChallengeSpec, ChallengeStatus,
    schedule::{DaySet, Schedule, format_time_of_day, parse_date, parse_time_of_day},
};

use crate::{
    AttendanceDay, AttendanceRecord, AttendanceUpdate, ChallengeCursor, ChallengeQuery,
    ChallengeRecord, ChallengeSort, ChatMessage, Conflict, Membership, MyChallengesState, NewUser,
    ParticipantRecord, ParticipantStatus, Participation, PopularTag, ScoreActivity, ScoreKind,
    ScoreTotal, Store, StoreError, StoreResult, User, UserSummary, UserUpdate, WishedChallenge,
};

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

/// A value bound to a placeholder in a query assembled at run time.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

/// The store on a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Statements sent so far (shared by clones): see [`Store::round_trips`].
    round_trips: Arc<AtomicU64>,
}

/// Columns of a challenge as listings and details read them, with the creator, whether the
/// viewer holds a place and whether they wished it (the viewer is bound to both placeholders:
/// see [`viewer_binds`]). Tags come from one more query per page ([`SqlStore::attach_tags`]).
const CHALLENGE_SELECT: &str = "SELECT c.id, c.creator_id, u.nickname AS creator_nickname, u.profile_image AS creator_image, \
     c.title, c.description, c.category, c.thumbnail, c.capacity, c.participant_count, c.start_date, c.end_date, \
     c.days_of_week, c.session_start, c.session_end, c.timezone, c.min_minutes, c.success_rate, c.created_at, c.updated_at, \
     c.notice, c.notice_updated_at, c.wish_count, \
     p.user_id AS viewer_id, p.status AS viewer_status, p.joined_at AS viewer_joined_at, w.created_at AS viewer_wished_at \
     FROM challenges c JOIN users u ON u.id = c.creator_id \
     LEFT JOIN participants p ON p.challenge_id = c.id AND p.user_id = ? AND p.status <> 'CANCELLED' \
     LEFT JOIN wishes w ON w.challenge_id = c.id AND w.user_id = ?";

/// The values of [`CHALLENGE_SELECT`]'s two viewer placeholders (`-1`, nobody, when anonymous).
fn viewer_binds(viewer: Option<i64>) -> [Bind; 2] {
    let id = viewer.unwrap_or(-1);
    [Bind::Int(id), Bind::Int(id)]
}

const USER_COLUMNS: &str = "id, kakao_id, nickname, bio, profile_image, created_at";

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

    /// Applies the embedded migrations of this backend family.
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
            Backend::MySql => &MYSQL_MIGRATIONS,
        };
        migrator
            .run(self.db())
            .await
            .map_err(|e| StoreError::Backend(e.into()))
    }

    /// Rewrites `?` placeholders to `$1, $2, …` on PostgreSQL. Our SQL never has a `?` inside
    /// a string literal, so a plain scan is exact.
    fn sql<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.backend != Backend::Postgres || !text.contains('?') {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut n = 0;
        for ch in text.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        Cow::Owned(out)
    }

    /// Runs an INSERT and returns the new row's generated `id`.
    async fn insert_returning_id(
        &self,
        conn: &mut sqlx::AnyConnection,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<i64, sqlx::Error> {
        match self.backend {
            Backend::MySql => {
                let sql = sql.to_owned();
                let result = bind_all(sqlx::query(&sql), binds)
                    .execute(self.on(conn))
                    .await?;
                result
                    .last_insert_id()
                    .ok_or_else(|| sqlx::Error::Protocol("no insert id".into()))
            }
            Backend::Sqlite | Backend::Postgres => {
                let sql = format!("{} RETURNING id", self.sql(sql));
                let row = bind_all(sqlx::query(&sql), binds)
                    .fetch_one(self.on(conn))
                    .await?;
                row.try_get::<i64, _>(0)
            }
        }
    }

    async fn fetch_user(&self, column: &str, bind: Bind) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?");
        let sql = self.sql(&sql);
        let row = bind_all(sqlx::query(&sql), vec![bind])
            .fetch_optional(self.db())
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    async fn message_by_client_id(
        &self,
        challenge_id: i64,
        user_id: i64,
        client_id: &str,
    ) -> StoreResult<Option<ChatMessage>> {
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.challenge_id = ? AND m.user_id = ? AND m.client_id = ?"
        );
        let row = sqlx::query(&self.sql(&sql))
            .bind(challenge_id)
            .bind(user_id)
            .bind(client_id.to_owned())
            .fetch_optional(self.db())
            .await?;
        row.map(|r| message_from_row(&r)).transpose()
    }

    /// MySQL's join, in a transaction that locks the challenge row first. MySQL cannot read
    /// `challenges` in the statement whose trigger updates it, and its foreign-key check
    /// (a shared lock on the challenge) followed by the count trigger (an exclusive one) makes
    /// racing inserts deadlock; taking the exclusive lock up front queues racing joins on the
    /// row instead, as PostgreSQL's trigger does. A duplicate key means the user has a place
    /// already: it is reactivated only when it was cancelled. (MySQL reports a matched but
    /// unchanged upsert as one affected row, like an insert, so no upsert here.)
    async fn join_mysql(
        &self,
        challenge_id: i64,
        user_id: i64,
        joined_on: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let now_ms = now.as_millisecond();
        match retrying_deadlocks(|| self.try_join_mysql(challenge_id, user_id, joined_on, now_ms))
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.join_refusal(challenge_id, user_id, now).await?),
            Err(e) if is_capacity_refusal(&e) => {
                Err(self.join_refusal(challenge_id, user_id, now).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One attempt of [`Self::join_mysql`]: whether a place was taken.
    async fn try_join_mysql(
        &self,
        challenge_id: i64,
        user_id: i64,
        joined_on: &str,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.db().begin().await?;
        let open = sqlx::query(
            "SELECT 1 FROM challenges WHERE id = ? AND participant_count < capacity AND ends_at > ? FOR UPDATE",
        )
        .bind(challenge_id)
        .bind(now_ms)
        .fetch_optional(self.on(&mut tx))
        .await?
        .is_some();
        if !open {
            tx.rollback().await?;
            return Ok(false);
        }
        let inserted = sqlx::query(
            "INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) \
             VALUES (?, ?, 'ACTIVE', ?, ?, ?)",
        )
        .bind(challenge_id)
        .bind(user_id)
        .bind(now_ms)
        .bind(joined_on)
        .bind(now_ms)
        .execute(self.on(&mut tx))
        .await;
        let changed = match inserted {
            Ok(r) => r.rows_affected(),
            Err(e) if StoreError::is_unique_violation(&e) => {
                sqlx::query(
                    "UPDATE participants SET status = 'ACTIVE', joined_at = ?, joined_on = ?, updated_at = ? \
                     WHERE challenge_id = ? AND user_id = ? AND status = 'CANCELLED'",
                )
                .bind(now_ms)
                .bind(joined_on)
                .bind(now_ms)
                .bind(challenge_id)
                .bind(user_id)
                .execute(self.on(&mut tx))
                .await?
                .rows_affected()
            }
            Err(e) => return Err(e),
        };
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// MySQL's cancellation. MySQL cannot read `challenges` in the statement whose trigger
    /// updates it, so the challenge row is locked first and the place freed after, in one
    /// transaction (the lock also orders it against racing joins).
    async fn cancel_mysql(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let now_ms = now.as_millisecond();
        if retrying_deadlocks(|| self.try_cancel_mysql(challenge_id, user_id, now_ms)).await? {
            Ok(())
        } else {
            Err(self.cancel_refusal(challenge_id, user_id).await?)
        }
    }

    /// One attempt of [`Self::cancel_mysql`]: whether the place was freed.
    async fn try_cancel_mysql(
        &self,
        challenge_id: i64,
        user_id: i64,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.db().begin().await?;
        let open = sqlx::query(
            "SELECT 1 FROM challenges WHERE id = ? AND starts_at > ? AND creator_id <> ? FOR UPDATE",
        )
        .bind(challenge_id)
        .bind(now_ms)
        .bind(user_id)
        .fetch_optional(self.on(&mut tx))
        .await?
        .is_some();
        let cancelled = open
            && sqlx::query(
                "UPDATE participants SET status = 'CANCELLED', updated_at = ? \
                 WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'",
            )
            .bind(now_ms)
            .bind(challenge_id)
            .bind(user_id)
            .execute(self.on(&mut tx))
            .await?
            .rows_affected()
                == 1;
        if cancelled {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(cancelled)
    }

    /// Why a cancellation changed nothing.
    async fn cancel_refusal(&self, challenge_id: i64, user_id: i64) -> StoreResult<StoreError> {
        let sql = self.sql("SELECT creator_id, starts_at FROM challenges WHERE id = ?");
        let Some(row) = sqlx::query(&sql)
            .bind(challenge_id)
            .fetch_optional(self.db())
            .await?
        else {
            return Ok(StoreError::NotFound);
        };
        let sql = self.sql("SELECT 1 FROM participants WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'");
        let active = sqlx::query(&sql)
            .bind(challenge_id)
            .bind(user_id)
            .fetch_optional(self.db())
            .await?
            .is_some();
        Ok(StoreError::Conflict(if !active {
            Conflict::NotParticipant
        } else if row.try_get::<i64, _>("creator_id")? == user_id {
            Conflict::CreatorCannotCancel
        } else {
            Conflict::CancellationNotAllowed
        }))
    }

    /// Explains why a join's conditional update matched no row (reads only).
    async fn join_refusal(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<StoreError> {
        let sql = self.sql("SELECT ends_at FROM challenges WHERE id = ?");
        let Some(row) = sqlx::query(&sql)
            .bind(challenge_id)
            .fetch_optional(self.db())
            .await?
        else {
            return Ok(StoreError::NotFound);
        };
        if self.is_participant(challenge_id, user_id).await? {
            return Ok(StoreError::Conflict(Conflict::AlreadyJoined));
        }
        let ends_at: i64 = row.try_get("ends_at")?;
        Ok(StoreError::Conflict(if ends_at <= now.as_millisecond() {
            Conflict::ChallengeEnded
        } else {
            Conflict::ChallengeFull
        }))
    }
}

impl SqlStore {
    /// Reads challenge rows and gives each its tags, with one query for the whole page
    /// (never one per row).
    async fn challenges_from_rows(&self, rows: &[AnyRow]) -> StoreResult<Vec<ChallengeRecord>> {
        let mut records = rows
            .iter()
            .map(challenge_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.attach_tags(&mut records).await?;
        Ok(records)
    }

    /// Loads the tags of every record in one `WHERE challenge_id IN (…)` query.
    async fn attach_tags(&self, records: &mut [ChallengeRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; records.len()].join(", ");
        let sql = format!(
            "SELECT challenge_id, tag FROM challenge_tags WHERE challenge_id IN ({marks}) ORDER BY challenge_id, position"
        );
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql);
        for record in records.iter() {
            query = query.bind(record.id);
        }
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        for row in query.fetch_all(self.db()).await? {
            tags.entry(row.try_get("challenge_id")?)
                .or_default()
                .push(row.try_get("tag")?);
        }
        for record in records.iter_mut() {
            record.spec.tags = tags.remove(&record.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Replaces a challenge's tags inside the transaction that writes the challenge.
    async fn write_tags(
        &self,
        conn: &mut sqlx::AnyConnection,
        challenge_id: i64,
        tags: &[String],
        replace: bool,
    ) -> Result<(), sqlx::Error> {
        if replace {
            let sql = self.sql("DELETE FROM challenge_tags WHERE challenge_id = ?");
            sqlx::query(&sql)
                .bind(challenge_id)
                .execute(self.on(conn))
                .await?;
        }
        if tags.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?, ?, ?)"; tags.len()].join(", ");
        let sql = format!(
            "INSERT INTO challenge_tags (challenge_id, tag_key, tag, position) VALUES {rows}"
        );
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql);
        for (position, tag) in tags.iter().enumerate() {
            query = query
                .bind(challenge_id)
                .bind(ssgwan_domain::tag::tag_key(tag))
                .bind(tag.clone())
                .bind(position as i64);
        }
        query.execute(self.on(conn)).await?;
        Ok(())
    }

    /// Whether a challenge exists (to tell "nothing to do" from "no such challenge").
    async fn challenge_exists(&self, id: i64) -> StoreResult<bool> {
        let sql = self.sql("SELECT 1 FROM challenges WHERE id = ?");
        Ok(sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.db())
            .await?
            .is_some())
    }

    /// One attempt at adding (`add`) or removing a wish with its count, in one transaction:
    /// the count moves only when the row did, so it always equals the rows. On MySQL the
    /// challenge row is locked first (its foreign-key check takes a shared lock that the count
    /// update would otherwise upgrade, deadlocking racing wishes); PostgreSQL's key-share lock
    /// does not conflict with the count update, and SQLite has one writer at a time.
    /// `None`: the challenge does not exist.
    async fn try_change_wish(
        &self,
        user_id: i64,
        challenge_id: i64,
        add: bool,
        now_ms: i64,
    ) -> Result<Option<bool>, sqlx::Error> {
        let mut tx = self.db().begin().await?;
        if self.backend == Backend::MySql {
            let exists = sqlx::query("SELECT id FROM challenges WHERE id = ? FOR UPDATE")
                .bind(challenge_id)
                .fetch_optional(self.on(&mut tx))
                .await?
                .is_some();
            if !exists {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let sql = match (add, self.backend) {
            (true, Backend::MySql) => {
                "INSERT IGNORE INTO wishes (user_id, challenge_id, created_at) VALUES (?, ?, ?)"
            }
            (true, Backend::Sqlite | Backend::Postgres) => {
                "INSERT INTO wishes (user_id, challenge_id, created_at) SELECT ?, c.id, ? FROM challenges c WHERE c.id = ? \
                 ON CONFLICT (user_id, challenge_id) DO NOTHING"
            }
            (false, _) => "DELETE FROM wishes WHERE user_id = ? AND challenge_id = ?",
        };
        let sql = self.sql(sql);
        let mut query = sqlx::query(&sql).bind(user_id);
        query = match (add, self.backend) {
            (true, Backend::MySql) => query.bind(challenge_id).bind(now_ms),
            (true, _) => query.bind(now_ms).bind(challenge_id),
            (false, _) => query.bind(challenge_id),
        };
        let changed = query.execute(self.on(&mut tx)).await?.rows_affected() == 1;
        if !changed {
            tx.rollback().await?;
            return Ok(Some(false));
        }
        let sql = self.sql(if add {
            "UPDATE challenges SET wish_count = wish_count + 1 WHERE id = ?"
        } else {
            "UPDATE challenges SET wish_count = wish_count - 1 WHERE id = ?"
        });
        sqlx::query(&sql)
            .bind(challenge_id)
            .execute(self.on(&mut tx))
            .await?;
        tx.commit().await?;
        Ok(Some(true))
    }

    /// Adds or removes a wish, retrying deadlocks; `NotFound` when the challenge does not exist.
    async fn change_wish(
        &self,
        user_id: i64,
        challenge_id: i64,
        add: bool,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let now_ms = now.as_millisecond();
        match retrying_deadlocks(|| self.try_change_wish(user_id, challenge_id, add, now_ms)).await
        {
            Ok(Some(true)) => Ok(true),
            Ok(Some(false)) if self.backend == Backend::MySql => Ok(false),
            // Nothing changed: already (not) wished, or no such challenge.
            Ok(Some(false)) | Ok(None) => {
                if self.challenge_exists(challenge_id).await? {
                    Ok(false)
                } else {
                    Err(StoreError::NotFound)
                }
            }
            // The challenge was deleted while the wish was being written.
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

fn attendance_from_row(row: &AnyRow) -> StoreResult<AttendanceRecord> {
    let date: String = row.try_get("session_date")?;
    Ok(AttendanceRecord {
        challenge_id: row.try_get("challenge_id")?,
        date: parse_date(&date).ok_or_else(|| StoreError::Corrupt("session_date".into()))?,
        seconds: row.try_get("seconds")?,
        achieved_at: row
            .try_get::<Option<i64>, _>("achieved_at")?
            .map(ts)
            .transpose()?,
    })
}

const MESSAGE_SELECT: &str = "SELECT m.challenge_id, m.seq, m.user_id, u.nickname, m.body, m.client_id, m.created_at \
     FROM chat_messages m JOIN users u ON u.id = m.user_id";

fn message_from_row(row: &AnyRow) -> StoreResult<ChatMessage> {
    Ok(ChatMessage {
        room: row.try_get("challenge_id")?,
        id: row.try_get("seq")?,
        user_id: row.try_get("user_id")?,
        nickname: row.try_get("nickname")?,
        body: row.try_get("body")?,
        client_id: row.try_get("client_id")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// Whether the database refused a join because the challenge filled up in a race (the
/// participant-count trigger on PostgreSQL and MySQL, the CHECK constraint as a backstop).
/// How often a chat message is tried again after another took its number.
const MAX_CHAT_ATTEMPTS: u32 = 100;

/// A short random pause before retrying a write that lost a race, growing with the attempt
/// (up to 20 ms), so racing writers spread out instead of colliding again in lockstep.
async fn backoff(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let cap_micros = (attempt.min(20) * 1_000).max(1);
    tokio::time::sleep(Duration::from_micros(u64::from(nanos % cap_micros))).await;
}

/// How often a statement InnoDB rolled back as a deadlock victim is tried again.
const MAX_DEADLOCK_RETRIES: u32 = 50;

/// A transaction the database rolled back to break a deadlock or a serialization conflict
/// (SQLSTATE 40001, or PostgreSQL's 40P01): safe to run again.
fn is_deadlock(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// Runs `attempt` (one transaction) again, after a short random pause, while the database rolls
/// it back as a deadlock victim, up to [`MAX_DEADLOCK_RETRIES`] times; then its last error stands.
async fn retrying_deadlocks<T, Fut>(mut attempt: impl FnMut() -> Fut) -> Result<T, sqlx::Error>
where
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if is_deadlock(&e) && tries < MAX_DEADLOCK_RETRIES => {
                backoff(tries).await;
                tries += 1;
            }
            result => return result,
        }
    }
}

fn is_capacity_refusal(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.kind() == sqlx::error::ErrorKind::CheckViolation
                || db.message().contains("CHALLENGE_FULL")
        }
        _ => false,
    }
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

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Int(v) => query.bind(v),
            Bind::Text(v) => query.bind(v),
            Bind::OptInt(v) => query.bind(v),
            Bind::OptText(v) => query.bind(v),
        };
    }
    query
}

fn ts(millis: i64) -> StoreResult<Timestamp> {
    Timestamp::from_millisecond(millis).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        kakao_id: row.try_get("kakao_id")?,
        nickname: row.try_get("nickname")?,
        bio: row.try_get("bio")?,
        profile_image: row.try_get("profile_image")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

fn challenge_from_row(row: &AnyRow) -> StoreResult<ChallengeRecord> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("challenge {what}"));
    let text = |col: &str| row.try_get::<String, _>(col);
    let timezone_name = text("timezone")?;
    let schedule = Schedule {
        start_date: parse_date(&text("start_date")?).ok_or_else(|| corrupt("start_date"))?,
        end_date: parse_date(&text("end_date")?).ok_or_else(|| corrupt("end_date"))?,
        days: u8::try_from(row.try_get::<i64, _>("days_of_week")?)
            .ok()
            .and_then(DaySet::from_bits)
            .ok_or_else(|| corrupt("days_of_week"))?,
        session_start: parse_time_of_day(&text("session_start")?)
            .ok_or_else(|| corrupt("session_start"))?,
        session_end: parse_time_of_day(&text("session_end")?)
            .ok_or_else(|| corrupt("session_end"))?,
        timezone: TimeZone::get(&timezone_name).map_err(|_| corrupt("timezone"))?,
        timezone_name,
    };
    let spec = ChallengeSpec {
        title: text("title")?,
        description: text("description")?,
        category: Category::parse(&text("category")?).ok_or_else(|| corrupt("category"))?,
        thumbnail: row.try_get("thumbnail")?,
        capacity: row.try_get("capacity")?,
        schedule,
        min_minutes: row.try_get("min_minutes")?,
        success_rate: row.try_get("success_rate")?,
        // Filled in for the whole page by `SqlStore::attach_tags`.
        tags: Vec::new(),
    };
    Ok(ChallengeRecord {
        id: row.try_get("id")?,
        creator: UserSummary {
            id: row.try_get("creator_id")?,
            nickname: text("creator_nickname")?,
            profile_image: row.try_get("creator_image")?,
        },
        spec,
        participant_count: row.try_get("participant_count")?,
        joined: row.try_get::<Option<i64>, _>("viewer_id")?.is_some(),
        notice: row.try_get("notice")?,
        notice_updated_at: row
            .try_get::<Option<i64>, _>("notice_updated_at")?
            .map(ts)
            .transpose()?,
        wish_count: row.try_get("wish_count")?,
        wished: row.try_get::<Option<i64>, _>("viewer_wished_at")?.is_some(),
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// The bound values of a challenge definition, in the column order of INSERT and UPDATE.
fn spec_binds(spec: &ChallengeSpec) -> Vec<Bind> {
    let s = &spec.schedule;
    vec![
        Bind::Text(spec.title.clone()),
        Bind::Text(spec.description.clone()),
        Bind::Text(spec.search_text()),
        Bind::Text(spec.category.as_str().to_owned()),
        Bind::OptText(spec.thumbnail.clone()),
        Bind::Int(spec.capacity),
        Bind::Text(s.start_date.to_string()),
        Bind::Text(s.end_date.to_string()),
        Bind::Int(i64::from(s.days.bits())),
        Bind::Text(format_time_of_day(s.session_start)),
        Bind::Text(format_time_of_day(s.session_end)),
        Bind::Text(s.timezone_name.clone()),
        Bind::Int(spec.min_minutes),
        Bind::Int(spec.success_rate),
        Bind::Int(s.starts_at().as_millisecond()),
        Bind::Int(s.ends_at().as_millisecond()),
    ]
}

const SPEC_COLUMNS: &str = "title, description, search_text, category, thumbnail, capacity, start_date, end_date, days_of_week, \
     session_start, session_end, timezone, min_minutes, success_rate, starts_at, ends_at";

/// Escapes `%`, `_` and the escape character itself for `LIKE … ESCAPE '!'`.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(ch);
    }
    out.push('%');
    out
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

    async fn create_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User> {
        let mut conn = self.pool.acquire().await?;
        let sql = "INSERT INTO users (kakao_id, nickname, nickname_key, bio, profile_image, created_at, updated_at) VALUES (?, ?, ?, '', ?, ?, ?)";
        let binds = vec![
            Bind::OptInt(user.kakao_id),
            Bind::Text(user.nickname.clone()),
            Bind::Text(ssgwan_domain::user::nickname_key(&user.nickname)),
            Bind::OptText(user.profile_image.clone()),
            Bind::Int(now.as_millisecond()),
            Bind::Int(now.as_millisecond()),
        ];
        let id = match self.insert_returning_id(&mut conn, sql, binds).await {
            Ok(id) => id,
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::Conflict(Conflict::NicknameTaken));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(User {
            id,
            kakao_id: user.kakao_id,
            nickname: user.nickname,
            bio: String::new(),
            profile_image: user.profile_image,
            created_at: now,
        })
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        self.fetch_user("id", Bind::Int(id)).await
    }

    async fn user_by_nickname(&self, nickname: &str) -> StoreResult<Option<User>> {
        self.fetch_user(
            "nickname_key",
            Bind::Text(ssgwan_domain::user::nickname_key(nickname)),
        )
        .await
    }

    async fn user_by_kakao_id(&self, kakao_id: i64) -> StoreResult<Option<User>> {
        self.fetch_user("kakao_id", Bind::Int(kakao_id)).await
    }

    async fn update_user(&self, id: i64, update: UserUpdate, now: Timestamp) -> StoreResult<User> {
        let mut sets = vec!["updated_at = ?"];
        let mut binds = vec![Bind::Int(now.as_millisecond())];
        let mut clear_image = false;
        if let Some(nickname) = &update.nickname {
            sets.push("nickname = ?");
            sets.push("nickname_key = ?");
            binds.push(Bind::Text(nickname.clone()));
            binds.push(Bind::Text(ssgwan_domain::user::nickname_key(nickname)));
        }
        if let Some(bio) = &update.bio {
            sets.push("bio = ?");
            binds.push(Bind::Text(bio.clone()));
        }
        match &update.profile_image {
            Some(Some(image)) => {
                sets.push("profile_image = ?");
                binds.push(Bind::Text(image.clone()));
            }
            Some(None) => clear_image = true,
            None => {}
        }
        if clear_image {
            sets.push("profile_image = NULL");
        }
        binds.push(Bind::Int(id));
        let sql = format!("UPDATE users SET {} WHERE id = ?", sets.join(", "));
        let sql = self.sql(&sql);
        match bind_all(sqlx::query(&sql), binds).execute(self.db()).await {
            Ok(r) if r.rows_affected() == 0 => return Err(StoreError::NotFound),
            Ok(_) => {}
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::Conflict(Conflict::NicknameTaken));
            }
            Err(e) => return Err(e.into()),
        }
        self.user(id).await?.ok_or(StoreError::NotFound)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let sql = self.sql("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(token_hash.to_owned())
            .bind(user_id)
            .bind(now.as_millisecond())
            .bind(expires_at.as_millisecond())
            .execute(self.db())
            .await?;
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(User, Timestamp)>> {
        let sql = self.sql(
            "SELECT u.id, u.kakao_id, u.nickname, u.bio, u.profile_image, u.created_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ?",
        );
        let row = sqlx::query(&sql)
            .bind(token_hash.to_owned())
            .bind(now.as_millisecond())
            .fetch_optional(self.db())
            .await?;
        row.map(|r| Ok((user_from_row(&r)?, ts(r.try_get("expires_at")?)?)))
            .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let sql = self.sql("DELETE FROM sessions WHERE token_hash = ?");
        sqlx::query(&sql)
            .bind(token_hash.to_owned())
            .execute(self.db())
            .await?;
        Ok(())
    }

    async fn save_oauth_state(&self, state_hash: &str, expires_at: Timestamp) -> StoreResult<()> {
        // Expired states are swept on the way, so the table stays as small as the logins in flight.
        let sql = self.sql("DELETE FROM oauth_states WHERE expires_at < ?");
        sqlx::query(&sql)
            .bind(expires_at.as_millisecond() - 3_600_000)
            .execute(self.db())
            .await?;
        let sql = self.sql("INSERT INTO oauth_states (state_hash, expires_at) VALUES (?, ?)");
        sqlx::query(&sql)
            .bind(state_hash.to_owned())
            .bind(expires_at.as_millisecond())
            .execute(self.db())
            .await?;
        Ok(())
    }

    async fn take_oauth_state(&self, state_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let sql = self.sql("DELETE FROM oauth_states WHERE state_hash = ? AND expires_at > ?");
        let result = sqlx::query(&sql)
            .bind(state_hash.to_owned())
            .bind(now.as_millisecond())
            .execute(self.db())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn create_challenge(
        &self,
        creator_id: i64,
        spec: &ChallengeSpec,
        creator_joined_on: Date,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.db().begin().await?;
        let sql = format!(
            "INSERT INTO challenges (creator_id, participant_count, created_at, updated_at, {SPEC_COLUMNS}) \
             VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let mut binds = vec![
            Bind::Int(creator_id),
            Bind::Int(now.as_millisecond()),
            Bind::Int(now.as_millisecond()),
        ];
        binds.extend(spec_binds(spec));
        let id = self.insert_returning_id(&mut tx, &sql, binds).await?;
        let sql = self.sql("INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) VALUES (?, ?, 'ACTIVE', ?, ?, ?)");
        sqlx::query(&sql)
            .bind(id)
            .bind(creator_id)
            .bind(now.as_millisecond())
            .bind(creator_joined_on.to_string())
            .bind(now.as_millisecond())
            .execute(self.on(&mut tx))
            .await?;
        self.write_tags(&mut tx, id, &spec.tags, false).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn challenge(
        &self,
        id: i64,
        viewer: Option<i64>,
    ) -> StoreResult<Option<ChallengeRecord>> {
        let sql = format!("{CHALLENGE_SELECT} WHERE c.id = ?");
        let sql = self.sql(&sql);
        let mut binds = viewer_binds(viewer).to_vec();
        binds.push(Bind::Int(id));
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.db())
            .await?;
        Ok(self.challenges_from_rows(&rows).await?.pop())
    }

    async fn update_challenge(
        &self,
        id: i64,
        spec: &ChallengeSpec,
        now: Timestamp,
    ) -> StoreResult<()> {
        let assignments: Vec<String> = SPEC_COLUMNS
            .split(", ")
            .map(|c| format!("{c} = ?"))
            .collect();
        let sql = format!(
            "UPDATE challenges SET {}, updated_at = ? WHERE id = ? AND starts_at > ? AND participant_count <= ?",
            assignments.join(", ")
        );
        let sql = self.sql(&sql);
        let mut binds = spec_binds(spec);
        binds.extend([
            Bind::Int(now.as_millisecond()),
            Bind::Int(id),
            Bind::Int(now.as_millisecond()),
            Bind::Int(spec.capacity),
        ]);
        // The definition and its tags change together or not at all.
        let mut tx = self.db().begin().await?;
        let result = bind_all(sqlx::query(&sql), binds)
            .execute(self.on(&mut tx))
            .await?;
        if result.rows_affected() == 1 {
            self.write_tags(&mut tx, id, &spec.tags, true).await?;
            tx.commit().await?;
            return Ok(());
        }
        tx.rollback().await?;
        let sql = self.sql("SELECT starts_at FROM challenges WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.db())
            .await?
            .ok_or(StoreError::NotFound)?;
        let starts_at: i64 = row.try_get("starts_at")?;
        Err(StoreError::Conflict(if starts_at <= now.as_millisecond() {
            Conflict::AlreadyStarted
        } else {
            Conflict::CapacityBelowParticipants
        }))
    }

    async fn delete_challenge(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        // Participants and attendance go with it (ON DELETE CASCADE).
        let sql = self.sql("DELETE FROM challenges WHERE id = ? AND starts_at > ?");
        if sqlx::query(&sql)
            .bind(id)
            .bind(now.as_millisecond())
            .execute(self.db())
            .await?
            .rows_affected()
            == 1
        {
            return Ok(());
        }
        let sql = self.sql("SELECT 1 FROM challenges WHERE id = ?");
        match sqlx::query(&sql).bind(id).fetch_optional(self.db()).await? {
            Some(_) => Err(StoreError::Conflict(Conflict::AlreadyStarted)),
            None => Err(StoreError::NotFound),
        }
    }

    async fn list_challenges(
        &self,
        query: &ChallengeQuery,
        viewer: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Vec<ChallengeRecord>> {
        let now_ms = now.as_millisecond();
        let mut conditions: Vec<&str> = Vec::new();
        let mut binds = viewer_binds(viewer).to_vec();
        if let Some(text) = &query.text {
            conditions.push("c.search_text LIKE ? ESCAPE '!'");
            binds.push(Bind::Text(like_pattern(text)));
        }
        if let Some(tag) = &query.tag {
            conditions.push(
                "EXISTS (SELECT 1 FROM challenge_tags t WHERE t.challenge_id = c.id AND t.tag_key = ?)",
            );
            binds.push(Bind::Text(ssgwan_domain::tag::tag_key(tag)));
        }
        if let Some(category) = query.category {
            conditions.push("c.category = ?");
            binds.push(Bind::Text(category.as_str().to_owned()));
        }
        match query.status {
            Some(ChallengeStatus::Recruiting) => {
                conditions.push("c.starts_at > ?");
                binds.push(Bind::Int(now_ms));
            }
            Some(ChallengeStatus::InProgress) => {
                conditions.push("c.starts_at <= ? AND c.ends_at > ?");
                binds.extend([Bind::Int(now_ms), Bind::Int(now_ms)]);
            }
            Some(ChallengeStatus::Ended) => {
                conditions.push("c.ends_at <= ?");
                binds.push(Bind::Int(now_ms));
            }
            None if query.sort == ChallengeSort::StartingSoon => {
                conditions.push("c.starts_at > ?");
                binds.push(Bind::Int(now_ms));
            }
            None => {}
        }
        let order = match query.sort {
            ChallengeSort::New => "c.id DESC",
            ChallengeSort::Popular => "c.popularity DESC, c.id DESC",
            ChallengeSort::StartingSoon => "c.starts_at ASC, c.id ASC",
        };
        if let Some(ChallengeCursor { key, id }) = query.after {
            match query.sort {
                ChallengeSort::New => {
                    conditions.push("c.id < ?");
                    binds.push(Bind::Int(id));
                }
                ChallengeSort::Popular => {
                    conditions.push("(c.popularity < ? OR (c.popularity = ? AND c.id < ?))");
                    binds.extend([Bind::Int(key), Bind::Int(key), Bind::Int(id)]);
                }
                ChallengeSort::StartingSoon => {
                    conditions.push("(c.starts_at > ? OR (c.starts_at = ? AND c.id > ?))");
                    binds.extend([Bind::Int(key), Bind::Int(key), Bind::Int(id)]);
                }
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        binds.push(Bind::Int(query.limit));
        let sql = format!("{CHALLENGE_SELECT}{filter} ORDER BY {order} LIMIT ?");
        let sql = self.sql(&sql);
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.db())
            .await?;
        self.challenges_from_rows(&rows).await
    }

    async fn my_challenges(
        &self,
        user_id: i64,
        state: MyChallengesState,
    ) -> StoreResult<Vec<ChallengeRecord>> {
        let filter = match state {
            MyChallengesState::Active => "p.status = 'ACTIVE'",
            MyChallengesState::Completed => "p.status = 'COMPLETED'",
            MyChallengesState::Created => "c.creator_id = ?",
        };
        let sql = format!(
            "{CHALLENGE_SELECT} WHERE {filter} ORDER BY c.starts_at DESC, c.id DESC LIMIT 500"
        );
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql).bind(user_id).bind(user_id);
        if state == MyChallengesState::Created {
            query = query.bind(user_id);
        }
        let rows = query.fetch_all(self.db()).await?;
        self.challenges_from_rows(&rows).await
    }

    async fn set_notice(&self, id: i64, notice: Option<&str>, now: Timestamp) -> StoreResult<()> {
        let sql = self.sql("UPDATE challenges SET notice = ?, notice_updated_at = ? WHERE id = ?");
        let result = sqlx::query(&sql)
            .bind(notice.map(str::to_owned))
            .bind(now.as_millisecond())
            .bind(id)
            .execute(self.db())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn popular_tags(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<PopularTag>> {
        let sql = self.sql(
            "SELECT t.tag_key, MIN(t.tag) AS tag, COUNT(*) AS uses FROM challenge_tags t \
             JOIN challenges c ON c.id = t.challenge_id WHERE c.ends_at > ? \
             GROUP BY t.tag_key ORDER BY uses DESC, t.tag_key ASC LIMIT ?",
        );
        let rows = sqlx::query(&sql)
            .bind(now.as_millisecond())
            .bind(limit)
            .fetch_all(self.db())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PopularTag {
                    tag: r.try_get("tag")?,
                    count: r.try_get("uses")?,
                })
            })
            .collect()
    }

    async fn wish(&self, user_id: i64, challenge_id: i64, now: Timestamp) -> StoreResult<bool> {
        self.change_wish(user_id, challenge_id, true, now).await
    }

    async fn unwish(&self, user_id: i64, challenge_id: i64) -> StoreResult<bool> {
        self.change_wish(user_id, challenge_id, false, Timestamp::UNIX_EPOCH)
            .await
    }

    async fn wished_challenges(
        &self,
        user_id: i64,
        after: Option<ChallengeCursor>,
        limit: i64,
    ) -> StoreResult<Vec<WishedChallenge>> {
        let mut binds = viewer_binds(Some(user_id)).to_vec();
        let mut filter = "w.user_id IS NOT NULL".to_owned();
        if let Some(ChallengeCursor { key, id }) = after {
            filter.push_str(" AND (w.created_at < ? OR (w.created_at = ? AND c.id < ?))");
            binds.extend([Bind::Int(key), Bind::Int(key), Bind::Int(id)]);
        }
        binds.push(Bind::Int(limit));
        let sql = format!(
            "{CHALLENGE_SELECT} WHERE {filter} ORDER BY w.created_at DESC, c.id DESC LIMIT ?"
        );
        let sql = self.sql(&sql);
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.db())
            .await?;
        let challenges = self.challenges_from_rows(&rows).await?;
        rows.iter()
            .zip(challenges)
            .map(|(row, challenge)| {
                Ok(WishedChallenge {
                    challenge,
                    wished_at: ts(row.try_get("viewer_wished_at")?)?,
                })
            })
            .collect()
    }

    async fn join_challenge(
        &self,
        challenge_id: i64,
        user_id: i64,
        joined_on: Date,
        now: Timestamp,
    ) -> StoreResult<()> {
        let now_ms = now.as_millisecond();
        // One statement: a place is inserted (or a cancelled one reactivated) only while the
        // challenge has room and has not ended; the participant-count trigger counts it. On
        // SQLite the statement holds the write lock from its start, so its WHERE is exact; on PostgreSQL and MySQL the trigger
        // re-checks capacity under the row lock and refuses the loser of a race. The primary
        // key refuses a second place for the same user.
        let insert = "INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) \
             SELECT c.id, ?, 'ACTIVE', ?, ?, ? FROM challenges c WHERE c.id = ? AND c.participant_count < c.capacity AND c.ends_at > ?";
        let joined_on = joined_on.to_string();
        let result = match self.backend {
            Backend::Sqlite | Backend::Postgres => {
                let sql = format!(
                    "{insert} ON CONFLICT (challenge_id, user_id) DO UPDATE SET status = 'ACTIVE', joined_at = excluded.joined_at, \
                     joined_on = excluded.joined_on, updated_at = excluded.updated_at WHERE participants.status = 'CANCELLED'"
                );
                let sql = self.sql(&sql);
                sqlx::query(&sql)
                    .bind(user_id)
                    .bind(now_ms)
                    .bind(&joined_on)
                    .bind(now_ms)
                    .bind(challenge_id)
                    .bind(now_ms)
                    .execute(self.db())
                    .await
            }
            Backend::MySql => {
                return self
                    .join_mysql(challenge_id, user_id, &joined_on, now)
                    .await;
            }
        };
        match result {
            Ok(r) if r.rows_affected() > 0 => Ok(()),
            Ok(_) => Err(self.join_refusal(challenge_id, user_id, now).await?),
            Err(e) if is_capacity_refusal(&e) => Err(StoreError::Conflict(Conflict::ChallengeFull)),
            Err(e) => Err(e.into()),
        }
    }

    async fn cancel_participation(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let now_ms = now.as_millisecond();
        if self.backend == Backend::MySql {
            return self.cancel_mysql(challenge_id, user_id, now).await;
        }
        // One statement; the participant-count trigger frees the place.
        let sql = self.sql(
            "UPDATE participants SET status = 'CANCELLED', updated_at = ? WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE' \
             AND EXISTS (SELECT 1 FROM challenges c WHERE c.id = ? AND c.starts_at > ? AND c.creator_id <> ?)",
        );
        let cancelled = sqlx::query(&sql)
            .bind(now_ms)
            .bind(challenge_id)
            .bind(user_id)
            .bind(challenge_id)
            .bind(now_ms)
            .bind(user_id)
            .execute(self.db())
            .await?
            .rows_affected()
            == 1;
        if cancelled {
            return Ok(());
        }
        Err(self.cancel_refusal(challenge_id, user_id).await?)
    }

    async fn participants(&self, challenge_id: i64) -> StoreResult<Vec<ParticipantRecord>> {
        let sql = self.sql(
            "SELECT p.user_id, u.nickname, u.profile_image, p.status, p.joined_at, p.joined_on, \
             (SELECT COUNT(*) FROM attendance a WHERE a.challenge_id = p.challenge_id AND a.user_id = p.user_id AND a.achieved_at IS NOT NULL) AS achieved \
             FROM participants p JOIN users u ON u.id = p.user_id \
             WHERE p.challenge_id = ? AND p.status <> 'CANCELLED' ORDER BY p.joined_at, p.user_id",
        );
        let rows = sqlx::query(&sql)
            .bind(challenge_id)
            .fetch_all(self.db())
            .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let joined_on: String = row.try_get("joined_on")?;
                Ok(ParticipantRecord {
                    user: UserSummary {
                        id: row.try_get("user_id")?,
                        nickname: row.try_get("nickname")?,
                        profile_image: row.try_get("profile_image")?,
                    },
                    status: ParticipantStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt("participant status".into()))?,
                    joined_at: ts(row.try_get("joined_at")?)?,
                    joined_on: parse_date(&joined_on)
                        .ok_or_else(|| StoreError::Corrupt("participant joined_on".into()))?,
                    achieved_sessions: row.try_get("achieved")?,
                })
            })
            .collect()
    }

    async fn is_participant(&self, challenge_id: i64, user_id: i64) -> StoreResult<bool> {
        let sql = self.sql("SELECT 1 FROM participants WHERE challenge_id = ? AND user_id = ? AND status <> 'CANCELLED'");
        Ok(sqlx::query(&sql)
            .bind(challenge_id)
            .bind(user_id)
            .fetch_optional(self.db())
            .await?
            .is_some())
    }

    async fn membership(&self, challenge_id: i64, user_id: i64) -> StoreResult<Option<Membership>> {
        let sql = self.sql(
            "SELECT status, joined_at FROM participants WHERE challenge_id = ? AND user_id = ?",
        );
        let Some(row) = sqlx::query(&sql)
            .bind(challenge_id)
            .bind(user_id)
            .fetch_optional(self.db())
            .await?
        else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        Ok(Some(Membership {
            status: ParticipantStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt("participant status".into()))?,
            joined_at: ts(row.try_get("joined_at")?)?,
        }))
    }

    async fn post_message(
        &self,
        challenge_id: i64,
        user_id: i64,
        client_id: &str,
        body: &str,
        now: Timestamp,
    ) -> StoreResult<(ChatMessage, bool)> {
        // The next number is taken in the INSERT itself. On SQLite the write lock makes it
        // exact; elsewhere two racing messages may pick the same number, and the loser, refused
        // by the primary key, simply tries again.
        let insert = self.sql(
            "INSERT INTO chat_messages (challenge_id, seq, user_id, client_id, body, created_at) \
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM chat_messages WHERE challenge_id = ?",
        );
        for attempt in 0..MAX_CHAT_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let result = sqlx::query(&insert)
                .bind(challenge_id)
                .bind(user_id)
                .bind(client_id.to_owned())
                .bind(body.to_owned())
                .bind(now.as_millisecond())
                .bind(challenge_id)
                .execute(self.db())
                .await;
            let fresh = match result {
                Ok(_) => true,
                Err(e) if StoreError::is_unique_violation(&e) => false,
                Err(e) if is_deadlock(&e) => continue,
                Err(e) => return Err(e.into()),
            };
            if let Some(message) = self
                .message_by_client_id(challenge_id, user_id, client_id)
                .await?
            {
                return Ok((message, fresh));
            }
        }
        Err(StoreError::Corrupt(format!(
            "could not number a chat message after {MAX_CHAT_ATTEMPTS} attempts"
        )))
    }

    async fn messages_after(
        &self,
        challenge_id: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.challenge_id = ? AND m.seq > ? ORDER BY m.seq DESC LIMIT ?"
        );
        let rows = sqlx::query(&self.sql(&sql))
            .bind(challenge_id)
            .bind(after)
            .bind(limit)
            .fetch_all(self.db())
            .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn messages_before(
        &self,
        challenge_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.challenge_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
        );
        let rows = sqlx::query(&self.sql(&sql))
            .bind(challenge_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.db())
            .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn attendance_day(
        &self,
        challenge_id: i64,
        user_id: i64,
        date: Date,
    ) -> StoreResult<AttendanceDay> {
        let sql = self.sql("SELECT seconds, achieved_at FROM attendance WHERE challenge_id = ? AND user_id = ? AND session_date = ?");
        let row = sqlx::query(&sql)
            .bind(challenge_id)
            .bind(user_id)
            .bind(date.to_string())
            .fetch_optional(self.db())
            .await?;
        Ok(match row {
            Some(row) => AttendanceDay {
                seconds: row.try_get("seconds")?,
                achieved: row.try_get::<Option<i64>, _>("achieved_at")?.is_some(),
            },
            None => AttendanceDay::default(),
        })
    }

    async fn add_attendance(
        &self,
        challenge_id: i64,
        user_id: i64,
        date: Date,
        seconds: i64,
        achieve_at_seconds: i64,
        now: Timestamp,
    ) -> StoreResult<AttendanceUpdate> {
        let now_ms = now.as_millisecond();
        let date = date.to_string();
        // 1. Add the seconds (insert or accumulate: one statement, no lost update).
        let upsert = match self.backend {
            Backend::Sqlite | Backend::Postgres => {
                "ON CONFLICT (challenge_id, user_id, session_date) DO UPDATE SET \
                 seconds = attendance.seconds + excluded.seconds, updated_at = excluded.updated_at"
            }
            Backend::MySql => {
                "ON DUPLICATE KEY UPDATE seconds = seconds + VALUES(seconds), updated_at = VALUES(updated_at)"
            }
        };
        let sql = format!(
            "INSERT INTO attendance (challenge_id, user_id, session_date, seconds, achieved_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?) {upsert}"
        );
        sqlx::query(&self.sql(&sql))
            .bind(challenge_id)
            .bind(user_id)
            .bind(&date)
            .bind(seconds)
            .bind(now_ms)
            .execute(self.db())
            .await?;
        // 2. Mark it achieved: a conditional update that changes the row for exactly one caller,
        //    however many add time concurrently on however many nodes.
        let achieved = sqlx::query(&self.sql(
            "UPDATE attendance SET achieved_at = ? WHERE challenge_id = ? AND user_id = ? AND session_date = ? \
             AND achieved_at IS NULL AND seconds >= ?",
        ))
        .bind(now_ms)
        .bind(challenge_id)
        .bind(user_id)
        .bind(&date)
        .bind(achieve_at_seconds)
        .execute(self.db())
        .await?;
        let row = sqlx::query(&self.sql(
            "SELECT seconds, achieved_at FROM attendance WHERE challenge_id = ? AND user_id = ? AND session_date = ?",
        ))
        .bind(challenge_id)
        .bind(user_id)
        .bind(&date)
        .fetch_one(self.db())
        .await?;
        Ok(AttendanceUpdate {
            seconds: row.try_get("seconds")?,
            achieved: row.try_get::<Option<i64>, _>("achieved_at")?.is_some(),
            newly_achieved: achieved.rows_affected() == 1,
        })
    }

    async fn unfinalized_ended(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<i64>> {
        let sql = self.sql("SELECT id FROM challenges WHERE finalized_at IS NULL AND ends_at <= ? ORDER BY ends_at, id LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(now.as_millisecond())
            .bind(limit)
            .fetch_all(self.db())
            .await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from))
            .collect()
    }

    async fn finalize_participant(
        &self,
        challenge_id: i64,
        user_id: i64,
        status: ParticipantStatus,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = self.sql("UPDATE participants SET status = ?, updated_at = ? WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'");
        let result = sqlx::query(&sql)
            .bind(status.as_str().to_owned())
            .bind(now.as_millisecond())
            .bind(challenge_id)
            .bind(user_id)
            .execute(self.db())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn mark_finalized(&self, challenge_id: i64, now: Timestamp) -> StoreResult<()> {
        let sql = self
            .sql("UPDATE challenges SET finalized_at = ? WHERE id = ? AND finalized_at IS NULL");
        sqlx::query(&sql)
            .bind(now.as_millisecond())
            .bind(challenge_id)
            .execute(self.db())
            .await?;
        Ok(())
    }

    async fn record_score(
        &self,
        user_id: i64,
        challenge_id: i64,
        kind: ScoreKind,
        session_date: Option<Date>,
        points: i64,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let sql = match self.backend {
            Backend::MySql => {
                "INSERT IGNORE INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            }
        };
        let result = sqlx::query(&self.sql(sql))
            .bind(user_id)
            .bind(challenge_id)
            .bind(kind.as_str().to_owned())
            .bind(session_date.map(|d| d.to_string()).unwrap_or_default())
            .bind(points)
            .bind(at.as_millisecond())
            .execute(self.db())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn reconcile_scores(&self) -> StoreResult<u64> {
        let sessions = format!(
            "INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) \
             SELECT a.user_id, a.challenge_id, 'SESSION', a.session_date, {}, a.achieved_at FROM attendance a \
             WHERE a.achieved_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM score_ledger s WHERE s.user_id = a.user_id \
             AND s.challenge_id = a.challenge_id AND s.kind = 'SESSION' AND s.session_date = a.session_date)",
            ssgwan_domain::stats::SESSION_POINTS
        );
        let completions = format!(
            "INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) \
             SELECT p.user_id, p.challenge_id, 'COMPLETION', '', {}, p.updated_at FROM participants p \
             WHERE p.status = 'COMPLETED' AND NOT EXISTS (SELECT 1 FROM score_ledger s WHERE s.user_id = p.user_id \
             AND s.challenge_id = p.challenge_id AND s.kind = 'COMPLETION')",
            ssgwan_domain::stats::COMPLETION_POINTS
        );
        let mut added = 0;
        for sql in [sessions, completions] {
            added += sqlx::query(&sql).execute(self.db()).await?.rows_affected();
        }
        Ok(added)
    }

    async fn score_totals(&self, since: Option<Timestamp>) -> StoreResult<Vec<ScoreTotal>> {
        // SUM is NUMERIC on PostgreSQL and DECIMAL on MySQL: cast back to a 64-bit integer.
        let int = |expr: &str| match self.backend {
            Backend::MySql => format!("CAST({expr} AS SIGNED)"),
            Backend::Sqlite | Backend::Postgres => format!("CAST({expr} AS BIGINT)"),
        };
        let sql = format!(
            "SELECT user_id, {} AS score, {} AS completed, MAX(created_at) AS reached_at FROM score_ledger WHERE created_at >= ? GROUP BY user_id",
            int("SUM(points)"),
            int("SUM(CASE WHEN kind = 'COMPLETION' THEN 1 ELSE 0 END)")
        );
        let rows = sqlx::query(&self.sql(&sql))
            .bind(since.map_or(i64::MIN, |t| t.as_millisecond()))
            .fetch_all(self.db())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ScoreTotal {
                    user_id: r.try_get("user_id")?,
                    score: r.try_get("score")?,
                    completed: r.try_get("completed")?,
                    reached_at: r.try_get("reached_at")?,
                })
            })
            .collect()
    }

    async fn score_activity(
        &self,
        users: &[i64],
        bounds: &[Timestamp],
    ) -> StoreResult<Vec<ScoreActivity>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        // One grouped query: the all-time sum and one conditional sum per span, so a page of
        // any size costs one round trip and returns one row per user.
        let int = |expr: &str| match self.backend {
            Backend::MySql => format!("CAST({expr} AS SIGNED)"),
            Backend::Sqlite | Backend::Postgres => format!("CAST({expr} AS BIGINT)"),
        };
        let spans = bounds.len().saturating_sub(1);
        let mut columns = vec![format!("{} AS total", int("SUM(points)"))];
        let mut binds = Vec::with_capacity(spans * 2 + users.len());
        for (i, span) in bounds.windows(2).enumerate() {
            columns.push(format!(
                "{} AS span{i}",
                int("SUM(CASE WHEN created_at >= ? AND created_at < ? THEN points ELSE 0 END)")
            ));
            binds.extend([
                Bind::Int(span[0].as_millisecond()),
                Bind::Int(span[1].as_millisecond()),
            ]);
        }
        binds.extend(users.iter().map(|id| Bind::Int(*id)));
        let sql = format!(
            "SELECT user_id, {} FROM score_ledger WHERE user_id IN ({}) GROUP BY user_id",
            columns.join(", "),
            vec!["?"; users.len()].join(", ")
        );
        let sql = self.sql(&sql);
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.db())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ScoreActivity {
                    user_id: r.try_get("user_id")?,
                    total: r.try_get("total")?,
                    spans: (0..spans)
                        .map(|i| r.try_get::<i64, _>(format!("span{i}").as_str()))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect()
    }

    async fn users(&self, ids: &[i64]) -> StoreResult<Vec<UserSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!("SELECT id, nickname, profile_image FROM users WHERE id IN ({marks})");
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(self.db()).await?;
        rows.iter()
            .map(|r| {
                Ok(UserSummary {
                    id: r.try_get("id")?,
                    nickname: r.try_get("nickname")?,
                    profile_image: r.try_get("profile_image")?,
                })
            })
            .collect()
    }

    async fn participations(&self, user_id: i64) -> StoreResult<Vec<Participation>> {
        let sql = format!("{CHALLENGE_SELECT} WHERE p.user_id IS NOT NULL ORDER BY c.id");
        let rows = sqlx::query(&self.sql(&sql))
            .bind(user_id)
            .bind(user_id)
            .fetch_all(self.db())
            .await?;
        // The select already carries the user's own participant row: no query per challenge.
        let challenges = self.challenges_from_rows(&rows).await?;
        rows.iter()
            .zip(challenges)
            .map(|(row, challenge)| {
                let status: String = row.try_get("viewer_status")?;
                Ok(Participation {
                    challenge,
                    status: ParticipantStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt("participant status".into()))?,
                    joined_at: ts(row.try_get("viewer_joined_at")?)?,
                })
            })
            .collect()
    }

    async fn user_attendance(
        &self,
        user_id: i64,
        from: Date,
        until: Date,
    ) -> StoreResult<Vec<AttendanceRecord>> {
        let sql = self.sql("SELECT challenge_id, session_date, seconds, achieved_at FROM attendance WHERE user_id = ? AND session_date >= ? AND session_date <= ?");
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(from.to_string())
            .bind(until.to_string())
            .fetch_all(self.db())
            .await?;
        rows.iter().map(attendance_from_row).collect()
    }

    async fn achieved_sessions(&self, user_id: i64) -> StoreResult<Vec<AttendanceRecord>> {
        let sql = self.sql("SELECT challenge_id, session_date, seconds, achieved_at FROM attendance WHERE user_id = ? AND achieved_at IS NOT NULL");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(self.db()).await?;
        rows.iter().map(attendance_from_row).collect()
    }

    async fn challenge_achievements(&self, challenge_id: i64) -> StoreResult<Vec<(Date, i64)>> {
        let sql = self.sql("SELECT session_date, COUNT(*) AS achieved FROM attendance WHERE challenge_id = ? AND achieved_at IS NOT NULL GROUP BY session_date ORDER BY session_date");
        let rows = sqlx::query(&sql)
            .bind(challenge_id)
            .fetch_all(self.db())
            .await?;
        rows.iter()
            .map(|r| {
                let date: String = r.try_get("session_date")?;
                Ok((
                    parse_date(&date).ok_or_else(|| StoreError::Corrupt("session_date".into()))?,
                    r.try_get("achieved")?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("100%_!"), "%100!%!_!!%");
    }

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
