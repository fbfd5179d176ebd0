//! Domain events other parts of the system react to (the ranking and the notifications
//! consume them).

use jiff::{Timestamp, civil::Date};
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// A participant's on-camera time reached the challenge's minimum for a session (once).
    SessionAchieved {
        challenge_id: i64,
        user_id: i64,
        date: Date,
        at: Timestamp,
    },
    /// A participant was settled when the challenge ended.
    ChallengeSettled {
        challenge_id: i64,
        user_id: i64,
        completed: bool,
        at: Timestamp,
    },
    /// The creator set or cleared a challenge's notice.
    NoticeChanged { challenge_id: i64, at: Timestamp },
    /// Someone took a place in a challenge. Carries what the creator's notification shows, as
    /// the join read it, so that telling them costs no further reads.
    MemberJoined {
        challenge_id: i64,
        challenge_title: String,
        creator_id: i64,
        user_id: i64,
        nickname: String,
        at: Timestamp,
    },
    /// A user's all-time rank went up (a smaller number).
    RankUp {
        user_id: i64,
        rank: u64,
        previous_rank: u64,
        at: Timestamp,
    },
}

/// A fan-out of domain events within this process; slow subscribers lose the oldest events
/// (the database stays the source of truth and consumers rebuild from it).
pub fn channel() -> broadcast::Sender<DomainEvent> {
    broadcast::channel(4096).0
}
