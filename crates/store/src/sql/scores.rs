//! The score ledger (recording, reconciling, totals, per-span activity) and the reads the
//! statistics are computed from.

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};
use sqlx::Row;
use ssgwan_domain::award::{self, AwardFacts};

use super::{
    Backend, SqlStore,
    dialect::{Bind, placeholders},
    rows::{CHALLENGE_SELECT, attendance_from_row, date, participant_status, ts, viewer_binds},
};
use crate::{
    AttendanceRecord, Participation, ScoreActivity, ScoreKind, ScoreStore, ScoreTotal, StatsStore,
    StoreResult,
};

#[async_trait]
impl ScoreStore for SqlStore {
    async fn award_facts(&self, challenge_id: i64) -> StoreResult<Option<AwardFacts>> {
        let sql = "SELECT participant_count, COALESCE(scheduled_at, created_at) AS scheduled_at, starts_at FROM challenges WHERE id = ?";
        let row = self
            .fetch_optional(self.db(), sql, vec![Bind::Int(challenge_id)])
            .await?;
        row.map(|r| {
            Ok(AwardFacts {
                participants: r.try_get("participant_count")?,
                scheduled_at: ts(r.try_get("scheduled_at")?)?,
                starts_at: ts(r.try_get("starts_at")?)?,
            })
        })
        .transpose()
    }

    async fn record_score(
        &self,
        user_id: i64,
        challenge_id: i64,
        kind: ScoreKind,
        session_date: Option<Date>,
        points: i64,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let sql = match self.backend {
            Backend::MySql => {
                "INSERT IGNORE INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            }
        };
        let binds = vec![
            Bind::Int(user_id),
            Bind::Int(challenge_id),
            Bind::Text(kind.as_str().to_owned()),
            Bind::Text(session_date.map(|d| d.to_string()).unwrap_or_default()),
            Bind::Int(points),
            Bind::Int(at.as_millisecond()),
        ];
        Ok(self.execute(self.db(), sql, binds).await? == 1)
    }

    async fn reconcile_scores(&self, rules: &award::AwardRules) -> StoreResult<u64> {
        // The points and the award rules (ssgwan_domain::award) are the domain's, bound like
        // any other value: only challenges that earn points get ledger rows here too.
        let sessions = "INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) \
             SELECT a.user_id, a.challenge_id, 'SESSION', a.session_date, ?, a.achieved_at FROM attendance a \
             JOIN challenges c ON c.id = a.challenge_id \
             WHERE a.achieved_at IS NOT NULL AND c.participant_count >= ? AND (? = 0 OR c.starts_at - COALESCE(c.scheduled_at, c.created_at) >= ?) \
             AND NOT EXISTS (SELECT 1 FROM score_ledger s WHERE s.user_id = a.user_id \
             AND s.challenge_id = a.challenge_id AND s.kind = 'SESSION' AND s.session_date = a.session_date)";
        let completions = "INSERT INTO score_ledger (user_id, challenge_id, kind, session_date, points, created_at) \
             SELECT p.user_id, p.challenge_id, 'COMPLETION', '', ?, p.updated_at FROM participants p \
             JOIN challenges c ON c.id = p.challenge_id \
             WHERE p.status = 'COMPLETED' AND c.participant_count >= ? AND (? = 0 OR c.starts_at - COALESCE(c.scheduled_at, c.created_at) >= ?) \
             AND NOT EXISTS (SELECT 1 FROM score_ledger s WHERE s.user_id = p.user_id \
             AND s.challenge_id = p.challenge_id AND s.kind = 'COMPLETION')";
        let mut added = 0;
        for (sql, kind) in [
            (sessions, ScoreKind::Session),
            (completions, ScoreKind::Completion),
        ] {
            let lead = i64::try_from(rules.min_lead_time.as_millis().max(0)).unwrap_or(i64::MAX);
            let binds = vec![
                Bind::Int(kind.points()),
                Bind::Int(rules.min_participants),
                Bind::Int(lead),
                Bind::Int(lead),
            ];
            added += self.execute(self.db(), sql, binds).await?;
        }
        Ok(added)
    }

    async fn score_totals(&self, since: Option<Timestamp>) -> StoreResult<Vec<ScoreTotal>> {
        let sql = format!(
            "SELECT user_id, {} AS score, {} AS completed, MAX(created_at) AS reached_at FROM score_ledger WHERE created_at >= ? GROUP BY user_id",
            self.int_sum("SUM(points)"),
            self.int_sum("SUM(CASE WHEN kind = 'COMPLETION' THEN 1 ELSE 0 END)")
        );
        let since = since.map_or(i64::MIN, |t| t.as_millisecond());
        self.fetch_map(&sql, vec![Bind::Int(since)], |r| {
            Ok(ScoreTotal {
                user_id: r.try_get("user_id")?,
                score: r.try_get("score")?,
                completed: r.try_get("completed")?,
                reached_at: r.try_get("reached_at")?,
            })
        })
        .await
    }

    async fn score_activity(
        &self,
        users: &[i64],
        bounds: &[Timestamp],
    ) -> StoreResult<Vec<ScoreActivity>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        // One grouped query: the all-time sum and one conditional sum per span, so a page of
        // any size costs one round trip and returns one row per user.
        let spans = bounds.len().saturating_sub(1);
        let mut columns = vec![format!("{} AS total", self.int_sum("SUM(points)"))];
        let mut binds = Vec::with_capacity(spans * 2 + users.len());
        for (i, span) in bounds.windows(2).enumerate() {
            columns.push(format!(
                "{} AS span{i}",
                self.int_sum(
                    "SUM(CASE WHEN created_at >= ? AND created_at < ? THEN points ELSE 0 END)"
                )
            ));
            binds.extend([
                Bind::Int(span[0].as_millisecond()),
                Bind::Int(span[1].as_millisecond()),
            ]);
        }
        binds.extend(users.iter().map(|id| Bind::Int(*id)));
        let sql = format!(
            "SELECT user_id, {} FROM score_ledger WHERE user_id IN ({}) GROUP BY user_id",
            columns.join(", "),
            placeholders(users.len())
        );
        self.fetch_map(&sql, binds, |r| {
            Ok(ScoreActivity {
                user_id: r.try_get("user_id")?,
                total: r.try_get("total")?,
                spans: (0..spans)
                    .map(|i| r.try_get::<i64, _>(format!("span{i}").as_str()))
                    .collect::<Result<_, _>>()?,
            })
        })
        .await
    }
}

#[async_trait]
impl StatsStore for SqlStore {
    async fn participations(&self, user_id: i64) -> StoreResult<Vec<Participation>> {
        let sql = format!("{CHALLENGE_SELECT} WHERE p.user_id IS NOT NULL ORDER BY c.id");
        let rows = self
            .fetch_all(self.db(), &sql, viewer_binds(Some(user_id)).to_vec())
            .await?;
        // The select already carries the user's own participant row: no query per challenge.
        self.challenges_with(&rows, |row, challenge| {
            Ok(Participation {
                challenge,
                status: participant_status(row, "viewer_status")?,
                joined_at: ts(row.try_get("viewer_joined_at")?)?,
            })
        })
        .await
    }

    async fn user_attendance(
        &self,
        user_id: i64,
        from: Date,
        until: Date,
    ) -> StoreResult<Vec<AttendanceRecord>> {
        let sql = "SELECT challenge_id, session_date, seconds, achieved_at FROM attendance WHERE user_id = ? AND session_date >= ? AND session_date <= ?";
        let binds = vec![
            Bind::Int(user_id),
            Bind::Text(from.to_string()),
            Bind::Text(until.to_string()),
        ];
        self.fetch_map(sql, binds, attendance_from_row).await
    }

    async fn achieved_sessions(&self, user_id: i64) -> StoreResult<Vec<AttendanceRecord>> {
        let sql = "SELECT challenge_id, session_date, seconds, achieved_at FROM attendance WHERE user_id = ? AND achieved_at IS NOT NULL";
        self.fetch_map(sql, vec![Bind::Int(user_id)], attendance_from_row)
            .await
    }

    async fn challenge_achievements(&self, challenge_id: i64) -> StoreResult<Vec<(Date, i64)>> {
        let sql = "SELECT session_date, COUNT(*) AS achieved FROM attendance WHERE challenge_id = ? AND achieved_at IS NOT NULL GROUP BY session_date ORDER BY session_date";
        self.fetch_map(sql, vec![Bind::Int(challenge_id)], |r| {
            Ok((date(r, "session_date")?, r.try_get("achieved")?))
        })
        .await
    }
}
