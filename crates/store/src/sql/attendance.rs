//! On-camera time per session date, and settling participants when their challenge ends.

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};
use sqlx::Row;

use super::{Backend, SqlStore, challenges::until_limit, dialect::Bind};
use crate::{
    AttendanceDay, AttendanceStore, AttendanceUpdate, ParticipantStatus, StoreError, StoreResult,
};

const DAY_SELECT: &str = "SELECT seconds, achieved_at FROM attendance WHERE challenge_id = ? AND user_id = ? AND session_date = ?";

#[async_trait]
impl AttendanceStore for SqlStore {
    async fn attendance_day(
        &self,
        challenge_id: i64,
        user_id: i64,
        date: Date,
    ) -> StoreResult<AttendanceDay> {
        let row = sqlx::query(&self.sql(DAY_SELECT))
            .bind(challenge_id)
            .bind(user_id)
            .bind(date.to_string())
            .fetch_optional(self.db())
            .await?;
        Ok(match row {
            Some(row) => AttendanceDay {
                seconds: row.try_get("seconds")?,
                achieved: row.try_get::<Option<i64>, _>("achieved_at")?.is_some(),
            },
            None => AttendanceDay::default(),
        })
    }

    async fn add_attendance(
        &self,
        challenge_id: i64,
        user_id: i64,
        date: Date,
        seconds: i64,
        achieve_at_seconds: i64,
        now: Timestamp,
    ) -> StoreResult<AttendanceUpdate> {
        let now_ms = now.as_millisecond();
        let date = date.to_string();
        // 1. Add the seconds (insert or accumulate: one statement, no lost update).
        let upsert = match self.backend {
            Backend::Sqlite | Backend::Postgres => {
                "ON CONFLICT (challenge_id, user_id, session_date) DO UPDATE SET \
                 seconds = attendance.seconds + excluded.seconds, updated_at = excluded.updated_at"
            }
            Backend::MySql => {
                "ON DUPLICATE KEY UPDATE seconds = seconds + VALUES(seconds), updated_at = VALUES(updated_at)"
            }
        };
        let sql = format!(
            "INSERT INTO attendance (challenge_id, user_id, session_date, seconds, achieved_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?) {upsert}"
        );
        sqlx::query(&self.sql(&sql))
            .bind(challenge_id)
            .bind(user_id)
            .bind(&date)
            .bind(seconds)
            .bind(now_ms)
            .execute(self.db())
            .await?;
        // 2. Mark it achieved: a conditional update that changes the row for exactly one caller,
        //    however many add time concurrently on however many nodes.
        let achieved = sqlx::query(&self.sql(
            "UPDATE attendance SET achieved_at = ? WHERE challenge_id = ? AND user_id = ? AND session_date = ? \
             AND achieved_at IS NULL AND seconds >= ?",
        ))
        .bind(now_ms)
        .bind(challenge_id)
        .bind(user_id)
        .bind(&date)
        .bind(achieve_at_seconds)
        .execute(self.db())
        .await?;
        let row = sqlx::query(&self.sql(DAY_SELECT))
            .bind(challenge_id)
            .bind(user_id)
            .bind(&date)
            .fetch_one(self.db())
            .await?;
        Ok(AttendanceUpdate {
            seconds: row.try_get("seconds")?,
            achieved: row.try_get::<Option<i64>, _>("achieved_at")?.is_some(),
            newly_achieved: achieved.rows_affected() == 1,
        })
    }

    async fn unfinalized_ended(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<i64>> {
        let sql = "SELECT id FROM challenges WHERE finalized_at IS NULL AND ends_at <= ? ORDER BY ends_at, id LIMIT ?";
        self.fetch_map(sql, until_limit(now, limit), |r| {
            r.try_get::<i64, _>("id").map_err(StoreError::from)
        })
        .await
    }

    async fn finalize_participant(
        &self,
        challenge_id: i64,
        user_id: i64,
        status: ParticipantStatus,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE participants SET status = ?, updated_at = ? WHERE challenge_id = ? AND user_id = ? AND status = 'ACTIVE'";
        let binds = vec![
            Bind::Text(status.as_str().to_owned()),
            Bind::Int(now.as_millisecond()),
            Bind::Int(challenge_id),
            Bind::Int(user_id),
        ];
        Ok(self.execute(self.db(), sql, binds).await? == 1)
    }

    async fn mark_finalized(&self, challenge_id: i64, now: Timestamp) -> StoreResult<()> {
        let sql = "UPDATE challenges SET finalized_at = ? WHERE id = ? AND finalized_at IS NULL";
        let binds = vec![Bind::Int(now.as_millisecond()), Bind::Int(challenge_id)];
        self.execute(self.db(), sql, binds).await?;
        Ok(())
    }
}
