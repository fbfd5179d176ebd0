//! Users, login sessions and OAuth states.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;

use super::{
    SqlStore,
    dialect::{Bind, bind_all, placeholders},
    rows::{USER_COLUMNS, summary_from_row, ts, user_from_row},
};
use crate::{
    Conflict, Entity, NewUser, StoreError, StoreResult, User, UserStore, UserSummary, UserUpdate,
};

impl SqlStore {
    async fn fetch_user(&self, column: &str, bind: Bind) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?");
        let sql = self.sql(&sql);
        let row = bind_all(sqlx::query(&sql), vec![bind])
            .fetch_optional(self.db())
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }
}

impl SqlStore {
    /// Fills `users.nickname_skeleton` where it is NULL (rows written before migration 0006):
    /// SQL cannot compute a skeleton, so this runs after the migrations, in Rust. A row whose
    /// skeleton an earlier one already holds keeps NULL (the unique index allows that) and is
    /// counted in the answer; it gets its skeleton when its owner next changes nickname.
    pub(crate) async fn backfill_nickname_skeletons(&self) -> StoreResult<u64> {
        let rows = sqlx::query(
            "SELECT id, nickname FROM users WHERE nickname_skeleton IS NULL ORDER BY id",
        )
        .fetch_all(self.db())
        .await?;
        let sql = self.sql(
            "UPDATE users SET nickname_skeleton = ? WHERE id = ? AND nickname_skeleton IS NULL",
        );
        let mut left = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let nickname: String = row.try_get("nickname")?;
            let binds = vec![
                Bind::Text(ssgwan_domain::user::nickname_skeleton(&nickname)),
                Bind::Int(id),
            ];
            match bind_all(sqlx::query(&sql), binds).execute(self.db()).await {
                Ok(_) => {}
                Err(e) if StoreError::is_unique_violation(&e) => {
                    tracing::warn!(
                        user_id = id,
                        "nickname looks like an earlier user's; it stays without a skeleton until changed"
                    );
                    left += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(left)
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User> {
        let mut conn = self.pool.acquire().await?;
        let sql = "INSERT INTO users (kakao_id, nickname, nickname_key, nickname_skeleton, bio, profile_image, created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?)";
        let binds = vec![
            Bind::OptInt(user.kakao_id),
            Bind::Text(user.nickname.clone()),
            Bind::Text(ssgwan_domain::user::nickname_key(&user.nickname)),
            Bind::Text(ssgwan_domain::user::nickname_skeleton(&user.nickname)),
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
            sets.push("nickname_skeleton = ?");
            binds.push(Bind::Text(nickname.clone()));
            binds.push(Bind::Text(ssgwan_domain::user::nickname_key(nickname)));
            binds.push(Bind::Text(ssgwan_domain::user::nickname_skeleton(nickname)));
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
        // The picture, when it is an upload, is checked and marked used in the same
        // transaction that sets it.
        let mut tx = self.db().begin().await?;
        let new_image = update.profile_image.as_ref().and_then(Option::as_deref);
        if !self.use_own_upload(&mut tx, id, new_image, now).await? {
            tx.rollback().await?;
            return Err(StoreError::Conflict(Conflict::UploadNotOwned));
        }
        match bind_all(sqlx::query(&sql), binds)
            .execute(self.on(&mut tx))
            .await
        {
            Ok(r) if r.rows_affected() == 0 => return Err(StoreError::NotFound(Entity::User)),
            Ok(_) => {}
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::Conflict(Conflict::NicknameTaken));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        self.user(id)
            .await?
            .ok_or(StoreError::NotFound(Entity::User))
    }

    async fn users(&self, ids: &[i64]) -> StoreResult<Vec<UserSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, nickname, profile_image FROM users WHERE id IN ({})",
            placeholders(ids.len())
        );
        let binds = ids.iter().map(|id| Bind::Int(*id)).collect();
        self.fetch_map(&sql, binds, summary_from_row).await
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
}
