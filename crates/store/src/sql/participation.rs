//! Places in challenges: joining and cancelling, exact under races on every backend, and who
//! holds a place.
//!
//! The database decides: one conditional statement (or, on MySQL, one transaction that locks
//! the challenge row first) takes or frees a place, and the participant-count triggers and the
//! primary key hold capacity and one place per user. When it refuses, the store reads the facts
//! again and lets [`ssgwan_domain::participation`] name the rule.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;
use ssgwan_domain::{
    participation::{cancel_refusal, join_refusal},
    schedule::local_date,
};

use super::{
    Backend, SqlStore,
    dialect::{Bind, is_capacity_refusal, settle},
    refused,
    retry::retrying_deadlocks,
    rows::{date, participant_status, summary_from_row, ts},
};
use crate::{
    ChallengeRecord, ChallengeStore, Conflict, Entity, Membership, ModerationStore,
    ParticipantRecord, ParticipationStore, StoreError, StoreResult,
};

impl SqlStore {
    /// Takes a place from `joined_on` on, or says which rule refused it. On MySQL, also the
    /// participant count with the new place (read under the challenge row's lock).
    async fn take_place(
        &self,
        challenge_id: i64,
        user_id: i64,
        joined_on: &str,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let now_ms = now.as_millisecond();
        let taken = if self.backend == Backend::MySql {
            retrying_deadlocks(|| self.try_join_mysql(challenge_id, user_id, joined_on, now_ms))
                .await
        } else {
            // One statement: a place is inserted (or a cancelled one reactivated) only while the
            // challenge has room and has not ended; the participant-count trigger counts it. On
            // SQLite the statement holds the write lock from its start, so its WHERE is exact; on
            // PostgreSQL the trigger re-checks capacity under the row lock and refuses the loser of
            // a race. The primary key refuses a second place for the same user.
            let sql = "INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) \
                 SELECT c.id, ?, 'ACTIVE', ?, ?, ? FROM challenges c WHERE c.id = ? AND c.participant_count < c.capacity AND c.ends_at > ? \
                 ON CONFLICT (challenge_id, user_id) DO UPDATE SET status = 'ACTIVE', joined_at = excluded.joined_at, \
                 joined_on = excluded.joined_on, updated_at = excluded.updated_at \
                 WHERE participants.status = 'CANCELLED' AND participants.removed_at IS NULL";
            let binds = vec![
                Bind::Int(user_id),
                Bind::Int(now_ms),
                Bind::Text(joined_on.to_owned()),
                Bind::Int(now_ms),
                Bind::Int(challenge_id),
                Bind::Int(now_ms),
            ];
            self.execute(self.db(), sql, binds)
                .await
                .map(|changed| (changed > 0).then_some(None))
        };
        match taken {
            Ok(Some(count)) => Ok(count),
            Err(e) if !is_capacity_refusal(&e) => Err(e.into()),
            // The trigger refused the loser of a race: the challenge is full.
            Err(_) if self.backend != Backend::MySql => {
                Err(StoreError::Conflict(Conflict::ChallengeFull))
            }
            // Nothing taken, or MySQL's trigger refused a join queued behind the lock.
            Ok(None) | Err(_) => Err(self
                .refusal(Change::Join, challenge_id, user_id, now)
                .await?),
        }
    }

    /// One attempt at MySQL's join (whether a place was taken), in a transaction that locks
    /// the challenge row first. MySQL cannot read `challenges` in the statement whose trigger
    /// updates it, and its foreign-key check (a shared lock on the challenge) followed by the count trigger (an exclusive one) makes
    /// racing inserts deadlock; taking the exclusive lock up front queues racing joins on the
    /// row instead, as PostgreSQL's trigger does. A duplicate key means the user has a place
    /// already: it is reactivated only when it was cancelled. (MySQL reports a matched but
    /// unchanged upsert as one affected row, like an insert, so no upsert here.)
    async fn try_join_mysql(
        &self,
        challenge_id: i64,
        user_id: i64,
        joined_on: &str,
        now_ms: i64,
    ) -> Result<Option<Option<i64>>, sqlx::Error> {
        let mut tx = self.db().begin().await?;
        let sql = self.sql(
            "SELECT participant_count FROM challenges WHERE id = ? AND participant_count < capacity AND ends_at > ? FOR UPDATE",
        );
        let Some(count) = sqlx::query_scalar::<_, i64>(&sql)
            .bind(challenge_id)
            .bind(now_ms)
            .fetch_optional(self.on(&mut tx))
            .await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let joined_on = Bind::Text(joined_on.to_owned());
        let inserted = self
            .execute(
                self.on(&mut tx),
                "INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) \
                 VALUES (?, ?, 'ACTIVE', ?, ?, ?)",
                vec![
                    Bind::Int(challenge_id),
                    Bind::Int(user_id),
                    Bind::Int(now_ms),
                    joined_on.clone(),
                    Bind::Int(now_ms),
                ],
            )
            .await;
        let changed = match inserted {
            Ok(changed) => changed,
            Err(e) if StoreError::is_unique_violation(&e) => {
                self.execute(
                    self.on(&mut tx),
                    "UPDATE participants SET status = 'ACTIVE', joined_at = ?, joined_on = ?, updated_at = ? \
                     WHERE challenge_id = ? AND user_id = ? AND status = 'CANCELLED' AND removed_at IS NULL",
                    vec![
                        Bind::Int(now_ms),
                        joined_on,
                        Bind::Int(now_ms),
                        Bind::Int(challenge_id),
                        Bind::Int(user_id),
                    ],
                )
                .await?
            }
            Err(e) => return Err(e),
        };
        Ok(settle(tx, changed > 0).await?.then_some(Some(count + 1)))
    }

    /// One attempt at MySQL's cancellation (whether the place was freed). MySQL cannot read
    /// `challenges` in the statement whose trigger updates it, so the challenge row is locked
    /// first and the place freed after, in one transaction (the lock also orders it against
    /// racing joins).
    async fn try_cancel_mysql(
        &self,
        challenge_id: i64,
        user_id: i64,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let open = "starts_at > ? AND creator_id <> ?";
        let Some(mut tx) = self
            .lock_challenge_if(challenge_id, open, &[now_ms, user_id])
            .await?
        else {
            return Ok(false);
        };
        let cancelled = self
            .execute(
                self.on(&mut tx),
                "UPDATE participants SET status = 'CANCELLED', updated_at = ? \
                     WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'",
                vec![
                    Bind::Int(now_ms),
                    Bind::Int(challenge_id),
                    Bind::Int(user_id),
                ],
            )
            .await?
            == 1;
        settle(tx, cancelled).await
    }

    /// MySQL: a transaction that holds the challenge row's lock, begun when the challenge
    /// meets `condition` (its placeholders bound to `binds`); `None`, rolled back, when not.
    async fn lock_challenge_if(
        &self,
        challenge_id: i64,
        condition: &str,
        binds: &[i64],
    ) -> Result<Option<sqlx::Transaction<'_, sqlx::Any>>, sqlx::Error> {
        let mut tx = self.db().begin().await?;
        let sql = format!("SELECT 1 FROM challenges WHERE id = ? AND {condition} FOR UPDATE");
        let binds = std::iter::once(challenge_id).chain(binds.iter().copied());
        let open = self
            .exists(self.on(&mut tx), &sql, binds.map(Bind::Int).collect())
            .await?;
        if !open {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(tx))
    }

    /// Explains why a join's or a cancellation's conditional statement changed nothing
    /// (reads only).
    async fn refusal(
        &self,
        change: Change,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<StoreError> {
        let Some((facts, _)) = self.challenge_facts(challenge_id).await? else {
            return Ok(StoreError::NotFound(Entity::Challenge));
        };
        Ok(match change {
            Change::Join => {
                // A removed member's place stays cancelled for good.
                if self.removed_at(challenge_id, user_id).await?.is_some() {
                    return Ok(StoreError::Conflict(Conflict::RemovedFromChallenge));
                }
                let holds_place = self.is_participant(challenge_id, user_id).await?;
                // Room again by now: the place was taken by a racer and freed since.
                refused(
                    join_refusal(&facts, holds_place, now),
                    Conflict::ChallengeFull,
                )
            }
            Change::Cancel => {
                let sql = "SELECT 1 FROM participants WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'";
                let active = self
                    .exists(self.db(), sql, place(challenge_id, user_id))
                    .await?;
                refused(
                    cancel_refusal(&facts, user_id, active, now),
                    Conflict::CancellationNotAllowed,
                )
            }
        })
    }
}

/// What a refused statement tried to do with a place.
#[derive(Debug, Clone, Copy)]
enum Change {
    Join,
    Cancel,
}

#[async_trait]
impl ParticipationStore for SqlStore {
    async fn join_challenge(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<ChallengeRecord> {
        // The challenge as the joiner sees it (one statement): its rules, its timezone, and
        // whether they hold a place. When the rules refuse the join as read, it is refused
        // without a write: it was true when read.
        let mut record = self
            .challenge(challenge_id, Some(user_id))
            .await?
            .ok_or(StoreError::NotFound(Entity::Challenge))?;
        // A place a host took away stays cancelled for good.
        if record.removed {
            return Err(StoreError::Conflict(Conflict::RemovedFromChallenge));
        }
        if let Some(refusal) = join_refusal(&record.facts(), record.joined, now) {
            return Err(refused(Some(refusal), Conflict::ChallengeFull));
        }
        // Sessions count from the challenge's own local date of the join.
        let joined_on = local_date(&record.spec.schedule.timezone, now).to_string();
        let count = self
            .take_place(challenge_id, user_id, &joined_on, now)
            .await?;
        // The challenge as read, with the joiner's place: the definition does not change with
        // a join, and the count is the one the place was taken at when the database says it
        // (MySQL's locked read), else the one read plus this place.
        record.joined = true;
        record.participant_count = count.unwrap_or(record.participant_count + 1);
        Ok(record)
    }

    async fn cancel_participation(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let now_ms = now.as_millisecond();
        let cancelled = if self.backend == Backend::MySql {
            retrying_deadlocks(|| self.try_cancel_mysql(challenge_id, user_id, now_ms)).await?
        } else {
            // One statement; the participant-count trigger frees the place.
            let sql = "UPDATE participants SET status = 'CANCELLED', updated_at = ? WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE' \
                 AND EXISTS (SELECT 1 FROM challenges c WHERE c.id = ? AND c.starts_at > ? AND c.creator_id <> ?)";
            let binds = [now_ms, challenge_id, user_id, challenge_id, now_ms, user_id];
            self.execute(self.db(), sql, binds.map(Bind::Int).to_vec())
                .await?
                == 1
        };
        if cancelled {
            return Ok(());
        }
        Err(self
            .refusal(Change::Cancel, challenge_id, user_id, now)
            .await?)
    }

    async fn participants(&self, challenge_id: i64) -> StoreResult<Vec<ParticipantRecord>> {
        let sql = "SELECT p.user_id AS id, u.nickname, u.profile_image, p.status, p.joined_at, p.joined_on, \
             (SELECT COUNT(*) FROM attendance a WHERE a.challenge_id = p.challenge_id AND a.user_id = p.user_id AND a.achieved_at IS NOT NULL) AS achieved \
             FROM participants p JOIN users u ON u.id = p.user_id \
             WHERE p.challenge_id = ? AND p.status <> 'CANCELLED' ORDER BY p.joined_at, p.user_id";
        self.fetch_map(sql, vec![Bind::Int(challenge_id)], |row| {
            Ok(ParticipantRecord {
                user: summary_from_row(row)?,
                status: participant_status(row, "status")?,
                joined_at: ts(row.try_get("joined_at")?)?,
                joined_on: date(row, "joined_on")?,
                achieved_sessions: row.try_get("achieved")?,
            })
        })
        .await
    }

    async fn is_participant(&self, challenge_id: i64, user_id: i64) -> StoreResult<bool> {
        Ok(self
            .exists(self.db(),
                "SELECT 1 FROM participants WHERE challenge_id = ? AND user_id = ? AND status <> 'CANCELLED'",
                place(challenge_id, user_id),
            )
            .await?)
    }

    async fn membership(&self, challenge_id: i64, user_id: i64) -> StoreResult<Option<Membership>> {
        let sql =
            "SELECT status, joined_at FROM participants WHERE challenge_id = ? AND user_id = ?";
        let Some(row) = self
            .fetch_optional(self.db(), sql, place(challenge_id, user_id))
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

/// The binds of a `challenge_id = ? AND user_id = ?` condition: one user's place.
fn place(challenge_id: i64, user_id: i64) -> Vec<Bind> {
    vec![Bind::Int(challenge_id), Bind::Int(user_id)]
}
