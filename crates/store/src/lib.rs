//! Storage for Ssgwan: the interface the server needs, one narrow trait per concern
//! ([`UserStore`], [`ChallengeStore`], [`WishStore`], [`ParticipationStore`], [`ChatStore`],
//! [`AttendanceStore`], [`ScoreStore`], [`StatsStore`], [`UploadStore`], [`CalendarStore`],
//! [`NotificationStore`], [`PushStore`]) gathered in [`Store`], its error type,
//! and one SQL implementation ([`SqlStore`]) that serves SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! A long-lived service takes only the trait it uses (`Arc<dyn AttendanceStore>`, upcast from
//! the server's `Arc<dyn Store>`), so its type says what it may touch.
//!
//! Rules that must hold across server nodes (capacity, one place per user, single-use OAuth
//! states) are enforced here by the database: conditional updates, primary keys and
//! transactions, never by in-process locks.

mod error;
mod model;
mod moderation;
mod sql;

pub use error::{Conflict, Entity, StoreError, StoreResult};
pub use model::*;
pub use moderation::*;
pub use sql::{Backend, SqlStore};

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};
use ssgwan_domain::{
    ChallengeSpec,
    upload::{UploadQuota, UploadUsage},
};

/// Every store trait, for code that uses a whole [`Store`] (tools, the seed, benchmarks):
/// `use ssgwan_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AttendanceStore, CalendarStore, ChallengeStore, ChatStore, ModerationStore,
        NotificationStore, ParticipationStore, PushStore, ScoreStore, StatsStore, Store,
        UploadStore, UserStore, WishStore,
    };
}

/// Everything the server reads and writes: every narrow trait, plus the health of the
/// database. Used as `Arc<dyn Store>` in the server's state; a service that needs one concern
/// upcasts it to that trait.
#[async_trait]
pub trait Store:
    UserStore
    + ChallengeStore
    + WishStore
    + ParticipationStore
    + ChatStore
    + AttendanceStore
    + ScoreStore
    + StatsStore
    + UploadStore
    + CalendarStore
    + NotificationStore
    + PushStore
    + ModerationStore
{
    /// Checks the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;

    /// Statements sent to the database so far by this store (a counter for metrics and for
    /// tests that pin how many queries a request costs).
    fn round_trips(&self) -> u64;
}

/// Users, their login sessions and the single-use OAuth states of logins in flight.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates a user; `Conflict::NicknameTaken` when a nickname with the same skeleton
    /// (`ssgwan_domain::user::nickname_skeleton`: case-folded, confusables alike) exists.
    async fn create_user(&self, user: NewUser, now: Timestamp) -> StoreResult<User>;
    async fn user(&self, id: i64) -> StoreResult<Option<User>>;
    /// The user with exactly this nickname, case-insensitively (not a mere lookalike).
    async fn user_by_nickname(&self, nickname: &str) -> StoreResult<Option<User>>;
    async fn user_by_kakao_id(&self, kakao_id: i64) -> StoreResult<Option<User>>;
    /// Applies the present fields; `Conflict::NicknameTaken` when the new nickname's skeleton
    /// is another user's, `Conflict::UploadNotOwned` when the new profile image is an upload
    /// path (`/api/files/<key>`) of a file the user has no upload record of (other images, such
    /// as Kakao's picture, are stored as given), `NotFound(Entity::User)` when the user does
    /// not exist. Setting an upload as the picture marks it used (see [`UploadStore`]).
    async fn update_user(&self, id: i64, update: UserUpdate, now: Timestamp) -> StoreResult<User>;
    /// The public profiles of those of `ids` that exist, in one query.
    async fn users(&self, ids: &[i64]) -> StoreResult<Vec<UserSummary>>;

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// The user a live (unexpired) session belongs to, and when the session expires.
    async fn session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(User, Timestamp)>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn save_oauth_state(&self, state_hash: &str, expires_at: Timestamp) -> StoreResult<()>;
    /// Consumes a state: true exactly once for a saved, unexpired state.
    async fn take_oauth_state(&self, state_hash: &str, now: Timestamp) -> StoreResult<bool>;
}

/// Challenges: their definitions, tags and notices, one at a time or listed.
#[async_trait]
pub trait ChallengeStore: Send + Sync + 'static {
    /// Creates the challenge with its creator as the first participant; returns its id.
    /// Refused with `Conflict::ChallengeLimitReached` when the creator already created
    /// `daily_limit` challenges at or after `day_start` (0: no limit), counted under a lock on
    /// the creator's row so that racing creations cannot exceed it, and with
    /// `Conflict::UploadNotOwned` when the thumbnail is an upload path the creator has no upload
    /// record of.
    async fn create_challenge(
        &self,
        creator_id: i64,
        spec: &ChallengeSpec,
        creator_joined_on: Date,
        now: Timestamp,
        limit: CreationLimit,
    ) -> StoreResult<i64>;
    /// One challenge as `viewer` sees it (`joined` is about the viewer).
    async fn challenge(&self, id: i64, viewer: Option<i64>)
    -> StoreResult<Option<ChallengeRecord>>;
    /// Replaces the definition while the challenge has not started (`Conflict::AlreadyStarted`)
    /// and the new capacity holds everyone who already joined (`Conflict::CapacityBelowParticipants`).
    /// A thumbnail that is an upload path must be one of the creator's uploads
    /// (`Conflict::UploadNotOwned`).
    async fn update_challenge(
        &self,
        id: i64,
        spec: &ChallengeSpec,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Sets (or with `None` clears) the creator's notice, at any time;
    /// `NotFound(Entity::Challenge)` when the challenge does not exist.
    async fn set_notice(&self, id: i64, notice: Option<&str>, now: Timestamp) -> StoreResult<()>;
    /// Deletes the challenge while it has not started (`Conflict::AlreadyStarted`).
    async fn delete_challenge(&self, id: i64, now: Timestamp) -> StoreResult<()>;
    async fn list_challenges(
        &self,
        query: &ChallengeQuery,
        viewer: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Vec<ChallengeRecord>>;
    async fn my_challenges(
        &self,
        user_id: i64,
        state: MyChallengesState,
    ) -> StoreResult<Vec<ChallengeRecord>>;
    /// The most used tags among challenges that have not ended at `now`, most used first.
    async fn popular_tags(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<PopularTag>>;
}

/// Users' wish lists (찜) and the wish count of each challenge.
#[async_trait]
pub trait WishStore: Send + Sync + 'static {
    /// Puts the challenge on the user's wish list; true when it was not there yet (the wish
    /// count went up by one). `NotFound(Entity::Challenge)` when the challenge does not exist.
    async fn wish(&self, user_id: i64, challenge_id: i64, now: Timestamp) -> StoreResult<bool>;
    /// Takes the challenge off the user's wish list; true when it was there (the wish count
    /// went down by one). `NotFound(Entity::Challenge)` when the challenge does not exist.
    async fn unwish(&self, user_id: i64, challenge_id: i64) -> StoreResult<bool>;
    /// The user's wish list, newest wish first, after `after` (a [`WishedChallenge::cursor`]).
    async fn wished_challenges(
        &self,
        user_id: i64,
        after: Option<ChallengeCursor>,
        limit: i64,
    ) -> StoreResult<Vec<WishedChallenge>>;
}

/// Places in challenges: taking and giving them back, and who holds them.
#[async_trait]
pub trait ParticipationStore: Send + Sync + 'static {
    /// Takes a place, from the challenge's local date at `now` on, and returns the challenge
    /// as the joiner sees it now. Refused with `ChallengeEnded`, `ChallengeFull` or
    /// `AlreadyJoined` (see [`ssgwan_domain::participation::join_refusal`]);
    /// `NotFound(Entity::Challenge)` when there is no such challenge. Exact under any number of
    /// concurrent callers on any number of nodes.
    async fn join_challenge(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<ChallengeRecord>;
    /// Gives a place back before the start: refused with `CancellationNotAllowed`,
    /// `CreatorCannotCancel` or `NotParticipant` (see
    /// [`ssgwan_domain::participation::cancel_refusal`]).
    async fn cancel_participation(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Everyone holding a place (not cancelled), with achieved sessions so far.
    async fn participants(&self, challenge_id: i64) -> StoreResult<Vec<ParticipantRecord>>;
    async fn is_participant(&self, challenge_id: i64, user_id: i64) -> StoreResult<bool>;
    /// The user's place in the challenge, whatever its status.
    async fn membership(&self, challenge_id: i64, user_id: i64) -> StoreResult<Option<Membership>>;
}

/// Each challenge room's chat history, numbered per room.
#[async_trait]
pub trait ChatStore: Send + Sync + 'static {
    /// Stores a message under the room's next number. A repeated `client_id` from the same user
    /// stores nothing and returns the first message with `false`.
    async fn post_message(
        &self,
        challenge_id: i64,
        user_id: i64,
        client_id: &str,
        body: &str,
        now: Timestamp,
    ) -> StoreResult<(ChatMessage, bool)>;
    /// The newest `limit` messages numbered above `after`, oldest first.
    async fn messages_after(
        &self,
        challenge_id: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>>;
    /// The newest `limit` messages numbered below `before` (all when `None`), oldest first.
    async fn messages_before(
        &self,
        challenge_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>>;
}

/// On-camera time per session, and settling participants when their challenge ends.
#[async_trait]
pub trait AttendanceStore: Send + Sync + 'static {
    async fn attendance_day(
        &self,
        challenge_id: i64,
        user_id: i64,
        date: Date,
    ) -> StoreResult<AttendanceDay>;
    /// Adds on-camera seconds to a session date; the session becomes achieved (once) when the
    /// total reaches `achieve_at_seconds`.
    async fn add_attendance(
        &self,
        challenge_id: i64,
        user_id: i64,
        date: Date,
        seconds: i64,
        achieve_at_seconds: i64,
        now: Timestamp,
    ) -> StoreResult<AttendanceUpdate>;
    /// Ended challenges whose participants have not been settled yet, oldest end first.
    async fn unfinalized_ended(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<i64>>;
    /// Settles one active participant; false when they were not active (already settled).
    async fn finalize_participant(
        &self,
        challenge_id: i64,
        user_id: i64,
        status: ParticipantStatus,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn mark_finalized(&self, challenge_id: i64, now: Timestamp) -> StoreResult<()>;
}

/// The score ledger, the source of truth the ranking boards are built from.
#[async_trait]
pub trait ScoreStore: Send + Sync + 'static {
    /// What [`ssgwan_domain::award`] decides by for a challenge, read now (`None`: no such
    /// challenge).
    async fn award_facts(
        &self,
        challenge_id: i64,
    ) -> StoreResult<Option<ssgwan_domain::award::AwardFacts>>;
    /// Adds a ledger row (worth [`ScoreKind::points`] when the domain's rules award it);
    /// false when that score was already recorded (idempotent).
    async fn record_score(
        &self,
        user_id: i64,
        challenge_id: i64,
        kind: ScoreKind,
        session_date: Option<Date>,
        points: i64,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Records the scores that achievements and completions earned but the ledger lacks (after
    /// a crash between the two writes), in challenges that earn points by
    /// [`ssgwan_domain::award`] (as they stand now); returns how many rows were added.
    async fn reconcile_scores(&self, rules: &ssgwan_domain::award::AwardRules) -> StoreResult<u64>;
    /// Per-user totals of the points earned at or after `since` (all time when `None`).
    async fn score_totals(&self, since: Option<Timestamp>) -> StoreResult<Vec<ScoreTotal>>;
    /// For each of `users` with points: the all-time total and the points earned in each span
    /// `bounds[i]..bounds[i + 1]`, in one query however many users are asked for. Users
    /// without points are left out.
    async fn score_activity(
        &self,
        users: &[i64],
        bounds: &[Timestamp],
    ) -> StoreResult<Vec<ScoreActivity>>;
}

/// What personal and challenge statistics are computed from.
#[async_trait]
pub trait StatsStore: Send + Sync + 'static {
    /// Every challenge the user holds a place in (not cancelled), with status and join time.
    async fn participations(&self, user_id: i64) -> StoreResult<Vec<Participation>>;
    /// The user's attendance rows with session dates in `from..=until`.
    async fn user_attendance(
        &self,
        user_id: i64,
        from: Date,
        until: Date,
    ) -> StoreResult<Vec<AttendanceRecord>>;
    /// Every achieved session of the user (for streaks).
    async fn achieved_sessions(&self, user_id: i64) -> StoreResult<Vec<AttendanceRecord>>;
    /// Achieved sessions of a challenge per session date.
    async fn challenge_achievements(&self, challenge_id: i64) -> StoreResult<Vec<(Date, i64)>>;
}

/// Records of uploaded files (who uploaded which file, how large, when), the daily upload
/// quota, the sweep of files no row refers to, and claims on periodic jobs.
#[async_trait]
pub trait UploadStore: Send + Sync + 'static {
    /// What the user uploaded at or after `since`: how many files and how many stored bytes.
    async fn upload_usage(&self, user_id: i64, since: Timestamp) -> StoreResult<UploadUsage>;
    /// Records that the user uploaded file `key` (`size` stored bytes) at `now`, when one more
    /// upload stays within `quota` counted from `since` (`Conflict::UploadQuotaExceeded`
    /// otherwise). Exact under concurrent uploads on any number of nodes (the count is taken
    /// under a lock on the user's row). The same file uploaded again refreshes its record.
    async fn record_upload(
        &self,
        user_id: i64,
        key: &str,
        size: i64,
        now: Timestamp,
        since: Timestamp,
        quota: UploadQuota,
    ) -> StoreResult<()>;
    /// Deletes the upload records made and last used before `cutoff` whose file no profile
    /// image or thumbnail refers to; returns how many.
    async fn forget_unused_uploads(&self, cutoff: Timestamp) -> StoreResult<u64>;
    /// Whether any row refers to file `key`: an upload record, a profile image or a thumbnail.
    async fn file_referenced(&self, key: &str) -> StoreResult<bool>;
    /// Claims periodic job `name` for `holder` until `until`, when nobody holds it at `now`;
    /// whether this call did (exactly one of racing callers on any number of nodes).
    async fn claim_job(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool>;
}

/// Each user's secret calendar feed: which generation of the token is current, by its hash.
#[async_trait]
pub trait CalendarStore: Send + Sync + 'static {
    /// The current generation of the user's feed token (`None`: no feed yet).
    async fn calendar_feed(&self, user_id: i64) -> StoreResult<Option<i64>>;
    /// Makes `generation` (with the token hashed to `token_hash`) current: creates the feed
    /// when `generation` is 1, else moves it on from `generation - 1`. False when another
    /// request got there first (the caller reads the feed again).
    async fn set_calendar_feed(
        &self,
        user_id: i64,
        generation: i64,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// The user whose current feed token hashes to `token_hash`.
    async fn calendar_feed_owner(&self, token_hash: &str) -> StoreResult<Option<i64>>;
}

/// Notifications, their read marks, users' notification settings, and who to remind.
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// Stores a notification; `None` when one with the same `dedupe_key` exists for the user
    /// (exactly one caller gets `Some`, on any number of nodes), or its challenge is gone.
    async fn create_notification(
        &self,
        notification: &NewNotification,
        now: Timestamp,
    ) -> StoreResult<Option<NotificationRecord>>;
    /// The user's notifications with ids below `before` (all when `None`), newest first.
    async fn notifications(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRecord>>;
    async fn unread_notifications(&self, user_id: i64) -> StoreResult<i64>;
    /// Marks the user's unread notifications with ids up to `up_to` read; how many were.
    async fn mark_notifications_read(
        &self,
        user_id: i64,
        up_to: i64,
        now: Timestamp,
    ) -> StoreResult<u64>;
    async fn notification_settings(
        &self,
        user_id: i64,
    ) -> StoreResult<Option<NotificationSettingsRecord>>;
    async fn set_notification_settings(
        &self,
        user_id: i64,
        settings: &NotificationSettingsRecord,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Active participants of challenges that have not ended by `now` and start by `until`,
    /// ordered by (challenge, user), after `after` (that pair), at most `limit`.
    async fn reminder_candidates(
        &self,
        now: Timestamp,
        until: Timestamp,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<ReminderCandidate>>;
}

/// Browsers' Web Push subscriptions.
#[async_trait]
pub trait PushStore: Send + Sync + 'static {
    /// Stores the subscription for the user, or renews its keys when the user already has
    /// this endpoint; `Conflict`-free: an endpoint held by another user is given to this one
    /// only by [`PushStore::delete_push_endpoint`] first (false then).
    async fn save_push_subscription(
        &self,
        user_id: i64,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Removes the user's subscription with this endpoint; false when they had none.
    async fn delete_push_subscription(&self, user_id: i64, endpoint: &str) -> StoreResult<bool>;
    /// Removes a subscription whoever holds it (the push service said it is gone).
    async fn delete_push_endpoint(&self, endpoint: &str) -> StoreResult<bool>;
    async fn push_subscriptions(&self, user_id: i64) -> StoreResult<Vec<PushSubscriptionRecord>>;
}
