//! Moderation on every backend: each change is one conditional statement, or an insert that a
//! key refuses on a repeat, so idempotency and races are decided by the database.

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};
use sqlx::{Row, any::AnyRow};

use super::{
    Backend, SqlStore,
    chat::MESSAGE_SELECT,
    dialect::{Bind, is_foreign_key_violation},
    retry::retrying_deadlocks,
    rows::{message_from_row, summary_from_row, ts},
};
use crate::{
    AuditEntry, AuditRecord, BlockRecord, ChatMessage, Conflict, Entity, MediaKind,
    ModerationStore, NewReport, Removal, ReportRecord, StoreError, StoreResult,
};

/// How a suspension "for good" is stored: the largest instant (`users.suspended_until`).
pub const SUSPENDED_FOREVER_MS: i64 = i64::MAX;

const REPORT_SELECT: &str = "SELECT id, reporter_id, target_type, subject_id, challenge_id, message_seq, reason, detail, status, created_at, resolved_at, resolved_by FROM reports";

fn report_from_row(row: &AnyRow) -> StoreResult<ReportRecord> {
    let opt_ts = |col: &str| -> StoreResult<Option<Timestamp>> {
        row.try_get::<Option<i64>, _>(col)?.map(ts).transpose()
    };
    Ok(ReportRecord {
        id: row.try_get("id")?,
        reporter_id: row.try_get("reporter_id")?,
        target_type: row.try_get("target_type")?,
        subject_id: row.try_get("subject_id")?,
        challenge_id: row.try_get("challenge_id")?,
        message_seq: row.try_get("message_seq")?,
        reason: row.try_get("reason")?,
        detail: row.try_get("detail")?,
        status: row.try_get("status")?,
        created_at: ts(row.try_get("created_at")?)?,
        resolved_at: opt_ts("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
    })
}

/// A stored suspension end as the trait gives it: `None` for good.
pub(super) fn suspension_end(millis: i64) -> StoreResult<Option<Timestamp>> {
    if millis == SUSPENDED_FOREVER_MS {
        return Ok(None);
    }
    ts(millis).map(Some)
}

impl SqlStore {
    /// Inserts a row a key may refuse: whether it was inserted (false: the key exists).
    async fn insert_once(&self, sql: &str, binds: Vec<Bind>) -> StoreResult<bool> {
        match self.execute(self.db(), sql, binds).await {
            Ok(changed) => Ok(changed > 0),
            Err(e) if StoreError::is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn try_remove(
        &self,
        challenge_id: i64,
        user_id: i64,
        by: i64,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        // The participant-count trigger frees the place (ACTIVE to CANCELLED); on MySQL the
        // statement reads no `challenges` row, so the trigger may update it.
        let sql = "UPDATE participants SET status = 'CANCELLED', removed_at = ?, removed_by = ?, updated_at = ? \
             WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'";
        let binds = [now_ms, by, now_ms, challenge_id, user_id]
            .map(Bind::Int)
            .to_vec();
        Ok(self.execute(self.db(), sql, binds).await? == 1)
    }
}

#[async_trait]
impl ModerationStore for SqlStore {
    async fn remove_participant(
        &self,
        challenge_id: i64,
        user_id: i64,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<Removal> {
        let now_ms = now.as_millisecond();
        let removed = if self.backend == Backend::MySql {
            retrying_deadlocks(|| self.try_remove(challenge_id, user_id, by, now_ms)).await?
        } else {
            self.try_remove(challenge_id, user_id, by, now_ms).await?
        };
        if removed {
            return Ok(Removal::Removed);
        }
        if self.removed_at(challenge_id, user_id).await?.is_some() {
            return Ok(Removal::AlreadyRemoved);
        }
        Err(StoreError::Conflict(Conflict::NotParticipant))
    }

    async fn removed_at(&self, challenge_id: i64, user_id: i64) -> StoreResult<Option<Timestamp>> {
        let sql = "SELECT removed_at FROM participants WHERE challenge_id = ? AND user_id = ?";
        let row = self
            .fetch_optional(
                self.db(),
                sql,
                vec![Bind::Int(challenge_id), Bind::Int(user_id)],
            )
            .await?;
        match row {
            Some(row) => row
                .try_get::<Option<i64>, _>("removed_at")?
                .map(ts)
                .transpose(),
            None => Ok(None),
        }
    }

    async fn cohosts(&self, challenge_id: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT user_id FROM challenge_cohosts WHERE challenge_id = ? ORDER BY slot";
        self.fetch_map(sql, vec![Bind::Int(challenge_id)], |row| {
            Ok(row.try_get("user_id")?)
        })
        .await
    }

    async fn add_cohost(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "INSERT INTO challenge_cohosts (challenge_id, slot, user_id, appointed_at) VALUES (?, ?, ?, ?)";
        let is_cohost =
            || async { Ok::<_, StoreError>(self.cohosts(challenge_id).await?.contains(&user_id)) };
        if is_cohost().await? {
            return Ok(false);
        }
        // Each co-host holds a slot: the primary key refuses a taken slot (and the unique
        // index a second appointment of the same user), so racing appointments fill at most
        // three.
        for slot in 1..=ssgwan_domain::moderation::MAX_COHOSTS as i64 {
            let binds = [challenge_id, slot, user_id, now.as_millisecond()];
            if self.insert_once(sql, binds.map(Bind::Int).to_vec()).await? {
                return Ok(true);
            }
            if is_cohost().await? {
                return Ok(false);
            }
        }
        Err(StoreError::Conflict(Conflict::CohostLimitReached))
    }

    async fn remove_cohost(&self, challenge_id: i64, user_id: i64) -> StoreResult<bool> {
        let sql = "DELETE FROM challenge_cohosts WHERE challenge_id = ? AND user_id = ?";
        let binds = vec![Bind::Int(challenge_id), Bind::Int(user_id)];
        Ok(self.execute(self.db(), sql, binds).await? > 0)
    }

    async fn message(&self, challenge_id: i64, seq: i64) -> StoreResult<Option<ChatMessage>> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.challenge_id = ? AND m.seq = ?");
        let row = self
            .fetch_optional(
                self.db(),
                &sql,
                vec![Bind::Int(challenge_id), Bind::Int(seq)],
            )
            .await?;
        row.map(|r| message_from_row(&r)).transpose()
    }

    async fn delete_message(
        &self,
        challenge_id: i64,
        seq: i64,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<Option<bool>> {
        let sql = "UPDATE chat_messages SET body = '', deleted_at = ?, deleted_by = ? \
             WHERE challenge_id = ? AND seq = ? AND deleted_at IS NULL";
        let binds = [now.as_millisecond(), by, challenge_id, seq];
        if self
            .execute(self.db(), sql, binds.map(Bind::Int).to_vec())
            .await?
            == 1
        {
            return Ok(Some(true));
        }
        let exists = self
            .exists(
                self.db(),
                "SELECT 1 FROM chat_messages WHERE challenge_id = ? AND seq = ?",
                vec![Bind::Int(challenge_id), Bind::Int(seq)],
            )
            .await?;
        Ok(exists.then_some(false))
    }

    async fn lock_room(
        &self,
        challenge_id: i64,
        date: Date,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "INSERT INTO room_locks (challenge_id, session_date, locked_by, locked_at) VALUES (?, ?, ?, ?)";
        let binds = vec![
            Bind::Int(challenge_id),
            Bind::Text(date.to_string()),
            Bind::Int(by),
            Bind::Int(now.as_millisecond()),
        ];
        self.insert_once(sql, binds).await
    }

    async fn set_media_stop(
        &self,
        challenge_id: i64,
        user_id: i64,
        kind: MediaKind,
        stopped: bool,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        if !stopped {
            let sql = "DELETE FROM media_stops WHERE challenge_id = ? AND user_id = ? AND kind = ?";
            let binds = vec![
                Bind::Int(challenge_id),
                Bind::Int(user_id),
                Bind::Text(kind.as_str().to_owned()),
            ];
            return Ok(self.execute(self.db(), sql, binds).await? > 0);
        }
        let sql = "INSERT INTO media_stops (challenge_id, user_id, kind, stopped_by, stopped_at) VALUES (?, ?, ?, ?, ?)";
        let binds = vec![
            Bind::Int(challenge_id),
            Bind::Int(user_id),
            Bind::Text(kind.as_str().to_owned()),
            Bind::Int(by),
            Bind::Int(now.as_millisecond()),
        ];
        self.insert_once(sql, binds).await
    }

    async fn media_stops(&self, challenge_id: i64) -> StoreResult<Vec<(i64, MediaKind)>> {
        let sql = "SELECT user_id, kind FROM media_stops WHERE challenge_id = ? ORDER BY user_id, kind DESC";
        let rows = self
            .fetch_map(sql, vec![Bind::Int(challenge_id)], |row| {
                let user: i64 = row.try_get("user_id")?;
                let kind: String = row.try_get("kind")?;
                Ok((user, kind))
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(user, kind)| MediaKind::from_stored(&kind).map(|k| (user, k)))
            .collect())
    }

    async fn room_blocks(&self, challenge_id: i64) -> StoreResult<Vec<(i64, i64)>> {
        let sql = "SELECT b.blocker_id, b.blocked_id FROM blocks b \
             JOIN participants p ON p.challenge_id = ? AND p.user_id = b.blocker_id AND p.status = 'ACTIVE' \
             JOIN participants q ON q.challenge_id = ? AND q.user_id = b.blocked_id AND q.status = 'ACTIVE' \
             ORDER BY b.blocker_id, b.blocked_id";
        self.fetch_map(
            sql,
            vec![Bind::Int(challenge_id), Bind::Int(challenge_id)],
            |row| Ok((row.try_get("blocker_id")?, row.try_get("blocked_id")?)),
        )
        .await
    }

    async fn room_locked(&self, challenge_id: i64, date: Date) -> StoreResult<bool> {
        let sql = "SELECT 1 FROM room_locks WHERE challenge_id = ? AND session_date = ?";
        let binds = vec![Bind::Int(challenge_id), Bind::Text(date.to_string())];
        Ok(self.exists(self.db(), sql, binds).await?)
    }

    async fn create_report(
        &self,
        report: &NewReport,
        now: Timestamp,
    ) -> StoreResult<(ReportRecord, bool)> {
        let sql = "INSERT INTO reports (reporter_id, target_type, target_key, subject_id, challenge_id, message_seq, reason, detail, status, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'OPEN', ?)";
        let binds = vec![
            Bind::Int(report.reporter_id),
            Bind::Text(report.target_type.to_owned()),
            Bind::Text(report.target_key.clone()),
            Bind::Int(report.subject_id),
            Bind::OptInt(report.challenge_id),
            Bind::OptInt(report.message_seq),
            Bind::Text(report.reason.to_owned()),
            Bind::Text(report.detail.clone()),
            Bind::Int(now.as_millisecond()),
        ];
        let created = match self.insert_once(sql, binds).await {
            Ok(created) => created,
            // The subject's account is gone.
            Err(StoreError::Backend(e)) if is_foreign_key_violation(&e) => {
                return Err(StoreError::NotFound(Entity::User));
            }
            Err(e) => return Err(e),
        };
        let sql = format!("{REPORT_SELECT} WHERE reporter_id = ? AND target_key = ?");
        let row = self
            .fetch_optional(
                self.db(),
                &sql,
                vec![
                    Bind::Int(report.reporter_id),
                    Bind::Text(report.target_key.clone()),
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("report not found after insert".into()))?;
        Ok((report_from_row(&row)?, created))
    }

    async fn report(&self, id: i64) -> StoreResult<Option<ReportRecord>> {
        let sql = format!("{REPORT_SELECT} WHERE id = ?");
        let row = self
            .fetch_optional(self.db(), &sql, vec![Bind::Int(id)])
            .await?;
        row.map(|r| report_from_row(&r)).transpose()
    }

    async fn reports(
        &self,
        status: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ReportRecord>> {
        let sql = format!(
            "{REPORT_SELECT} WHERE (? = '' OR status = ?) AND id < ? ORDER BY id DESC LIMIT ?"
        );
        let status = status.unwrap_or("").to_owned();
        let binds = vec![
            Bind::Text(status.clone()),
            Bind::Text(status),
            Bind::Int(before.unwrap_or(i64::MAX)),
            Bind::Int(limit),
        ];
        self.fetch_map(&sql, binds, report_from_row).await
    }

    async fn resolve_report(
        &self,
        id: i64,
        status: &str,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE reports SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ? AND status = 'OPEN'";
        let binds = vec![
            Bind::Text(status.to_owned()),
            Bind::Int(now.as_millisecond()),
            Bind::Int(by),
            Bind::Int(id),
        ];
        Ok(self.execute(self.db(), sql, binds).await? == 1)
    }

    async fn block(&self, blocker: i64, blocked: i64, now: Timestamp) -> StoreResult<bool> {
        let sql = "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)";
        let binds = [blocker, blocked, now.as_millisecond()];
        match self.insert_once(sql, binds.map(Bind::Int).to_vec()).await {
            Err(StoreError::Backend(e)) if is_foreign_key_violation(&e) => {
                Err(StoreError::NotFound(Entity::User))
            }
            other => other,
        }
    }

    async fn unblock(&self, blocker: i64, blocked: i64) -> StoreResult<bool> {
        let sql = "DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?";
        let binds = vec![Bind::Int(blocker), Bind::Int(blocked)];
        Ok(self.execute(self.db(), sql, binds).await? > 0)
    }

    async fn blocks(&self, blocker: i64) -> StoreResult<Vec<BlockRecord>> {
        let sql = "SELECT u.id, u.nickname, u.profile_image, b.created_at FROM blocks b JOIN users u ON u.id = b.blocked_id \
             WHERE b.blocker_id = ? ORDER BY b.created_at DESC, u.id DESC";
        self.fetch_map(sql, vec![Bind::Int(blocker)], |row| {
            Ok(BlockRecord {
                user: summary_from_row(row)?,
                created_at: ts(row.try_get("created_at")?)?,
            })
        })
        .await
    }

    async fn block_peers(&self, user: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT blocked_id AS peer FROM blocks WHERE blocker_id = ? \
             UNION SELECT blocker_id AS peer FROM blocks WHERE blocked_id = ?";
        self.fetch_map(sql, vec![Bind::Int(user), Bind::Int(user)], |row| {
            Ok(row.try_get("peer")?)
        })
        .await
    }

    async fn set_operator(
        &self,
        user_id: i64,
        operator: bool,
        now: Timestamp,
    ) -> StoreResult<bool> {
        if !operator {
            let sql = "DELETE FROM operators WHERE user_id = ?";
            return Ok(self
                .execute(self.db(), sql, vec![Bind::Int(user_id)])
                .await?
                > 0);
        }
        let sql = "INSERT INTO operators (user_id, granted_at) VALUES (?, ?)";
        let binds = [user_id, now.as_millisecond()];
        match self.insert_once(sql, binds.map(Bind::Int).to_vec()).await {
            Err(StoreError::Backend(e)) if is_foreign_key_violation(&e) => {
                Err(StoreError::NotFound(Entity::User))
            }
            other => other,
        }
    }

    async fn is_operator(&self, user_id: i64) -> StoreResult<bool> {
        let sql = "SELECT 1 FROM operators WHERE user_id = ?";
        Ok(self
            .exists(self.db(), sql, vec![Bind::Int(user_id)])
            .await?)
    }

    async fn suspend(&self, user_id: i64, until: Option<Timestamp>) -> StoreResult<bool> {
        let until = until.map_or(SUSPENDED_FOREVER_MS, Timestamp::as_millisecond);
        let sql = "UPDATE users SET suspended_until = ? WHERE id = ? AND (suspended_until IS NULL OR suspended_until <> ?)";
        let changed = self
            .execute(
                self.db(),
                sql,
                [until, user_id, until].map(Bind::Int).to_vec(),
            )
            .await?
            == 1;
        if !changed && self.suspension(user_id).await?.is_none() {
            return Err(StoreError::NotFound(Entity::User));
        }
        // Signed out everywhere: the sessions go (the server closes the sockets).
        self.execute(
            self.db(),
            "DELETE FROM sessions WHERE user_id = ?",
            vec![Bind::Int(user_id)],
        )
        .await?;
        Ok(changed)
    }

    async fn suspension(&self, user_id: i64) -> StoreResult<Option<Option<Timestamp>>> {
        let sql = "SELECT suspended_until FROM users WHERE id = ?";
        let Some(row) = self
            .fetch_optional(self.db(), sql, vec![Bind::Int(user_id)])
            .await?
        else {
            return Ok(None);
        };
        row.try_get::<Option<i64>, _>("suspended_until")?
            .map(suspension_end)
            .transpose()
    }

    async fn purge_challenge(&self, challenge_id: i64) -> StoreResult<bool> {
        let sql = "DELETE FROM challenges WHERE id = ?";
        Ok(self
            .execute(self.db(), sql, vec![Bind::Int(challenge_id)])
            .await?
            > 0)
    }

    async fn audit(&self, entry: &AuditEntry, now: Timestamp) -> StoreResult<()> {
        let sql = "INSERT INTO audit_log (actor_id, action, target, reason, created_at) VALUES (?, ?, ?, ?, ?)";
        let binds = vec![
            Bind::OptInt(entry.actor_id),
            Bind::Text(entry.action.clone()),
            Bind::Text(entry.target.clone()),
            Bind::Text(entry.reason.clone()),
            Bind::Int(now.as_millisecond()),
        ];
        self.execute(self.db(), sql, binds).await?;
        Ok(())
    }

    async fn audit_log(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let sql = "SELECT id, actor_id, action, target, reason, created_at FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?";
        let binds = vec![Bind::Int(before.unwrap_or(i64::MAX)), Bind::Int(limit)];
        self.fetch_map(sql, binds, |row| {
            Ok(AuditRecord {
                id: row.try_get("id")?,
                entry: AuditEntry {
                    actor_id: row.try_get("actor_id")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    reason: row.try_get("reason")?,
                },
                created_at: ts(row.try_get("created_at")?)?,
            })
        })
        .await
    }
}
