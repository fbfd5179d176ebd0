//! What moderation stores: removed members, co-hosts, deleted messages, locked rooms, reports,
//! blocks, operators, suspensions and the audit log (migration 0009).

use async_trait::async_trait;
use jiff::{Timestamp, civil::Date};

use crate::{ChatMessage, StoreResult, UserSummary};

/// What removing a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Their place was active and is freed now.
    Removed,
    /// They had been removed already (an idempotent repeat).
    AlreadyRemoved,
}

/// A report as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub reporter_id: i64,
    /// `user`, `message` or `challenge`.
    pub target_type: &'static str,
    /// One key per target: `user:<id>`, `challenge:<id>`, `message:<challenge>:<seq>`.
    pub target_key: String,
    /// Who the report is about (the member, the message's author, the challenge's creator).
    pub subject_id: i64,
    pub challenge_id: Option<i64>,
    pub message_seq: Option<i64>,
    pub reason: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRecord {
    pub id: i64,
    pub reporter_id: i64,
    pub target_type: String,
    pub subject_id: Option<i64>,
    pub challenge_id: Option<i64>,
    pub message_seq: Option<i64>,
    pub reason: String,
    pub detail: String,
    /// `OPEN`, `DISMISSED` or `ACTIONED`.
    pub status: String,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// `None`: the command line (`ssgwan admin`).
    pub actor_id: Option<i64>,
    pub action: String,
    /// What it was done to, e.g. `user:5`, `challenge:7`, `report:3`.
    pub target: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
    pub created_at: Timestamp,
}

/// What a host can stop of a member's media in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaKind {
    Video,
    Audio,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    /// The kind stored (or sent) as `raw` (`None` for anything else).
    pub fn from_stored(raw: &str) -> Option<MediaKind> {
        match raw {
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlockRecord {
    pub user: UserSummary,
    pub created_at: Timestamp,
}

/// Host controls, reports, blocks and operators. Every change is one conditional statement or
/// guarded by a key, so a repeat or a race changes nothing twice on any number of nodes.
#[async_trait]
pub trait ModerationStore: Send + Sync + 'static {
    /// Removes `user_id` from the challenge (by host `by`): their active place is cancelled
    /// (freeing it) and marked removed, so no join brings it back. `Conflict::NotParticipant`
    /// when they hold no active place and were not removed before.
    async fn remove_participant(
        &self,
        challenge_id: i64,
        user_id: i64,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<Removal>;
    /// Stops (`stopped`) or allows again `kind` of `user_id`'s media in the challenge's room
    /// (host `by`): whether that changed anything (a repeat changes nothing).
    async fn set_media_stop(
        &self,
        challenge_id: i64,
        user_id: i64,
        kind: MediaKind,
        stopped: bool,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Every stop in the challenge's room, as (member, kind), by member then kind.
    async fn media_stops(&self, challenge_id: i64) -> StoreResult<Vec<(i64, MediaKind)>>;
    /// The blocks between two active participants of the challenge, as (blocker, blocked).
    async fn room_blocks(&self, challenge_id: i64) -> StoreResult<Vec<(i64, i64)>>;
    /// When the user was removed from the challenge (`None`: never).
    async fn removed_at(&self, challenge_id: i64, user_id: i64) -> StoreResult<Option<Timestamp>>;
    /// The challenge's co-hosts, by user id, in slot order.
    async fn cohosts(&self, challenge_id: i64) -> StoreResult<Vec<i64>>;
    /// Appoints a co-host: true when appointed now, false when they were one already;
    /// `Conflict::CohostLimitReached` when the three slots are taken.
    async fn add_cohost(
        &self,
        challenge_id: i64,
        user_id: i64,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Demotes a co-host: whether they were one.
    async fn remove_cohost(&self, challenge_id: i64, user_id: i64) -> StoreResult<bool>;
    /// One message of the room (deleted or not).
    async fn message(&self, challenge_id: i64, seq: i64) -> StoreResult<Option<ChatMessage>>;
    /// Marks the message deleted by `by` and blanks its body: `Some(true)` when deleted now,
    /// `Some(false)` when it was already, `None` when there is no such message.
    async fn delete_message(
        &self,
        challenge_id: i64,
        seq: i64,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<Option<bool>>;
    /// Locks the room for the session of `date` (no new joins): whether it was locked now.
    async fn lock_room(
        &self,
        challenge_id: i64,
        date: Date,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn room_locked(&self, challenge_id: i64, date: Date) -> StoreResult<bool>;

    /// Files a report: the report and true, or the reporter's earlier report of the same
    /// target and false (one per reporter and target, by a unique key).
    async fn create_report(
        &self,
        report: &NewReport,
        now: Timestamp,
    ) -> StoreResult<(ReportRecord, bool)>;
    async fn report(&self, id: i64) -> StoreResult<Option<ReportRecord>>;
    /// Reports with `status` (all when `None`) and ids below `before`, newest first.
    async fn reports(
        &self,
        status: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ReportRecord>>;
    /// Closes an open report with `status`: whether it was open (a repeat changes nothing).
    async fn resolve_report(
        &self,
        id: i64,
        status: &str,
        by: i64,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Whether `blocker` blocked `blocked` now (false: already).
    /// `NotFound(Entity::User)` when `blocked` does not exist.
    async fn block(&self, blocker: i64, blocked: i64, now: Timestamp) -> StoreResult<bool>;
    async fn unblock(&self, blocker: i64, blocked: i64) -> StoreResult<bool>;
    /// Whom `blocker` blocked, newest first.
    async fn blocks(&self, blocker: i64) -> StoreResult<Vec<BlockRecord>>;
    /// Everyone `user` blocked or was blocked by (both directions).
    async fn block_peers(&self, user: i64) -> StoreResult<Vec<i64>>;

    /// Grants (or revokes) the operator role: whether it changed.
    async fn set_operator(&self, user_id: i64, operator: bool, now: Timestamp)
    -> StoreResult<bool>;
    async fn is_operator(&self, user_id: i64) -> StoreResult<bool>;
    /// Suspends the user until `until` (`None`: for good) and deletes their sessions; whether
    /// the suspension changed. `NotFound(Entity::User)` when there is no such user.
    async fn suspend(&self, user_id: i64, until: Option<Timestamp>) -> StoreResult<bool>;
    /// The user's suspension: `None` none recorded, `Some(None)` for good, `Some(Some(end))`
    /// until `end` (possibly past).
    async fn suspension(&self, user_id: i64) -> StoreResult<Option<Option<Timestamp>>>;
    /// Deletes the challenge whatever its state (an operator's action; its rows go with it):
    /// whether it existed.
    async fn purge_challenge(&self, challenge_id: i64) -> StoreResult<bool>;
    /// Appends to the audit log.
    async fn audit(&self, entry: &AuditEntry, now: Timestamp) -> StoreResult<()>;
    /// The audit log with ids below `before`, newest first.
    async fn audit_log(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditRecord>>;
}
