//! Upload records, the daily upload quota, the sweep's reads and deletes, job claims, and the
//! ownership check every image reference passes through.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;
use ssgwan_domain::upload::{FILES_PATH, UploadQuota, UploadUsage, key_of};

use super::{Backend, SqlStore, dialect::Bind};
use crate::{Conflict, StoreError, StoreResult, UploadStore};

impl SqlStore {
    /// Takes the write lock on the user's row inside `conn`'s transaction: counts taken after
    /// it (uploads today, challenges created today) stay exact until the transaction ends,
    /// whatever other nodes do (an UPDATE that changes nothing still locks the row on
    /// PostgreSQL and InnoDB, and takes SQLite's write lock).
    pub(super) async fn lock_user(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
    ) -> Result<(), sqlx::Error> {
        self.execute(
            self.on(conn),
            "UPDATE users SET updated_at = updated_at WHERE id = ?",
            vec![Bind::Int(user_id)],
        )
        .await?;
        Ok(())
    }

    /// Checks that `reference`, when it is an upload path, names one of `user_id`'s uploads, and
    /// marks the upload used at `now` (so the sweep leaves it alone from here on); references
    /// that are not upload paths (Kakao's picture) pass as they are. False: not the user's.
    /// Runs inside the transaction that stores the reference: the sweep's delete of the record
    /// and this update take the same row lock, so a reference is never stored to a record the
    /// sweep removed.
    pub(super) async fn use_own_upload(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        reference: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let Some(reference) = reference else {
            return Ok(true);
        };
        let Some(key) = key_of(reference) else {
            return Ok(true);
        };
        let place = || vec![Bind::Text(key.to_owned()), Bind::Int(user_id)];
        let mut binds = vec![Bind::Int(now.as_millisecond())];
        binds.extend(place());
        self.execute(
            self.on(conn),
            "UPDATE uploads SET used_at = ? WHERE file_key = ? AND user_id = ?",
            binds,
        )
        .await?;
        // MySQL counts only changed rows, so the row's existence is read (under the lock the
        // update took) rather than trusted from the count.
        self.exists(
            self.on(conn),
            "SELECT 1 FROM uploads WHERE file_key = ? AND user_id = ?",
            place(),
        )
        .await
    }

    /// `'/api/files/' || <column>` in this dialect.
    fn upload_path_of(&self, column: &str) -> String {
        match self.backend {
            Backend::MySql => format!("CONCAT('{FILES_PATH}', {column})"),
            Backend::Sqlite | Backend::Postgres => format!("('{FILES_PATH}' || {column})"),
        }
    }

    async fn usage_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        since: Timestamp,
    ) -> Result<UploadUsage, sqlx::Error> {
        let sql = format!(
            "SELECT COUNT(*) AS files, {} AS bytes FROM uploads WHERE user_id = ? AND created_at >= ?",
            self.int_sum("COALESCE(SUM(size), 0)")
        );
        let row = self
            .fetch_optional(
                self.on(conn),
                &sql,
                vec![Bind::Int(user_id), Bind::Int(since.as_millisecond())],
            )
            .await?
            .ok_or_else(|| sqlx::Error::Protocol("an aggregate returned no row".into()))?;
        Ok(UploadUsage {
            files: row.try_get("files")?,
            bytes: row.try_get("bytes")?,
        })
    }
}

#[async_trait]
impl UploadStore for SqlStore {
    async fn upload_usage(&self, user_id: i64, since: Timestamp) -> StoreResult<UploadUsage> {
        let mut conn = self.pool.acquire().await?;
        Ok(self.usage_on(&mut conn, user_id, since).await?)
    }

    async fn record_upload(
        &self,
        user_id: i64,
        key: &str,
        size: i64,
        now: Timestamp,
        since: Timestamp,
        quota: UploadQuota,
    ) -> StoreResult<()> {
        let mut tx = self.db().begin().await?;
        self.lock_user(&mut tx, user_id).await?;
        let used = self.usage_on(&mut tx, user_id, since).await?;
        if !quota.allows(used, size) {
            tx.rollback().await?;
            return Err(StoreError::Conflict(Conflict::UploadQuotaExceeded));
        }
        let upsert = match self.backend {
            Backend::MySql => {
                "ON DUPLICATE KEY UPDATE size = VALUES(size), created_at = VALUES(created_at)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "ON CONFLICT (file_key, user_id) DO UPDATE SET size = excluded.size, created_at = excluded.created_at"
            }
        };
        let sql = format!(
            "INSERT INTO uploads (file_key, user_id, size, created_at, used_at) VALUES (?, ?, ?, ?, NULL) {upsert}"
        );
        let binds = vec![
            Bind::Text(key.to_owned()),
            Bind::Int(user_id),
            Bind::Int(size),
            Bind::Int(now.as_millisecond()),
        ];
        match self.execute(self.on(&mut tx), &sql, binds).await {
            Ok(_) => {}
            Err(e) if super::dialect::is_foreign_key_violation(&e) => {
                return Err(StoreError::NotFound(crate::Entity::User));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    async fn forget_unused_uploads(&self, cutoff: Timestamp) -> StoreResult<u64> {
        let path = self.upload_path_of("uploads.file_key");
        let sql = format!(
            "DELETE FROM uploads WHERE created_at < ? AND (used_at IS NULL OR used_at < ?) \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.profile_image = {path}) \
             AND NOT EXISTS (SELECT 1 FROM challenges c WHERE c.thumbnail = {path})"
        );
        let cutoff = cutoff.as_millisecond();
        Ok(self
            .execute(self.db(), &sql, vec![Bind::Int(cutoff), Bind::Int(cutoff)])
            .await?)
    }

    async fn file_referenced(&self, key: &str) -> StoreResult<bool> {
        let path = ssgwan_domain::upload::path_of(key);
        let sql = "SELECT 1 FROM uploads WHERE file_key = ? \
             UNION ALL SELECT 1 FROM users WHERE profile_image = ? \
             UNION ALL SELECT 1 FROM challenges WHERE thumbnail = ?";
        let binds = vec![
            Bind::Text(key.to_owned()),
            Bind::Text(path.clone()),
            Bind::Text(path),
        ];
        Ok(!self.fetch_all(self.db(), sql, binds).await?.is_empty())
    }

    async fn claim_job(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool> {
        // The row exists from the first claim on (racing first claims insert it once).
        let insert = match self.backend {
            Backend::MySql => {
                "INSERT IGNORE INTO job_claims (name, holder, claimed_until) VALUES (?, '', ?)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO job_claims (name, holder, claimed_until) VALUES (?, '', ?) ON CONFLICT DO NOTHING"
            }
        };
        self.execute(
            self.db(),
            insert,
            vec![Bind::Text(name.to_owned()), Bind::Int(i64::MIN)],
        )
        .await?;
        let claimed = self
            .execute(
                self.db(),
                "UPDATE job_claims SET holder = ?, claimed_until = ? WHERE name = ? AND claimed_until <= ?",
                vec![
                    Bind::Text(holder.to_owned()),
                    Bind::Int(until.as_millisecond()),
                    Bind::Text(name.to_owned()),
                    Bind::Int(now.as_millisecond()),
                ],
            )
            .await?;
        Ok(claimed == 1)
    }
}
