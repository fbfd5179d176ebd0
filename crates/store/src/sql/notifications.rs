//! Calendar feeds, notifications with their settings and reminder candidates, and Web Push
//! subscriptions.
//!
//! Exactly-once notifications rest on the unique index `(user_id, dedupe_key)`: an insert that
//! finds the key taken stores nothing (`ON CONFLICT DO NOTHING`, `INSERT IGNORE` on MySQL), so
//! of any number of nodes trying to create the same reminder, one gets the row.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::{Row, any::AnyRow};

use super::{
    Backend, SqlStore,
    dialect::{Bind, bind_all, is_foreign_key_violation},
    rows::{challenge_from_row, ts},
};
use crate::{
    CalendarStore, NewNotification, NotificationRecord, NotificationSettingsRecord,
    NotificationStore, PushStore, PushSubscriptionRecord, ReminderCandidate, StoreResult,
};

const NOTIFICATION_COLUMNS: &str = "id, user_id, kind, challenge_id, data, created_at, read_at";

fn notification_from_row(row: &AnyRow) -> StoreResult<NotificationRecord> {
    Ok(NotificationRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        challenge_id: row.try_get("challenge_id")?,
        data: row.try_get("data")?,
        created_at: ts(row.try_get("created_at")?)?,
        read_at: row
            .try_get::<Option<i64>, _>("read_at")?
            .map(ts)
            .transpose()?,
    })
}

fn settings_from_row(row: &AnyRow) -> StoreResult<Option<NotificationSettingsRecord>> {
    let Some(kinds) = row.try_get::<Option<i64>, _>("settings_kinds")? else {
        return Ok(None);
    };
    Ok(Some(NotificationSettingsRecord {
        kinds,
        minutes_before: row.try_get("minutes_before")?,
        quiet_start: row.try_get("quiet_start")?,
        quiet_end: row.try_get("quiet_end")?,
        timezone: row.try_get("quiet_timezone")?,
    }))
}

const SETTINGS_COLUMNS: &str = "s.kinds AS settings_kinds, s.minutes_before, s.quiet_start, \
     s.quiet_end, s.timezone AS quiet_timezone";

#[async_trait]
impl CalendarStore for SqlStore {
    async fn calendar_feed(&self, user_id: i64) -> StoreResult<Option<i64>> {
        let sql = "SELECT generation FROM calendar_feeds WHERE user_id = ?";
        let row = self
            .fetch_optional(self.db(), sql, vec![Bind::Int(user_id)])
            .await?;
        Ok(row.map(|r| r.try_get("generation")).transpose()?)
    }

    async fn set_calendar_feed(
        &self,
        user_id: i64,
        generation: i64,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let now = now.as_millisecond();
        let hash = Bind::Text(token_hash.to_owned());
        let changed = if generation == 1 {
            let sql = match self.backend {
                Backend::MySql => {
                    "INSERT IGNORE INTO calendar_feeds (user_id, generation, token_hash, updated_at) VALUES (?, 1, ?, ?)"
                }
                Backend::Sqlite | Backend::Postgres => {
                    "INSERT INTO calendar_feeds (user_id, generation, token_hash, updated_at) VALUES (?, 1, ?, ?) \
                     ON CONFLICT (user_id) DO NOTHING"
                }
            };
            self.execute(
                self.db(),
                sql,
                vec![Bind::Int(user_id), hash, Bind::Int(now)],
            )
            .await?
        } else {
            let sql = "UPDATE calendar_feeds SET generation = ?, token_hash = ?, updated_at = ? \
                       WHERE user_id = ? AND generation = ?";
            let binds = vec![
                Bind::Int(generation),
                hash,
                Bind::Int(now),
                Bind::Int(user_id),
                Bind::Int(generation - 1),
            ];
            self.execute(self.db(), sql, binds).await?
        };
        Ok(changed == 1)
    }

    async fn calendar_feed_owner(&self, token_hash: &str) -> StoreResult<Option<i64>> {
        let sql = "SELECT user_id FROM calendar_feeds WHERE token_hash = ?";
        let row = self
            .fetch_optional(self.db(), sql, vec![Bind::Text(token_hash.to_owned())])
            .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }
}

impl SqlStore {
    /// Inserts the notification unless its dedupe key is taken: its id, or `None`.
    async fn insert_notification(
        &self,
        n: &NewNotification,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let binds = vec![
            Bind::Int(n.user_id),
            Bind::Text(n.kind.clone()),
            Bind::OptInt(n.challenge_id),
            Bind::Text(n.data.clone()),
            Bind::OptText(n.dedupe_key.clone()),
            Bind::Int(now),
        ];
        let columns =
            "(user_id, kind, challenge_id, data, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?, ?)";
        match self.backend {
            Backend::MySql => {
                let sql = format!("INSERT IGNORE INTO notifications {columns}");
                let result = bind_all(sqlx::query(&sql), binds)
                    .execute(self.db())
                    .await?;
                Ok((result.rows_affected() == 1)
                    .then(|| result.last_insert_id())
                    .flatten())
            }
            Backend::Sqlite | Backend::Postgres => {
                let sql = self.sql(&format!(
                    "INSERT INTO notifications {columns} ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id"
                ))
                .into_owned();
                let row = bind_all(sqlx::query(&sql), binds)
                    .fetch_optional(self.db())
                    .await?;
                row.map(|r| r.try_get::<i64, _>(0)).transpose()
            }
        }
    }
}

#[async_trait]
impl NotificationStore for SqlStore {
    async fn create_notification(
        &self,
        notification: &NewNotification,
        now: Timestamp,
    ) -> StoreResult<Option<NotificationRecord>> {
        let id = match self
            .insert_notification(notification, now.as_millisecond())
            .await
        {
            Ok(Some(id)) => id,
            Ok(None) => return Ok(None),
            // The challenge was deleted meanwhile: there is nothing to tell.
            Err(e) if is_foreign_key_violation(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(NotificationRecord {
            id,
            user_id: notification.user_id,
            kind: notification.kind.clone(),
            challenge_id: notification.challenge_id,
            data: notification.data.clone(),
            created_at: ts(now.as_millisecond())?,
            read_at: None,
        }))
    }

    async fn notifications(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? AND id < ? \
             ORDER BY id DESC LIMIT ?"
        );
        let binds = vec![
            Bind::Int(user_id),
            Bind::Int(before.unwrap_or(i64::MAX)),
            Bind::Int(limit),
        ];
        self.fetch_map(&sql, binds, notification_from_row).await
    }

    async fn unread_notifications(&self, user_id: i64) -> StoreResult<i64> {
        let sql =
            "SELECT COUNT(*) AS unread FROM notifications WHERE user_id = ? AND read_at IS NULL";
        let rows = self
            .fetch_all(self.db(), sql, vec![Bind::Int(user_id)])
            .await?;
        Ok(rows
            .first()
            .map(|r| r.try_get::<i64, _>("unread"))
            .transpose()?
            .unwrap_or(0))
    }

    async fn mark_notifications_read(
        &self,
        user_id: i64,
        up_to: i64,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let sql = "UPDATE notifications SET read_at = ? WHERE user_id = ? AND id <= ? AND read_at IS NULL";
        let binds = vec![
            Bind::Int(now.as_millisecond()),
            Bind::Int(user_id),
            Bind::Int(up_to),
        ];
        Ok(self.execute(self.db(), sql, binds).await?)
    }

    async fn notification_settings(
        &self,
        user_id: i64,
    ) -> StoreResult<Option<NotificationSettingsRecord>> {
        let sql =
            format!("SELECT {SETTINGS_COLUMNS} FROM notification_settings s WHERE s.user_id = ?");
        let row = self
            .fetch_optional(self.db(), &sql, vec![Bind::Int(user_id)])
            .await?;
        match row {
            Some(row) => settings_from_row(&row),
            None => Ok(None),
        }
    }

    async fn set_notification_settings(
        &self,
        user_id: i64,
        settings: &NotificationSettingsRecord,
        now: Timestamp,
    ) -> StoreResult<()> {
        let sql = match self.backend {
            Backend::MySql => {
                "INSERT INTO notification_settings (user_id, kinds, minutes_before, quiet_start, quiet_end, timezone, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE kinds = VALUES(kinds), \
                 minutes_before = VALUES(minutes_before), quiet_start = VALUES(quiet_start), \
                 quiet_end = VALUES(quiet_end), timezone = VALUES(timezone), updated_at = VALUES(updated_at)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO notification_settings (user_id, kinds, minutes_before, quiet_start, quiet_end, timezone, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET kinds = excluded.kinds, \
                 minutes_before = excluded.minutes_before, quiet_start = excluded.quiet_start, \
                 quiet_end = excluded.quiet_end, timezone = excluded.timezone, updated_at = excluded.updated_at"
            }
        };
        let binds = vec![
            Bind::Int(user_id),
            Bind::Int(settings.kinds),
            Bind::Int(settings.minutes_before),
            Bind::OptText(settings.quiet_start.clone()),
            Bind::OptText(settings.quiet_end.clone()),
            Bind::OptText(settings.timezone.clone()),
            Bind::Int(now.as_millisecond()),
        ];
        self.execute(self.db(), sql, binds).await?;
        Ok(())
    }

    async fn reminder_candidates(
        &self,
        now: Timestamp,
        until: Timestamp,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<ReminderCandidate>> {
        let (after_challenge, after_user) = after.unwrap_or((0, 0));
        let sql = format!(
            "SELECT c.id, c.creator_id, u.nickname AS creator_nickname, u.profile_image AS creator_image, \
             c.title, c.description, c.category, c.thumbnail, c.capacity, c.participant_count, c.start_date, c.end_date, \
             c.days_of_week, c.session_start, c.session_end, c.timezone, c.min_minutes, c.success_rate, c.created_at, c.updated_at, \
             c.notice, c.notice_updated_at, c.wish_count, p.removed_at AS viewer_removed_at, \
             p.user_id AS viewer_id, p.joined_at AS viewer_joined_at, w.created_at AS viewer_wished_at, {SETTINGS_COLUMNS} \
             FROM participants p JOIN challenges c ON c.id = p.challenge_id JOIN users u ON u.id = c.creator_id \
             LEFT JOIN wishes w ON w.challenge_id = c.id AND w.user_id = p.user_id \
             LEFT JOIN notification_settings s ON s.user_id = p.user_id \
             WHERE p.status = 'ACTIVE' AND c.ends_at > ? AND c.starts_at <= ? \
             AND (p.challenge_id > ? OR (p.challenge_id = ? AND p.user_id > ?)) \
             ORDER BY p.challenge_id, p.user_id LIMIT ?"
        );
        let binds = vec![
            Bind::Int(now.as_millisecond()),
            Bind::Int(until.as_millisecond()),
            Bind::Int(after_challenge),
            Bind::Int(after_challenge),
            Bind::Int(after_user),
            Bind::Int(limit),
        ];
        self.fetch_map(&sql, binds, |row| {
            Ok(ReminderCandidate {
                challenge: challenge_from_row(row)?,
                user_id: row.try_get("viewer_id")?,
                joined_at: ts(row.try_get("viewer_joined_at")?)?,
                settings: settings_from_row(row)?,
            })
        })
        .await
    }
}

const PUSH_COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, created_at";

#[async_trait]
impl PushStore for SqlStore {
    async fn save_push_subscription(
        &self,
        user_id: i64,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = match self.backend {
            Backend::MySql => {
                "INSERT IGNORE INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (endpoint) DO NOTHING"
            }
        };
        let binds = vec![
            Bind::Int(user_id),
            Bind::Text(endpoint.to_owned()),
            Bind::Text(p256dh.to_owned()),
            Bind::Text(auth.to_owned()),
            Bind::Int(now.as_millisecond()),
        ];
        if self.execute(self.db(), sql, binds).await? == 1 {
            return Ok(true);
        }
        // The endpoint exists: renew the keys when it is this user's.
        let sql =
            "UPDATE push_subscriptions SET p256dh = ?, auth = ? WHERE endpoint = ? AND user_id = ?";
        let binds = vec![
            Bind::Text(p256dh.to_owned()),
            Bind::Text(auth.to_owned()),
            Bind::Text(endpoint.to_owned()),
            Bind::Int(user_id),
        ];
        self.execute(self.db(), sql, binds).await?;
        let sql = "SELECT 1 FROM push_subscriptions WHERE endpoint = ? AND user_id = ?";
        Ok(self
            .exists(
                self.db(),
                sql,
                vec![Bind::Text(endpoint.to_owned()), Bind::Int(user_id)],
            )
            .await?)
    }

    async fn delete_push_subscription(&self, user_id: i64, endpoint: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?";
        let binds = vec![Bind::Int(user_id), Bind::Text(endpoint.to_owned())];
        Ok(self.execute(self.db(), sql, binds).await? > 0)
    }

    async fn delete_push_endpoint(&self, endpoint: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM push_subscriptions WHERE endpoint = ?";
        Ok(self
            .execute(self.db(), sql, vec![Bind::Text(endpoint.to_owned())])
            .await?
            > 0)
    }

    async fn push_subscriptions(&self, user_id: i64) -> StoreResult<Vec<PushSubscriptionRecord>> {
        let sql =
            format!("SELECT {PUSH_COLUMNS} FROM push_subscriptions WHERE user_id = ? ORDER BY id");
        self.fetch_map(&sql, vec![Bind::Int(user_id)], |row| {
            Ok(PushSubscriptionRecord {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                endpoint: row.try_get("endpoint")?,
                p256dh: row.try_get("p256dh")?,
                auth: row.try_get("auth")?,
                created_at: ts(row.try_get("created_at")?)?,
            })
        })
        .await
    }
}
