//! Wish lists: adding and removing a wish with the challenge's count, and listing a user's.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;

use super::{
    Backend, SqlStore,
    dialect::{Bind, is_foreign_key_violation, settle},
    retry::retrying_deadlocks,
    rows::{CHALLENGE_SELECT, ts, viewer_binds},
};
use crate::{ChallengeCursor, Entity, StoreError, StoreResult, WishStore, WishedChallenge};

impl SqlStore {
    /// Whether a challenge exists (to tell "nothing to do" from "no such challenge").
    async fn challenge_exists(&self, id: i64) -> StoreResult<bool> {
        let sql = "SELECT 1 FROM challenges WHERE id = ?";
        Ok(self.exists(self.db(), sql, vec![Bind::Int(id)]).await?)
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
            let sql = "SELECT id FROM challenges WHERE id = ? FOR UPDATE";
            let exists = self
                .exists(self.on(&mut tx), sql, vec![Bind::Int(challenge_id)])
                .await?;
            if !exists {
                settle(tx, false).await?;
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
        let binds = match (add, self.backend) {
            (true, Backend::MySql) => [user_id, challenge_id, now_ms].to_vec(),
            (true, _) => [user_id, now_ms, challenge_id].to_vec(),
            (false, _) => [user_id, challenge_id].to_vec(),
        };
        let binds = binds.into_iter().map(Bind::Int).collect();
        let changed = self.execute(self.on(&mut tx), sql, binds).await? == 1;
        if !changed {
            return Ok(Some(settle(tx, false).await?));
        }
        let sql = if add {
            "UPDATE challenges SET wish_count = wish_count + 1 WHERE id = ?"
        } else {
            "UPDATE challenges SET wish_count = wish_count - 1 WHERE id = ?"
        };
        self.execute(self.on(&mut tx), sql, vec![Bind::Int(challenge_id)])
            .await?;
        Ok(Some(settle(tx, true).await?))
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
        let rows = self.fetch_all(self.db(), &sql, binds).await?;
        self.challenges_with(&rows, |row, challenge| {
            Ok(WishedChallenge {
                challenge,
                wished_at: ts(row.try_get("viewer_wished_at")?)?,
            })
        })
        .await
    }
}
