//! Challenges and their tags: create, read, list, edit, delete, the notice and popular tags.

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};
use sqlx::{Row, any::AnyRow};
use ssgwan_domain::{
    ChallengeSpec, ChallengeStatus,
    participation::{ChallengeFacts, capacity_refusal, edit_refusal},
    schedule::format_time_of_day,
};

use super::{
    SqlStore,
    dialect::{Bind, bind_all, like_pattern, placeholders},
    refused,
    rows::{CHALLENGE_SELECT, FACTS_COLUMNS, challenge_from_row, facts_from_row, viewer_binds},
};
use crate::{
    ChallengeCursor, ChallengeQuery, ChallengeRecord, ChallengeSort, ChallengeStore, Conflict,
    CreationLimit, Entity, MyChallengesState, PopularTag, StoreError, StoreResult,
};

const SPEC_COLUMNS: &str = "title, description, search_text, category, thumbnail, capacity, start_date, end_date, days_of_week, \
     session_start, session_end, timezone, min_minutes, success_rate, starts_at, ends_at";

/// The bound values of a challenge definition, in the order of [`SPEC_COLUMNS`].
fn spec_binds(spec: &ChallengeSpec) -> Vec<Bind> {
    let s = &spec.schedule;
    vec![
        Bind::Text(spec.title.clone()),
        Bind::Text(spec.description.clone()),
        Bind::Text(spec.search_text()),
        Bind::Text(spec.category.as_str().to_owned()),
        Bind::OptText(spec.thumbnail.clone()),
        Bind::Int(spec.capacity),
        Bind::Text(s.start_date.to_string()),
        Bind::Text(s.end_date.to_string()),
        Bind::Int(i64::from(s.days.bits())),
        Bind::Text(format_time_of_day(s.session_start)),
        Bind::Text(format_time_of_day(s.session_end)),
        Bind::Text(s.timezone_name.clone()),
        Bind::Int(spec.min_minutes),
        Bind::Int(spec.success_rate),
        Bind::Int(s.starts_at().as_millisecond()),
        Bind::Int(s.ends_at().as_millisecond()),
    ]
}

impl SqlStore {
    /// Reads challenge rows and gives each its tags, with one query for the whole page
    /// (never one per row).
    pub(super) async fn challenges_from_rows(
        &self,
        rows: &[AnyRow],
    ) -> StoreResult<Vec<ChallengeRecord>> {
        let mut records = rows
            .iter()
            .map(challenge_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.attach_tags(&mut records).await?;
        Ok(records)
    }

    /// The challenges of `rows` (as [`Self::challenges_from_rows`]), each with what `extra`
    /// reads from its row alongside.
    pub(super) async fn challenges_with<T>(
        &self,
        rows: &[AnyRow],
        extra: impl Fn(&AnyRow, ChallengeRecord) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let challenges = self.challenges_from_rows(rows).await?;
        rows.iter()
            .zip(challenges)
            .map(|(row, challenge)| extra(row, challenge))
            .collect()
    }

    /// Loads the tags of every record in one `WHERE challenge_id IN (…)` query.
    async fn attach_tags(&self, records: &mut [ChallengeRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT challenge_id, tag FROM challenge_tags WHERE challenge_id IN ({}) ORDER BY challenge_id, position",
            placeholders(records.len())
        );
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql);
        for record in records.iter() {
            query = query.bind(record.id);
        }
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        for row in query.fetch_all(self.db()).await? {
            tags.entry(row.try_get("challenge_id")?)
                .or_default()
                .push(row.try_get("tag")?);
        }
        for record in records.iter_mut() {
            record.spec.tags = tags.remove(&record.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Replaces a challenge's tags inside the transaction that writes the challenge.
    async fn write_tags(
        &self,
        conn: &mut sqlx::AnyConnection,
        challenge_id: i64,
        tags: &[String],
        replace: bool,
    ) -> Result<(), sqlx::Error> {
        if replace {
            let sql = self.sql("DELETE FROM challenge_tags WHERE challenge_id = ?");
            sqlx::query(&sql)
                .bind(challenge_id)
                .execute(self.on(conn))
                .await?;
        }
        if tags.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?, ?, ?)"; tags.len()].join(", ");
        let sql = format!(
            "INSERT INTO challenge_tags (challenge_id, tag_key, tag, position) VALUES {rows}"
        );
        let sql = self.sql(&sql);
        let mut query = sqlx::query(&sql);
        for (position, tag) in tags.iter().enumerate() {
            query = query
                .bind(challenge_id)
                .bind(ssgwan_domain::tag::tag_key(tag))
                .bind(tag.clone())
                .bind(position as i64);
        }
        query.execute(self.on(conn)).await?;
        Ok(())
    }

    /// What the participation rules look at in a challenge, read now (`None`: no such
    /// challenge), with its timezone's name.
    pub(super) async fn challenge_facts(
        &self,
        id: i64,
    ) -> StoreResult<Option<(ChallengeFacts, String)>> {
        let sql = format!("SELECT {FACTS_COLUMNS}, timezone FROM challenges WHERE id = ?");
        let row = sqlx::query(&self.sql(&sql))
            .bind(id)
            .fetch_optional(self.db())
            .await?;
        row.map(|r| Ok((facts_from_row(&r)?, r.try_get("timezone")?)))
            .transpose()
    }

    /// [`Self::challenge_facts`], or `NotFound(Entity::Challenge)`.
    pub(super) async fn existing_challenge_facts(&self, id: i64) -> StoreResult<ChallengeFacts> {
        self.challenge_facts(id)
            .await?
            .map(|(facts, _)| facts)
            .ok_or(StoreError::NotFound(Entity::Challenge))
    }
}

#[async_trait]
impl ChallengeStore for SqlStore {
    async fn create_challenge(
        &self,
        creator_id: i64,
        spec: &ChallengeSpec,
        creator_joined_on: Date,
        now: Timestamp,
        limit: CreationLimit,
    ) -> StoreResult<i64> {
        let mut tx = self.db().begin().await?;
        if limit.max > 0 {
            // Counted under the creator's row lock: racing creations queue here, so the
            // limit holds on any number of nodes.
            self.lock_user(&mut tx, creator_id).await?;
            let row = self
                .fetch_optional(
                    self.on(&mut tx),
                    "SELECT COUNT(*) AS made FROM challenges WHERE creator_id = ? AND created_at >= ?",
                    vec![
                        Bind::Int(creator_id),
                        Bind::Int(limit.day_start.as_millisecond()),
                    ],
                )
                .await?;
            let made: i64 = match row {
                Some(row) => row.try_get("made")?,
                None => 0,
            };
            if made >= limit.max {
                tx.rollback().await?;
                return Err(StoreError::Conflict(Conflict::ChallengeLimitReached));
            }
        }
        if !self
            .use_own_upload(&mut tx, creator_id, spec.thumbnail.as_deref(), now)
            .await?
        {
            tx.rollback().await?;
            return Err(StoreError::Conflict(Conflict::UploadNotOwned));
        }
        let sql = format!(
            "INSERT INTO challenges (creator_id, participant_count, created_at, updated_at, scheduled_at, {SPEC_COLUMNS}) \
             VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let mut binds = vec![
            Bind::Int(creator_id),
            Bind::Int(now.as_millisecond()),
            Bind::Int(now.as_millisecond()),
            Bind::Int(now.as_millisecond()),
        ];
        binds.extend(spec_binds(spec));
        let id = self.insert_returning_id(&mut tx, &sql, binds).await?;
        let sql = self.sql("INSERT INTO participants (challenge_id, user_id, status, joined_at, joined_on, updated_at) VALUES (?, ?, 'ACTIVE', ?, ?, ?)");
        sqlx::query(&sql)
            .bind(id)
            .bind(creator_id)
            .bind(now.as_millisecond())
            .bind(creator_joined_on.to_string())
            .bind(now.as_millisecond())
            .execute(self.on(&mut tx))
            .await?;
        self.write_tags(&mut tx, id, &spec.tags, false).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn challenge(
        &self,
        id: i64,
        viewer: Option<i64>,
    ) -> StoreResult<Option<ChallengeRecord>> {
        // One statement, tags included (a page of challenges reads its tags apart, with one
        // query for the page).
        let sql = format!(
            "{} WHERE c.id = ?",
            CHALLENGE_SELECT.replacen(
                " FROM challenges c ",
                &format!(", {} AS tag_list FROM challenges c ", self.tag_list()),
                1
            )
        );
        let sql = self.sql(&sql);
        let mut binds = viewer_binds(viewer).to_vec();
        binds.push(Bind::Int(id));
        let Some(row) = bind_all(sqlx::query(&sql), binds)
            .fetch_optional(self.db())
            .await?
        else {
            return Ok(None);
        };
        let mut record = challenge_from_row(&row)?;
        record.spec.tags = row
            .try_get::<Option<String>, _>("tag_list")?
            .map(|list| list.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(Some(record))
    }

    async fn update_challenge(
        &self,
        id: i64,
        spec: &ChallengeSpec,
        now: Timestamp,
    ) -> StoreResult<()> {
        let assignments: Vec<String> = SPEC_COLUMNS
            .split(", ")
            .map(|c| format!("{c} = ?"))
            .collect();
        // scheduled_at first: MySQL evaluates assignments left to right, so starts_at must still
        // be the old one when it is compared.
        let sql = format!(
            "UPDATE challenges SET scheduled_at = CASE WHEN starts_at = ? THEN scheduled_at ELSE ? END, {}, updated_at = ? \
             WHERE id = ? AND starts_at > ? AND participant_count <= ?",
            assignments.join(", ")
        );
        let sql = self.sql(&sql);
        let mut binds = vec![
            Bind::Int(spec.schedule.starts_at().as_millisecond()),
            Bind::Int(now.as_millisecond()),
        ];
        binds.extend(spec_binds(spec));
        binds.extend([
            Bind::Int(now.as_millisecond()),
            Bind::Int(id),
            Bind::Int(now.as_millisecond()),
            Bind::Int(spec.capacity),
        ]);
        // The definition and its tags change together or not at all.
        let mut tx = self.db().begin().await?;
        let creator = self.existing_challenge_facts(id).await?.creator_id;
        if !self
            .use_own_upload(&mut tx, creator, spec.thumbnail.as_deref(), now)
            .await?
        {
            tx.rollback().await?;
            return Err(StoreError::Conflict(Conflict::UploadNotOwned));
        }
        let result = bind_all(sqlx::query(&sql), binds)
            .execute(self.on(&mut tx))
            .await?;
        if result.rows_affected() == 1 {
            self.write_tags(&mut tx, id, &spec.tags, true).await?;
            tx.commit().await?;
            return Ok(());
        }
        tx.rollback().await?;
        // The store writes on the creator's behalf (the edge checked who asks).
        let facts = self.existing_challenge_facts(id).await?;
        Err(refused(
            edit_refusal(&facts, facts.creator_id, now)
                .or_else(|| capacity_refusal(&facts, spec.capacity)),
            Conflict::CapacityBelowParticipants,
        ))
    }

    async fn delete_challenge(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        // Participants and attendance go with it (ON DELETE CASCADE).
        let sql = self.sql("DELETE FROM challenges WHERE id = ? AND starts_at > ?");
        if sqlx::query(&sql)
            .bind(id)
            .bind(now.as_millisecond())
            .execute(self.db())
            .await?
            .rows_affected()
            == 1
        {
            return Ok(());
        }
        let facts = self.existing_challenge_facts(id).await?;
        Err(refused(
            edit_refusal(&facts, facts.creator_id, now),
            Conflict::AlreadyStarted,
        ))
    }

    async fn list_challenges(
        &self,
        query: &ChallengeQuery,
        viewer: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Vec<ChallengeRecord>> {
        let now_ms = now.as_millisecond();
        let mut conditions: Vec<&str> = Vec::new();
        let mut binds = viewer_binds(viewer).to_vec();
        // Suspended creators' challenges are hidden, and the viewer's blocks (both ways) hide
        // each other's.
        conditions.push("(u.suspended_until IS NULL OR u.suspended_until <= ?)");
        binds.push(Bind::Int(now_ms));
        if let Some(viewer) = viewer {
            conditions.push(
                "NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ? AND b.blocked_id = c.creator_id) \
                 OR (b.blocked_id = ? AND b.blocker_id = c.creator_id))",
            );
            binds.extend([Bind::Int(viewer), Bind::Int(viewer)]);
        }
        if let Some(text) = &query.text {
            conditions.push("c.search_text LIKE ? ESCAPE '!'");
            binds.push(Bind::Text(like_pattern(text)));
        }
        if let Some(tag) = &query.tag {
            conditions.push(
                "EXISTS (SELECT 1 FROM challenge_tags t WHERE t.challenge_id = c.id AND t.tag_key = ?)",
            );
            binds.push(Bind::Text(ssgwan_domain::tag::tag_key(tag)));
        }
        if let Some(category) = query.category {
            conditions.push("c.category = ?");
            binds.push(Bind::Text(category.as_str().to_owned()));
        }
        match query.status {
            Some(ChallengeStatus::Recruiting) => {
                conditions.push("c.starts_at > ?");
                binds.push(Bind::Int(now_ms));
            }
            Some(ChallengeStatus::InProgress) => {
                conditions.push("c.starts_at <= ? AND c.ends_at > ?");
                binds.extend([Bind::Int(now_ms), Bind::Int(now_ms)]);
            }
            Some(ChallengeStatus::Ended) => {
                conditions.push("c.ends_at <= ?");
                binds.push(Bind::Int(now_ms));
            }
            None if query.sort == ChallengeSort::StartingSoon => {
                conditions.push("c.starts_at > ?");
                binds.push(Bind::Int(now_ms));
            }
            None => {}
        }
        let order = match query.sort {
            ChallengeSort::New => "c.id DESC",
            ChallengeSort::Popular => "c.popularity DESC, c.id DESC",
            ChallengeSort::StartingSoon => "c.starts_at ASC, c.id ASC",
        };
        if let Some(ChallengeCursor { key, id }) = query.after {
            match query.sort {
                ChallengeSort::New => {
                    conditions.push("c.id < ?");
                    binds.push(Bind::Int(id));
                }
                ChallengeSort::Popular => {
                    conditions.push("(c.popularity < ? OR (c.popularity = ? AND c.id < ?))");
                    binds.extend([Bind::Int(key), Bind::Int(key), Bind::Int(id)]);
                }
                ChallengeSort::StartingSoon => {
                    conditions.push("(c.starts_at > ? OR (c.starts_at = ? AND c.id > ?))");
                    binds.extend([Bind::Int(key), Bind::Int(key), Bind::Int(id)]);
                }
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        binds.push(Bind::Int(query.limit));
        let sql = format!("{CHALLENGE_SELECT}{filter} ORDER BY {order} LIMIT ?");
        let rows = self.fetch_all(self.db(), &sql, binds).await?;
        self.challenges_from_rows(&rows).await
    }

    async fn my_challenges(
        &self,
        user_id: i64,
        state: MyChallengesState,
    ) -> StoreResult<Vec<ChallengeRecord>> {
        let filter = match state {
            MyChallengesState::Active => "p.status = 'ACTIVE'",
            MyChallengesState::Completed => "p.status = 'COMPLETED'",
            MyChallengesState::Created => "c.creator_id = ?",
        };
        let sql = format!(
            "{CHALLENGE_SELECT} WHERE {filter} ORDER BY c.starts_at DESC, c.id DESC LIMIT 500"
        );
        let mut binds = viewer_binds(Some(user_id)).to_vec();
        if state == MyChallengesState::Created {
            binds.push(Bind::Int(user_id));
        }
        let rows = self.fetch_all(self.db(), &sql, binds).await?;
        self.challenges_from_rows(&rows).await
    }

    async fn set_notice(&self, id: i64, notice: Option<&str>, now: Timestamp) -> StoreResult<()> {
        let sql = "UPDATE challenges SET notice = ?, notice_updated_at = ? WHERE id = ?";
        let binds = vec![
            Bind::OptText(notice.map(str::to_owned)),
            Bind::Int(now.as_millisecond()),
            Bind::Int(id),
        ];
        if self.execute(self.db(), sql, binds).await? == 0 {
            return Err(StoreError::NotFound(Entity::Challenge));
        }
        Ok(())
    }

    async fn popular_tags(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<PopularTag>> {
        let sql = "SELECT t.tag_key, MIN(t.tag) AS tag, COUNT(*) AS uses FROM challenge_tags t \
             JOIN challenges c ON c.id = t.challenge_id WHERE c.ends_at > ? \
             GROUP BY t.tag_key ORDER BY uses DESC, t.tag_key ASC LIMIT ?";
        self.fetch_map(sql, until_limit(now, limit), |r| {
            Ok(PopularTag {
                tag: r.try_get("tag")?,
                count: r.try_get("uses")?,
            })
        })
        .await
    }
}

/// The binds of an `… > ? … LIMIT ?` read: the instant, then how many rows at the most.
pub(super) fn until_limit(now: Timestamp, limit: i64) -> Vec<Bind> {
    vec![Bind::Int(now.as_millisecond()), Bind::Int(limit)]
}
