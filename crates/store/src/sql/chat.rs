//! Chat history: messages numbered per room, deduplicated by the sender's client id, and read
//! a page at a time in either direction.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{
    SqlStore,
    retry::{backoff, is_deadlock},
    rows::message_from_row,
};
use crate::{ChatMessage, ChatStore, StoreError, StoreResult};

pub(super) const MESSAGE_SELECT: &str = "SELECT m.challenge_id, m.seq, m.user_id, u.nickname, m.body, m.client_id, m.created_at, \
     m.deleted_at, u.suspended_until, p.joined_at AS author_joined_at \
     FROM chat_messages m JOIN users u ON u.id = m.user_id \
     LEFT JOIN participants p ON p.challenge_id = m.challenge_id AND p.user_id = m.user_id";

/// How often a chat message is tried again after another took its number.
const MAX_CHAT_ATTEMPTS: u32 = 100;

/// Which side of a message number a page lies on.
#[derive(Debug, Clone, Copy)]
enum Side {
    Above,
    Below,
}

impl SqlStore {
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

    /// The `limit` messages nearest to `seq` on `side` of it (the newest of those above, the
    /// newest of those below), oldest first.
    async fn message_page(
        &self,
        challenge_id: i64,
        side: Side,
        seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let comparison = match side {
            Side::Above => ">",
            Side::Below => "<",
        };
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.challenge_id = ? AND m.seq {comparison} ? ORDER BY m.seq DESC LIMIT ?"
        );
        let rows = sqlx::query(&self.sql(&sql))
            .bind(challenge_id)
            .bind(seq)
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
}

#[async_trait]
impl ChatStore for SqlStore {
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
        self.message_page(challenge_id, Side::Above, after, limit)
            .await
    }

    async fn messages_before(
        &self,
        challenge_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        self.message_page(challenge_id, Side::Below, before.unwrap_or(i64::MAX), limit)
            .await
    }
}
