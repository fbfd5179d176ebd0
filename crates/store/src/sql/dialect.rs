//! What differs between the three SQL dialects, in one place: placeholders, reading a new
//! row's id, integer sums, `LIKE` patterns, and how each database says no.

use std::borrow::Cow;

use sqlx::{Any, Executor, Row, any::AnyRow};

use super::{Backend, SqlStore};
use crate::StoreResult;

/// A value bound to a placeholder in a query assembled at run time.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

pub(super) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `binds` to `query`'s placeholders, in order.
pub(super) fn bind_all(mut query: Query<'_>, binds: Vec<Bind>) -> Query<'_> {
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

/// Ends a transaction: commits it when `keep`, rolls it back otherwise; returns `keep`.
pub(super) async fn settle(
    tx: sqlx::Transaction<'_, sqlx::Any>,
    keep: bool,
) -> Result<bool, sqlx::Error> {
    if keep {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(keep)
}

/// `?, ?, …`: one placeholder per value of an `IN (…)` list.
pub(super) fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// Escapes `%`, `_` and the escape character itself for `LIKE … ESCAPE '!'`.
pub(super) fn like_pattern(text: &str) -> String {
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

impl SqlStore {
    /// Runs one statement with `binds` on `on` (the pool, [`Self::db`], or a connection,
    /// [`Self::on`]): how many rows it changed.
    pub(super) async fn execute<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<u64, sqlx::Error> {
        let sql = self.sql(sql);
        let result = bind_all(sqlx::query(&sql), binds).execute(on).await?;
        Ok(result.rows_affected())
    }

    /// Runs one query with `binds` on `on`: all its rows.
    pub(super) async fn fetch_all<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let sql = self.sql(sql);
        bind_all(sqlx::query(&sql), binds).fetch_all(on).await
    }

    /// Runs one query with `binds` on the pool and reads each row with `each`.
    pub(super) async fn fetch_map<T>(
        &self,
        sql: &str,
        binds: Vec<Bind>,
        each: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let rows = self.fetch_all(self.db(), sql, binds).await?;
        rows.iter().map(each).collect()
    }

    /// Runs one query with `binds` on `on`: its first row, if any.
    pub(super) async fn fetch_optional<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        let sql = self.sql(sql);
        bind_all(sqlx::query(&sql), binds).fetch_optional(on).await
    }

    /// Whether the query with `binds` finds a row on `on`.
    pub(super) async fn exists<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<bool, sqlx::Error> {
        Ok(self.fetch_optional(on, sql, binds).await?.is_some())
    }

    /// Rewrites `?` placeholders to `$1, $2, …` on PostgreSQL. Our SQL never has a `?` inside
    /// a string literal, so a plain scan is exact.
    pub(super) fn sql<'a>(&self, text: &'a str) -> Cow<'a, str> {
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

    /// A challenge's tags in order as one comma-separated text (tags never hold a comma), for
    /// the challenge `c` of a query: `NULL` when it has none.
    pub(super) fn tag_list(&self) -> &'static str {
        match self.backend {
            // SQLite has `string_agg` and ordered aggregates since 3.44.
            Backend::Sqlite | Backend::Postgres => {
                "(SELECT string_agg(t.tag, ',' ORDER BY t.position) FROM challenge_tags t WHERE t.challenge_id = c.id)"
            }
            // As a VARCHAR (at most 5 tags of 20 characters and 4 commas): sqlx's Any driver
            // reads MySQL's TEXT, which GROUP_CONCAT answers, as a BLOB.
            Backend::MySql => {
                "CAST((SELECT GROUP_CONCAT(t.tag ORDER BY t.position SEPARATOR ',') FROM challenge_tags t WHERE t.challenge_id = c.id) AS CHAR(200))"
            }
        }
    }

    /// `expr` (a SUM) as a 64-bit integer: SUM is NUMERIC on PostgreSQL and DECIMAL on MySQL.
    pub(super) fn int_sum(&self, expr: &str) -> String {
        match self.backend {
            Backend::MySql => format!("CAST({expr} AS SIGNED)"),
            Backend::Sqlite | Backend::Postgres => format!("CAST({expr} AS BIGINT)"),
        }
    }

    /// Runs an INSERT and returns the new row's generated `id`.
    pub(super) async fn insert_returning_id(
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
}

/// Whether a foreign key refused the write (the row it points at is gone).
pub(super) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

/// Whether the database refused a join because the challenge filled up in a race (the
/// participant-count trigger on PostgreSQL and MySQL, the CHECK constraint as a backstop).
pub(super) fn is_capacity_refusal(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.kind() == sqlx::error::ErrorKind::CheckViolation
                || db.message().contains("CHALLENGE_FULL")
        }
        _ => false,
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
    fn placeholders_are_comma_separated() {
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(placeholders(1), "?");
    }
}
