//! Turning result rows into records, and the column lists the mappers expect.

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use sqlx::{Row, any::AnyRow};
use ssgwan_domain::{
    Category, ChallengeSpec,
    participation::ChallengeFacts,
    schedule::{DaySet, Schedule, parse_date, parse_time_of_day},
};

use super::dialect::Bind;
use crate::{
    AttendanceRecord, ChallengeRecord, ChatMessage, ParticipantStatus, StoreError, StoreResult,
    User, UserSummary,
};

/// Columns of a challenge as listings and details read them, with the creator, whether the
/// viewer holds a place, whether a host removed them and whether they wished it (the viewer is
/// bound to all three placeholders: see [`viewer_binds`]). Tags come from one more query per page
/// ([`SqlStore::attach_tags`](super::SqlStore::attach_tags)).
pub(super) const CHALLENGE_SELECT: &str = "SELECT c.id, c.creator_id, u.nickname AS creator_nickname, u.profile_image AS creator_image, \
     c.title, c.description, c.category, c.thumbnail, c.capacity, c.participant_count, c.start_date, c.end_date, \
     c.days_of_week, c.session_start, c.session_end, c.timezone, c.min_minutes, c.success_rate, c.created_at, c.updated_at, \
     c.notice, c.notice_updated_at, c.wish_count, \
     (SELECT r.removed_at FROM participants r WHERE r.challenge_id = c.id AND r.user_id = ?) AS viewer_removed_at, \
     p.user_id AS viewer_id, p.status AS viewer_status, p.joined_at AS viewer_joined_at, w.created_at AS viewer_wished_at \
     FROM challenges c JOIN users u ON u.id = c.creator_id \
     LEFT JOIN participants p ON p.challenge_id = c.id AND p.user_id = ? AND p.status <> 'CANCELLED' \
     LEFT JOIN wishes w ON w.challenge_id = c.id AND w.user_id = ?";

/// The values of [`CHALLENGE_SELECT`]'s three viewer placeholders (`-1`, nobody, when
/// anonymous).
pub(super) fn viewer_binds(viewer: Option<i64>) -> [Bind; 3] {
    let id = viewer.unwrap_or(-1);
    [Bind::Int(id), Bind::Int(id), Bind::Int(id)]
}

/// The columns [`user_from_row`] reads.
pub(super) const USER_COLUMNS: &str = "id, kakao_id, nickname, bio, profile_image, created_at";

/// The columns [`facts_from_row`] reads, from `challenges`.
pub(super) const FACTS_COLUMNS: &str =
    "creator_id, starts_at, ends_at, capacity, participant_count";

/// An instant stored as unix milliseconds.
pub(super) fn ts(millis: i64) -> StoreResult<Timestamp> {
    Timestamp::from_millisecond(millis).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A participant status column; `Corrupt` when it holds anything else.
pub(super) fn participant_status(row: &AnyRow, column: &str) -> StoreResult<ParticipantStatus> {
    let status: String = row.try_get(column)?;
    ParticipantStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("participant status {status:?}")))
}

/// A `YYYY-MM-DD` column.
pub(super) fn date(row: &AnyRow, column: &str) -> StoreResult<Date> {
    let text: String = row.try_get(column)?;
    parse_date(&text).ok_or_else(|| StoreError::Corrupt(column.to_owned()))
}

pub(super) fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        kakao_id: row.try_get("kakao_id")?,
        nickname: row.try_get("nickname")?,
        bio: row.try_get("bio")?,
        profile_image: row.try_get("profile_image")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// A user's public face, from the columns `id`, `nickname` and `profile_image`.
pub(super) fn summary_from_row(row: &AnyRow) -> StoreResult<UserSummary> {
    Ok(UserSummary {
        id: row.try_get("id")?,
        nickname: row.try_get("nickname")?,
        profile_image: row.try_get("profile_image")?,
    })
}

pub(super) fn facts_from_row(row: &AnyRow) -> StoreResult<ChallengeFacts> {
    Ok(ChallengeFacts {
        creator_id: row.try_get("creator_id")?,
        starts_at: ts(row.try_get("starts_at")?)?,
        ends_at: ts(row.try_get("ends_at")?)?,
        capacity: row.try_get("capacity")?,
        participant_count: row.try_get("participant_count")?,
    })
}

pub(super) fn challenge_from_row(row: &AnyRow) -> StoreResult<ChallengeRecord> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("challenge {what}"));
    let text = |col: &str| row.try_get::<String, _>(col);
    let timezone_name = text("timezone")?;
    let schedule = Schedule {
        start_date: parse_date(&text("start_date")?).ok_or_else(|| corrupt("start_date"))?,
        end_date: parse_date(&text("end_date")?).ok_or_else(|| corrupt("end_date"))?,
        days: u8::try_from(row.try_get::<i64, _>("days_of_week")?)
            .ok()
            .and_then(DaySet::from_bits)
            .ok_or_else(|| corrupt("days_of_week"))?,
        session_start: parse_time_of_day(&text("session_start")?)
            .ok_or_else(|| corrupt("session_start"))?,
        session_end: parse_time_of_day(&text("session_end")?)
            .ok_or_else(|| corrupt("session_end"))?,
        timezone: TimeZone::get(&timezone_name).map_err(|_| corrupt("timezone"))?,
        timezone_name,
    };
    let spec = ChallengeSpec {
        title: text("title")?,
        description: text("description")?,
        category: Category::parse(&text("category")?).ok_or_else(|| corrupt("category"))?,
        thumbnail: row.try_get("thumbnail")?,
        capacity: row.try_get("capacity")?,
        schedule,
        min_minutes: row.try_get("min_minutes")?,
        success_rate: row.try_get("success_rate")?,
        // Filled in for the whole page by `SqlStore::attach_tags`.
        tags: Vec::new(),
    };
    Ok(ChallengeRecord {
        id: row.try_get("id")?,
        creator: UserSummary {
            id: row.try_get("creator_id")?,
            nickname: text("creator_nickname")?,
            profile_image: row.try_get("creator_image")?,
        },
        spec,
        participant_count: row.try_get("participant_count")?,
        joined: row.try_get::<Option<i64>, _>("viewer_id")?.is_some(),
        removed: row
            .try_get::<Option<i64>, _>("viewer_removed_at")?
            .is_some(),
        notice: row.try_get("notice")?,
        notice_updated_at: row
            .try_get::<Option<i64>, _>("notice_updated_at")?
            .map(ts)
            .transpose()?,
        wish_count: row.try_get("wish_count")?,
        wished: row.try_get::<Option<i64>, _>("viewer_wished_at")?.is_some(),
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub(super) fn message_from_row(row: &AnyRow) -> StoreResult<ChatMessage> {
    Ok(ChatMessage {
        room: row.try_get("challenge_id")?,
        id: row.try_get("seq")?,
        user_id: row.try_get("user_id")?,
        nickname: row.try_get("nickname")?,
        body: row.try_get("body")?,
        client_id: row.try_get("client_id")?,
        created_at: ts(row.try_get("created_at")?)?,
        deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        author_suspended_until: row.try_get("suspended_until")?,
        author_joined_at: row
            .try_get::<Option<i64>, _>("author_joined_at")?
            .map(ts)
            .transpose()?,
    })
}

pub(super) fn attendance_from_row(row: &AnyRow) -> StoreResult<AttendanceRecord> {
    Ok(AttendanceRecord {
        challenge_id: row.try_get("challenge_id")?,
        date: date(row, "session_date")?,
        seconds: row.try_get("seconds")?,
        achieved_at: row
            .try_get::<Option<i64>, _>("achieved_at")?
            .map(ts)
            .transpose()?,
    })
}
