//! Who may join, give back a place in, edit or delete a challenge, and why not.
//!
//! These functions explain a refusal from plain facts. The database still decides the races
//! (capacity, one place per user) in one conditional statement; when it refuses, the store
//! reads the facts again and asks these functions which rule it was, and the HTTP edge asks
//! them before it writes where a read is needed anyway (editing, deleting).

use jiff::Timestamp;

/// What the rules look at in a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeFacts {
    pub creator_id: i64,
    /// When the first session starts: the challenge is recruiting before it.
    pub starts_at: Timestamp,
    /// When the last session ends: the challenge has ended from then on.
    pub ends_at: Timestamp,
    pub capacity: i64,
    /// Places held now (not cancelled).
    pub participant_count: i64,
}

impl ChallengeFacts {
    /// Whether the first session has started by `now`.
    pub fn started(&self, now: Timestamp) -> bool {
        self.starts_at <= now
    }

    /// Whether the last session is over by `now`.
    pub fn ended(&self, now: Timestamp) -> bool {
        self.ends_at <= now
    }
}

/// A rule that refuses a change; the API names each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only the creator may edit or delete a challenge.
    NotCreator,
    /// Editing and deleting end when the challenge starts.
    AlreadyStarted,
    /// A new capacity must hold everyone who already joined.
    CapacityBelowParticipants,
    ChallengeEnded,
    ChallengeFull,
    AlreadyJoined,
    NotParticipant,
    /// Places can be given back only before the start.
    CancellationNotAllowed,
    /// The creator keeps their place.
    CreatorCannotCancel,
}

/// Why the user may not join now, if they may not: already holding a place comes first, then
/// an ended challenge, then a full one. Joining a challenge in progress is allowed.
pub fn join_refusal(
    challenge: &ChallengeFacts,
    holds_place: bool,
    now: Timestamp,
) -> Option<Refusal> {
    if holds_place {
        Some(Refusal::AlreadyJoined)
    } else if challenge.ended(now) {
        Some(Refusal::ChallengeEnded)
    } else if challenge.participant_count >= challenge.capacity {
        Some(Refusal::ChallengeFull)
    } else {
        None
    }
}

/// Why `user_id` may not give their place back now, if they may not: they must hold an active
/// place, must not be the creator, and the challenge must not have started.
pub fn cancel_refusal(
    challenge: &ChallengeFacts,
    user_id: i64,
    holds_active_place: bool,
    now: Timestamp,
) -> Option<Refusal> {
    if !holds_active_place {
        Some(Refusal::NotParticipant)
    } else if challenge.creator_id == user_id {
        Some(Refusal::CreatorCannotCancel)
    } else if challenge.started(now) {
        Some(Refusal::CancellationNotAllowed)
    } else {
        None
    }
}

/// Why `user_id` may not edit or delete the challenge now, if they may not: the creator only,
/// and only before the start. (The notice is not part of this: it may be edited at any time.)
pub fn edit_refusal(challenge: &ChallengeFacts, user_id: i64, now: Timestamp) -> Option<Refusal> {
    if challenge.creator_id != user_id {
        Some(Refusal::NotCreator)
    } else if challenge.started(now) {
        Some(Refusal::AlreadyStarted)
    } else {
        None
    }
}

/// Why a new capacity is refused, if it is: it must hold the places already taken.
pub fn capacity_refusal(challenge: &ChallengeFacts, new_capacity: i64) -> Option<Refusal> {
    (new_capacity < challenge.participant_count).then_some(Refusal::CapacityBelowParticipants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn facts() -> ChallengeFacts {
        ChallengeFacts {
            creator_id: 1,
            starts_at: at("2026-03-10T00:00:00Z"),
            ends_at: at("2026-03-20T00:00:00Z"),
            capacity: 3,
            participant_count: 2,
        }
    }

    const BEFORE: &str = "2026-03-09T23:59:59Z";
    const DURING: &str = "2026-03-10T00:00:00Z";
    const AFTER: &str = "2026-03-20T00:00:00Z";

    #[test]
    fn joining_is_open_until_the_end_while_there_is_room() {
        let c = facts();
        assert_eq!(join_refusal(&c, false, at(BEFORE)), None);
        assert_eq!(
            join_refusal(&c, false, at(DURING)),
            None,
            "a challenge in progress may be joined"
        );
        assert_eq!(
            join_refusal(&c, false, at(AFTER)),
            Some(Refusal::ChallengeEnded)
        );
        let full = ChallengeFacts {
            participant_count: 3,
            ..c
        };
        assert_eq!(
            join_refusal(&full, false, at(BEFORE)),
            Some(Refusal::ChallengeFull)
        );
    }

    #[test]
    fn holding_a_place_explains_a_join_first_then_the_end_then_capacity() {
        let full = ChallengeFacts {
            participant_count: 3,
            ..facts()
        };
        assert_eq!(
            join_refusal(&full, true, at(AFTER)),
            Some(Refusal::AlreadyJoined)
        );
        assert_eq!(
            join_refusal(&full, false, at(AFTER)),
            Some(Refusal::ChallengeEnded)
        );
    }

    #[test]
    fn cancelling_needs_an_active_place_not_the_creators_before_the_start() {
        let c = facts();
        assert_eq!(cancel_refusal(&c, 2, true, at(BEFORE)), None);
        assert_eq!(
            cancel_refusal(&c, 2, true, at(DURING)),
            Some(Refusal::CancellationNotAllowed)
        );
        assert_eq!(
            cancel_refusal(&c, 1, true, at(BEFORE)),
            Some(Refusal::CreatorCannotCancel)
        );
        assert_eq!(
            cancel_refusal(&c, 2, false, at(DURING)),
            Some(Refusal::NotParticipant),
            "no place comes before any other reason"
        );
    }

    #[test]
    fn only_the_creator_edits_and_only_before_the_start() {
        let c = facts();
        assert_eq!(edit_refusal(&c, 1, at(BEFORE)), None);
        assert_eq!(
            edit_refusal(&c, 1, at(DURING)),
            Some(Refusal::AlreadyStarted)
        );
        assert_eq!(edit_refusal(&c, 2, at(BEFORE)), Some(Refusal::NotCreator));
        assert_eq!(edit_refusal(&c, 2, at(DURING)), Some(Refusal::NotCreator));
    }

    #[test]
    fn a_new_capacity_must_hold_the_places_taken() {
        let c = facts();
        assert_eq!(capacity_refusal(&c, 2), None);
        assert_eq!(
            capacity_refusal(&c, 1),
            Some(Refusal::CapacityBelowParticipants)
        );
    }
}
