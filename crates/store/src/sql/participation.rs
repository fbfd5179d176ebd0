//! Places in challenges: joining and cancelling, exact under races on every backend, and who
//! holds a place.
//!
//! The database decides: one conditional statement (or, on MySQL, one transaction that locks
//! the challenge row first) takes or frees a place, and the participant-count triggers and the
//! primary key hold capacity and one place per user. When it refuses, the store reads the facts
//! again and lets [`ssgwan_domain::participation`] name the rule.

use async_trait::async_trait;
use jiff::{Timestamp, tz::TimeZone};
use sqlx::Row;
use ssgwan_domain::{
    participation::{cancel_refusal, join_refusal},
    schedule::local_date,
};

use super::{
    Backend, SqlStore,
    dialect::is_capacity_refusal,
    refused,
    retry::retrying_deadlocks,
    rows::{date, participant_status, ts},
};
use crate::{
    ChallengeRecord, ChallengeStore, Conflict, Entity, Membership, ParticipantRecord,
    ParticipationStore, StoreError, StoreResult, UserSummary,
};

impl SqlStore {
    /// Takes a place from `joined_on` on, or says which rule refused it.
    async fn take_place(
        &self,
        challenge_id: i64,
        user_id: i64,
        joined_on: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        if self.backend == Backend::MySql {
            return self.join_mysql(challenge_id, user_id, joined_on, now).await;
        }
        let now_ms = now.as_millisecond();
        // One statement: a place is inserted (or a cancelled one reactivated) only while the
        // challenge has room and has not ended; the participant-count trigger counts it. On
        // SQLite the statement holds the write lock from its start, so its WHERE is exact; on
        // PostgreSQL the trigger re-checks capacity under the row lock and refuses the loser of
        // a race. The primary key refuses a second place for the same user.
        let sql = self.sql(
            "INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) \
             SELECT c.id, ?, 'ACTIVE', ?, ?, ? FROM challenges c WHERE c.id = ? AND c.participant_count < c.capacity AND c.ends_at > ? \
             ON CONFLICT (challenge_id, user_id) DO UPDATE SET status = 'ACTIVE', joined_at = excluded.joined_at, \
             joined_on = excluded.joined_on, updated_at = excluded.updated_at WHERE participants.status = 'CANCELLED'",
        );
        let result = sqlx::query(&sql)
            .bind(user_id)
            .bind(now_ms)
            .bind(joined_on)
            .bind(now_ms)
            .bind(challenge_id)
            .bind(now_ms)
            .execute(self.db())
            .await;
        match result {
            Ok(r) if r.rows_affected() > 0 => Ok(()),
            Ok(_) => Err(self.join_refusal(challenge_id, user_id, now).await?),
            Err(e) if is_capacity_refusal(&e) => Err(StoreError::Conflict(Conflict::ChallengeFull)),
            Err(e) => Err(e.into()),
        }
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

    /// Explains why a join's conditional statement took no place (reads only).
    async fn join_refusal(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<StoreError> {
        let Some((facts, _)) = self.challenge_facts(challenge_id).await? else {
            return Ok(StoreError::NotFound(Entity::Challenge));
        };
        let holds_place = self.is_participant(challenge_id, user_id).await?;
        // Room again by now: the place was taken by a racer and freed since.
        Ok(refused(
            join_refusal(&facts, holds_place, now),
            Conflict::ChallengeFull,
        ))
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
            Err(self.cancel_refusal(challenge_id, user_id, now).await?)
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

    /// Explains why a cancellation changed nothing (reads only).
    async fn cancel_refusal(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<StoreError> {
        let Some((facts, _)) = self.challenge_facts(challenge_id).await? else {
            return Ok(StoreError::NotFound(Entity::Challenge));
        };
        let sql = self.sql("SELECT 1 FROM participants WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'");
        let active = sqlx::query(&sql)
            .bind(challenge_id)
            .bind(user_id)
            .fetch_optional(self.db())
            .await?
            .is_some();
        Ok(refused(
            cancel_refusal(&facts, user_id, active, now),
            Conflict::CancellationNotAllowed,
        ))
    }
}

#[async_trait]
impl ParticipationStore for SqlStore {
    async fn join_challenge(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<ChallengeRecord> {
        let Some((_, timezone)) = self.challenge_facts(challenge_id).await? else {
            return Err(StoreError::NotFound(Entity::Challenge));
        };
        let timezone = TimeZone::get(&timezone)
            .map_err(|_| StoreError::Corrupt("challenge timezone".into()))?;
        // Sessions count from the challenge's own local date of the join.
        let joined_on = local_date(&timezone, now).to_string();
        self.take_place(challenge_id, user_id, &joined_on, now)
            .await?;
        self.challenge(challenge_id, Some(user_id))
            .await?
            .ok_or(StoreError::NotFound(Entity::Challenge))
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
        Err(self.cancel_refusal(challenge_id, user_id, now).await?)
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
                Ok(ParticipantRecord {
                    user: UserSummary {
                        id: row.try_get("user_id")?,
                        nickname: row.try_get("nickname")?,
                        profile_image: row.try_get("profile_image")?,
                    },
                    status: participant_status(row, "status")?,
                    joined_at: ts(row.try_get("joined_at")?)?,
                    joined_on: date(row, "joined_on")?,
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
        Ok(Some(Membership {
            status: participant_status(&row, "status")?,
            joined_at: ts(row.try_get("joined_at")?)?,
        }))
    }
}
