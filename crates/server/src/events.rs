//! Domain events other parts of the system react to (the ranking consumes them).

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
}

/// A fan-out of domain events within this process; slow subscribers lose the oldest events
/// (the database stays the source of truth and consumers rebuild from it).
pub fn channel() -> broadcast::Sender<DomainEvent> {
    broadcast::channel(4096).0
}
