//! The API's JSON shapes (camelCase), documented for OpenAPI, and their conversions from store
//! records. Inputs deny unknown fields so a typo is an error, not silently ignored.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use ssgwan_domain::{ChallengeDraft, ChallengeStatus};
use ssgwan_store::{ChallengeRecord, ParticipantRecord, PopularTag, User, UserSummary};
use utoipa::ToSchema;

use crate::scoring::Activity;

fn rfc3339(ts: Timestamp) -> String {
    ts.to_string()
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub id: i64,
    pub nickname: String,
    pub profile_image: Option<String>,
    pub bio: String,
    /// RFC 3339 instant.
    pub created_at: String,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            nickname: u.nickname,
            profile_image: u.profile_image,
            bio: u.bio,
            created_at: rfc3339(u.created_at),
        }
    }
}

/// A profile with what the user's all-time score amounts to (`GET /api/me`,
/// `GET /api/users/{id}`). Levels: level 1 at score 0, and going from level L to L + 1 costs
/// 100 + 20·(L − 1) points (level 2 at 100, 3 at 220, 4 at 360, 5 at 520, …).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto {
    #[serde(flatten)]
    pub user: UserDto,
    /// All-time score: +10 per achieved session, +50 per completed challenge.
    pub total_score: i64,
    /// Level from the all-time score (1 at score 0).
    #[schema(minimum = 1)]
    pub level: u32,
    /// The all-time score at which the next level is reached.
    pub next_level_score: i64,
    /// Points earned on each of the last 7 days in the server's timezone, oldest first (today last).
    #[schema(value_type = Vec<i64>, min_items = 7, max_items = 7)]
    pub recent_scores: [i64; ssgwan_domain::stats::RECENT_DAYS],
}

impl ProfileDto {
    pub fn new(user: User, activity: Activity) -> Self {
        Self {
            user: user.into(),
            total_score: activity.total_score,
            level: activity.level(),
            next_level_score: activity.next_level_score(),
            recent_scores: activity.recent_scores,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSummaryDto {
    pub id: i64,
    pub nickname: String,
    pub profile_image: Option<String>,
}

impl From<UserSummary> for UserSummaryDto {
    fn from(u: UserSummary) -> Self {
        Self {
            id: u.id,
            nickname: u.nickname,
            profile_image: u.profile_image,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevLoginRequest {
    /// 2–20 characters, no control characters, no spaces at either end, nothing invisible
    /// (format characters, bidi controls, Hangul fillers, variation selectors, tag
    /// characters), at most 2 combining marks on a letter; stored NFKC-normalized. An existing
    /// nickname signs in as that user, a new one creates it; a lookalike of another user's
    /// (same confusable skeleton) is 409 `NICKNAME_TAKEN`. The pattern states what a regex can
    /// (it leaves out combining diacriticals altogether); the server checks the rest.
    #[schema(
        min_length = 2,
        max_length = 20,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f\xad\u0300-\u036f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ue000-\uf8ff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb](?:[^\x00-\x1f\x7f-\x9f\xad\u0300-\u036f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ue000-\uf8ff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\xad\u0300-\u036f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ue000-\uf8ff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb])?$"
    )]
    pub nickname: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The session token, for `Authorization: Bearer` (the cookie carries the same session).
    pub token: String,
    pub user: UserDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersDto {
    /// Kakao login is configured.
    pub kakao: bool,
    /// The development login is enabled.
    pub dev_login: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// 2–20 characters, no spaces at either end, nothing invisible, at most 2 combining marks
    /// on a letter (as for the dev login); unique by confusable skeleton, so a case variant or
    /// lookalike of another user's nickname is 409 `NICKNAME_TAKEN`.
    #[schema(
        min_length = 2,
        max_length = 20,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f\xad\u0300-\u036f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ue000-\uf8ff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb](?:[^\x00-\x1f\x7f-\x9f\xad\u0300-\u036f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ue000-\uf8ff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\xad\u0300-\u036f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ue000-\uf8ff\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb])?$"
    )]
    pub nickname: Option<String>,
    /// Up to 300 characters; line breaks allowed.
    #[schema(
        max_length = 300,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub bio: Option<String>,
    /// The `url` of one of your uploads (`POST /api/uploads`); `null` removes the image.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^/api/files/[0-9a-f]{64}\.(png|jpg|webp)$")]
    pub profile_image: Option<Option<String>>,
}

/// What a tag may look like as typed: optional white space and one `#` before it, then 1–20
/// characters with no white space, control character, `#` or `,` (the white space set is the
/// one Rust's `trim` removes).
pub const TAG_PATTERN: &str = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#?[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000#,]{1,20}[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// A tag as typed: `"#영어"`, `"morning"`. Stored trimmed and without the `#`; unique per
/// challenge ignoring case.
pub struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(TAG_PATTERN))
            .examples([serde_json::json!("#영어")])
            .into()
    }
}

impl ToSchema for TagName {}

/// A weekday, as `daysOfWeek` spells it.
#[derive(Debug, ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub enum DayName {
    MON,
    TUE,
    WED,
    THU,
    FRI,
    SAT,
    SUN,
}

/// A challenge definition. On create, `title`, `category`, `capacity`, `startDate`, `endDate`,
/// `sessionStart`, `sessionEnd` and `minMinutes` are required and the rest have defaults; on
/// edit (PATCH) only the fields present change. Rules the schema cannot state (dates relative
/// to today, end after start, at most 100 days, `minMinutes` within the session) answer 400
/// `VALIDATION_FAILED` naming the field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChallengeInput {
    /// 1–100 characters on one line, not blank. Required on create.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: Option<String>,
    /// Up to 5,000 characters; line breaks allowed.
    #[schema(
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub description: Option<String>,
    #[schema(
        example = "STUDY",
        pattern = "^(STUDY|WORKOUT|MORNING|READING|HOBBY|ETC)$"
    )]
    pub category: Option<String>,
    /// The `url` of one of your uploads (`POST /api/uploads`); `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^/api/files/[0-9a-f]{64}\.(png|jpg|webp)$")]
    pub thumbnail: Option<Option<String>>,
    #[schema(minimum = 2, maximum = 50)]
    pub capacity: Option<i64>,
    /// First day, `YYYY-MM-DD`, not before today in the challenge's timezone.
    #[schema(format = Date, example = "2026-12-01")]
    pub start_date: Option<String>,
    /// Last day (inclusive), at most 100 days after the start.
    #[schema(format = Date, example = "2026-12-14")]
    pub end_date: Option<String>,
    /// Weekdays with a session; default all seven.
    #[schema(value_type = Option<Vec<DayName>>, example = json!(["MON", "WED", "FRI"]), min_items = 1, max_items = 7)]
    pub days_of_week: Option<Vec<String>>,
    /// Local session start, `HH:MM`.
    #[schema(example = "06:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub session_start: Option<String>,
    /// Local session end, `HH:MM`, after the start on the same day.
    #[schema(example = "07:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub session_end: Option<String>,
    /// IANA timezone; default `Asia/Seoul`.
    #[schema(example = "Asia/Seoul", max_length = 64)]
    pub timezone: Option<String>,
    /// Minutes on camera that make a session attended, 1..=session length.
    #[schema(minimum = 1, maximum = 1440)]
    pub min_minutes: Option<i64>,
    /// Percent of scheduled sessions to attend to complete; default 80.
    #[schema(minimum = 1, maximum = 100)]
    pub success_rate: Option<i64>,
    /// Up to 5 tags, unique ignoring case (a duplicate is 400 on `tags`); default none. On
    /// edit the list replaces the old one (`[]` removes them all).
    #[schema(value_type = Option<Vec<TagName>>, max_items = 5, example = json!(["#영어", "morning"]))]
    pub tags: Option<Vec<String>>,
}

impl From<ChallengeInput> for ChallengeDraft {
    fn from(i: ChallengeInput) -> Self {
        ChallengeDraft {
            title: i.title,
            description: i.description,
            category: i.category,
            thumbnail: i.thumbnail,
            capacity: i.capacity,
            start_date: i.start_date,
            end_date: i.end_date,
            days_of_week: i.days_of_week,
            session_start: i.session_start,
            session_end: i.session_end,
            timezone: i.timezone,
            min_minutes: i.min_minutes,
            success_rate: i.success_rate,
            tags: i.tags,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeDto {
    pub id: i64,
    pub title: String,
    pub description: String,
    #[schema(example = "STUDY")]
    pub category: String,
    pub thumbnail: Option<String>,
    pub capacity: i64,
    pub participant_count: i64,
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
    pub end_date: String,
    pub days_of_week: Vec<String>,
    pub session_start: String,
    pub session_end: String,
    pub timezone: String,
    pub min_minutes: i64,
    pub success_rate: i64,
    /// `RECRUITING`, `IN_PROGRESS` or `ENDED`, from the clock in the challenge's timezone.
    #[schema(example = "RECRUITING")]
    pub status: String,
    pub creator: UserSummaryDto,
    /// Whether the caller holds a place.
    pub joined: bool,
    /// Whether a host removed the caller from this challenge (they cannot join again).
    pub removed: bool,
    /// Up to 5 tags, in the creator's order, without `#`.
    pub tags: Vec<String>,
    /// The creator's notice to participants (editable at any time); `null` when there is none.
    pub notice: Option<String>,
    /// When the notice was last set or cleared (RFC 3339); `null` if never.
    pub notice_updated_at: Option<String>,
    /// How many users have the challenge on their wish list.
    pub wish_count: i64,
    /// Whether the caller has it on their wish list (`false` when signed out).
    pub wished: bool,
    /// What `sort=popular` orders by: `2 × participantCount + wishCount`.
    pub popularity: i64,
    pub created_at: String,
}

impl ChallengeDto {
    pub fn new(record: ChallengeRecord, now: Timestamp) -> Self {
        let popularity = record.popularity();
        let spec = record.spec;
        let s = &spec.schedule;
        let status: ChallengeStatus = s.status_at(now);
        Self {
            id: record.id,
            category: spec.category.as_str().to_owned(),
            thumbnail: spec.thumbnail.clone(),
            capacity: spec.capacity,
            participant_count: record.participant_count,
            start_date: s.start_date.to_string(),
            end_date: s.end_date.to_string(),
            days_of_week: s.days.names().into_iter().map(str::to_owned).collect(),
            session_start: ssgwan_domain::schedule::format_time_of_day(s.session_start),
            session_end: ssgwan_domain::schedule::format_time_of_day(s.session_end),
            timezone: s.timezone_name.clone(),
            min_minutes: spec.min_minutes,
            success_rate: spec.success_rate,
            status: status.as_str().to_owned(),
            creator: record.creator.into(),
            joined: record.joined,
            removed: record.removed,
            notice: record.notice,
            notice_updated_at: record.notice_updated_at.map(rfc3339),
            wish_count: record.wish_count,
            wished: record.wished,
            popularity,
            created_at: rfc3339(record.created_at),
            title: spec.title,
            description: spec.description,
            tags: spec.tags,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengePage {
    pub items: Vec<ChallengeDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeList {
    pub items: Vec<ChallengeDto>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantDto {
    pub user: UserSummaryDto,
    /// `ACTIVE`, `COMPLETED` or `FAILED`.
    pub status: String,
    pub joined_at: String,
    /// Sessions achieved so far.
    pub achieved_sessions: i64,
    /// Sessions scheduled for this participant so far (from their join day through today).
    pub scheduled_sessions: i64,
}

impl ParticipantDto {
    pub fn new(record: ParticipantRecord, scheduled_sessions: i64) -> Self {
        Self {
            user: record.user.into(),
            status: record.status.as_str().to_owned(),
            joined_at: rfc3339(record.joined_at),
            achieved_sessions: record.achieved_sessions,
            scheduled_sessions,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    pub items: Vec<ParticipantDto>,
}

/// `/healthz` and `/readyz` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// Per dependency: `ok` or `unavailable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// Redis, when the nodes share one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<&'static str>,
}

/// Query of `GET /api/challenges`; values are validated by the handler so errors name them.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Text to find in the title, description or tags (case-insensitive), at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only challenges with this tag (case-insensitive, with or without `#`); empty: no filter.
    #[param(
        pattern = r"^(?:[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#?[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000#,]{1,20}[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$"
    )]
    pub tag: Option<String>,
    #[param(pattern = "^(STUDY|WORKOUT|MORNING|READING|HOBBY|ETC)$")]
    pub category: Option<String>,
    #[param(pattern = "^(RECRUITING|IN_PROGRESS|ENDED)$")]
    pub status: Option<String>,
    /// `new` (default), `popular` (by popularity = 2 × participantCount + wishCount, then newest)
    /// or `startingSoon` (not started yet, soonest first).
    #[param(pattern = "^(new|popular|startingSoon)$")]
    pub sort: Option<String>,
    /// Page size, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `nextCursor` of the previous page (opaque).
    #[param(pattern = r"^-?[0-9]{1,18}\.[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyChallengesParams {
    /// `active` (default), `completed` or `created`.
    #[param(pattern = "^(active|completed|created)$")]
    pub state: Option<String>,
}

/// Body of `PUT /api/challenges/{id}/notice`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoticeRequest {
    /// Up to 1,000 characters, line breaks allowed, trimmed; `null` or blank removes the notice.
    #[serde(deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, required = true, max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub notice: Option<Option<String>>,
}

/// A tag and how many challenges that have not ended carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PopularTagDto {
    /// The tag without `#` (one of the spellings creators used).
    pub tag: String,
    pub count: i64,
}

impl From<PopularTag> for PopularTagDto {
    fn from(t: PopularTag) -> Self {
        Self {
            tag: t.tag,
            count: t.count,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PopularTagsParams {
    /// How many tags, 1–50, default 10.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 50)]
    pub limit: Option<String>,
}

/// Query of `GET /api/me/wishes`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WishListParams {
    /// Page size, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `nextCursor` of the previous page (opaque).
    #[param(pattern = r"^-?[0-9]{1,18}\.[0-9]{1,18}$")]
    pub cursor: Option<String>,
}
