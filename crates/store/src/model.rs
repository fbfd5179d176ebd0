//! Plain records the store reads and writes.

use jiff::{Timestamp, civil::Date};
use ssgwan_domain::{Category, ChallengeSpec, ChallengeStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub kakao_id: Option<i64>,
    pub nickname: String,
    pub bio: String,
    pub profile_image: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub kakao_id: Option<i64>,
    pub nickname: String,
    pub profile_image: Option<String>,
}

/// Fields to change; `None` leaves a field as it is. `profile_image: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub nickname: Option<String>,
    pub bio: Option<String>,
    pub profile_image: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub id: i64,
    pub nickname: String,
    pub profile_image: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChallengeRecord {
    pub id: i64,
    pub creator: UserSummary,
    /// The definition, tags included.
    pub spec: ChallengeSpec,
    pub participant_count: i64,
    /// Whether the viewer holds a place (active, completed or failed; not cancelled).
    pub joined: bool,
    /// Whether a host removed the viewer from the challenge (they cannot join again).
    pub removed: bool,
    /// The creator's notice, editable at any time.
    pub notice: Option<String>,
    /// When the notice was last set or cleared (`None`: never).
    pub notice_updated_at: Option<Timestamp>,
    /// How many users have the challenge on their wish list.
    pub wish_count: i64,
    /// Whether the viewer has it on their wish list.
    pub wished: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeSort {
    /// Newest first.
    New,
    /// Most popular first: [`ssgwan_domain::challenge::popularity`] (two per participant, one
    /// per wish), then newest.
    Popular,
    /// Soonest start first, among challenges that have not started (unless a status is given).
    StartingSoon,
}

/// Where the previous page ended, in the sort's own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeCursor {
    pub key: i64,
    pub id: i64,
}

#[derive(Debug, Clone)]
pub struct ChallengeQuery {
    /// Lower-cased text to find in title, description or tags.
    pub text: Option<String>,
    /// Only challenges carrying this tag (compared by [`ssgwan_domain::tag::tag_key`]).
    pub tag: Option<String>,
    pub category: Option<Category>,
    pub status: Option<ChallengeStatus>,
    pub sort: ChallengeSort,
    pub limit: i64,
    pub after: Option<ChallengeCursor>,
}

impl ChallengeRecord {
    /// What the participation rules ([`ssgwan_domain::participation`]) look at.
    pub fn facts(&self) -> ssgwan_domain::participation::ChallengeFacts {
        self.spec.facts(self.creator.id, self.participant_count)
    }

    /// What `sort=popular` orders by.
    pub fn popularity(&self) -> i64 {
        ssgwan_domain::challenge::popularity(self.participant_count, self.wish_count)
    }

    /// The cursor that continues a listing after this record.
    pub fn cursor(&self, sort: ChallengeSort) -> ChallengeCursor {
        let key = match sort {
            ChallengeSort::New => self.id,
            ChallengeSort::Popular => self.popularity(),
            ChallengeSort::StartingSoon => self.spec.schedule.starts_at().as_millisecond(),
        };
        ChallengeCursor { key, id: self.id }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MyChallengesState {
    /// Places held now in challenges that have not finished for the user.
    Active,
    Completed,
    Created,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantStatus {
    Active,
    Cancelled,
    Completed,
    Failed,
}

impl ParticipantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Cancelled => "CANCELLED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Active, Self::Cancelled, Self::Completed, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

#[derive(Debug, Clone)]
pub struct ParticipantRecord {
    pub user: UserSummary,
    pub status: ParticipantStatus,
    pub joined_at: Timestamp,
    pub joined_on: Date,
    pub achieved_sessions: i64,
}

/// A stored chat message. `id` is its number within the room.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub room: i64,
    pub id: i64,
    pub user_id: i64,
    pub nickname: String,
    pub body: String,
    pub client_id: String,
    pub created_at: Timestamp,
    /// Deleted by a host: the body is blank.
    pub deleted: bool,
    /// The author's suspension end in unix milliseconds (`None`: not suspended; see
    /// [`crate::ModerationStore::suspension`]).
    pub author_suspended_until: Option<i64>,
    /// When the author took their place in the challenge (`None`: they hold none now).
    pub author_joined_at: Option<Timestamp>,
}

/// A user's place in a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub status: ParticipantStatus,
    pub joined_at: Timestamp,
}

/// On-camera time recorded for one participant and session date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttendanceDay {
    pub seconds: i64,
    pub achieved: bool,
}

/// The result of adding on-camera time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceUpdate {
    pub seconds: i64,
    pub achieved: bool,
    /// This call is the one that made the session achieved (true exactly once per session).
    pub newly_achieved: bool,
}

/// What earned points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreKind {
    /// An achieved session (+10).
    Session,
    /// A completed challenge (+50).
    Completion,
}

impl ScoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreKind::Session => "SESSION",
            ScoreKind::Completion => "COMPLETION",
        }
    }

    /// What the domain awards for it ([`ssgwan_domain::stats::SESSION_POINTS`] or
    /// [`ssgwan_domain::stats::COMPLETION_POINTS`]).
    pub fn points(self) -> i64 {
        match self {
            ScoreKind::Session => ssgwan_domain::stats::SESSION_POINTS,
            ScoreKind::Completion => ssgwan_domain::stats::COMPLETION_POINTS,
        }
    }
}

/// A user's points over some span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreTotal {
    pub user_id: i64,
    pub score: i64,
    pub completed: i64,
    /// When the last of these points was earned (unix milliseconds).
    pub reached_at: i64,
}

/// A user's participation, for statistics.
#[derive(Debug, Clone)]
pub struct Participation {
    pub challenge: ChallengeRecord,
    pub status: ParticipantStatus,
    pub joined_at: Timestamp,
}

/// One day of one user's attendance in one challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceRecord {
    pub challenge_id: i64,
    pub date: Date,
    pub seconds: i64,
    pub achieved_at: Option<Timestamp>,
}

/// A tag and how many challenges that have not ended carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopularTag {
    /// One spelling of the tag as creators typed it.
    pub tag: String,
    pub count: i64,
}

/// A challenge on a user's wish list.
#[derive(Debug, Clone)]
pub struct WishedChallenge {
    pub challenge: ChallengeRecord,
    pub wished_at: Timestamp,
}

impl WishedChallenge {
    /// The cursor that continues the wish list after this one (newest first).
    pub fn cursor(&self) -> ChallengeCursor {
        ChallengeCursor {
            key: self.wished_at.as_millisecond(),
            id: self.challenge.id,
        }
    }
}

/// A user's points: all time, and per span of time asked for (for the 7-day sparkline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreActivity {
    pub user_id: i64,
    pub total: i64,
    /// Points earned in each span `bounds[i]..bounds[i + 1]` the caller gave.
    pub spans: Vec<i64>,
}

/// A notification to store: for whom, of which kind (see `ssgwan_domain::notification::Kind`),
/// about which challenge, with its details as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: i64,
    pub kind: String,
    pub challenge_id: Option<i64>,
    /// The kind's details (title, rank, minutes, …) as a JSON object.
    pub data: String,
    /// When set, at most one notification of the user carries it: a second insert stores
    /// nothing (reminders are claimed this way across nodes).
    pub dedupe_key: Option<String>,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub challenge_id: Option<i64>,
    pub data: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

/// A user's notification settings as stored (`None` fields: not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettingsRecord {
    /// Bit set of the kinds the user wants (`ssgwan_domain::notification::KindSet`).
    pub kinds: i64,
    pub minutes_before: i64,
    /// Quiet hours as `HH:MM` local times in `timezone`.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub timezone: Option<String>,
}

/// An active participant of a challenge that has not ended, with their notification settings
/// (`None`: the defaults), for scheduling reminders.
#[derive(Debug, Clone)]
pub struct ReminderCandidate {
    pub challenge: ChallengeRecord,
    pub user_id: i64,
    pub joined_at: Timestamp,
    pub settings: Option<NotificationSettingsRecord>,
}

/// A browser's Web Push subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscriptionRecord {
    pub id: i64,
    pub user_id: i64,
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (RFC 8291 `ua_public`).
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
    pub created_at: Timestamp,
}

/// How many challenges a user may create per day: `max` at or after `day_start` (the start of
/// the creator's day in the server's timezone); `max` 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreationLimit {
    pub max: i64,
    pub day_start: Timestamp,
}

impl CreationLimit {
    /// No limit (tools, the seed).
    pub const NONE: CreationLimit = CreationLimit {
        max: 0,
        day_start: Timestamp::UNIX_EPOCH,
    };
}
