//! Wish lists: adding and removing a wish with the challenge's count, and listing a user's.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;

use super::{
    Backend, SqlStore,
    dialect::{Bind, bind_all, is_foreign_key_violation},
    retry::retrying_deadlocks,
    rows::{CHALLENGE_SELECT, ts, viewer_binds},
};
use crate::{ChallengeCursor, Entity, StoreError, StoreResult, WishStore, WishedChallenge};

impl SqlStore {
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
                    Err(StoreError::NotFound(Entity::Challenge))
                }
            }
            // The challenge was deleted while the wish was being written.
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound(Entity::Challenge)),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl WishStore for SqlStore {
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
}
