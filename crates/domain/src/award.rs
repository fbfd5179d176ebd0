//! Whether a challenge's sessions and completion earn points: the rules that keep the ranking
//! about habits kept together, not about challenges made to be won.
//!
//! Points ([`crate::stats::SESSION_POINTS`], [`crate::stats::COMPLETION_POINTS`]) are earned only
//! in a challenge that
//! - has at least [`MIN_PARTICIPANTS`] participants holding a place when the points would be
//!   earned (a solo challenge is practice: attendance and completion still count, points do not);
//! - had its schedule fixed at least [`MIN_LEAD_TIME`] before it starts (it was created, or
//!   its start last moved, that long before), so nobody can create a one-minute challenge
//!   starting right away and collect its points minutes later.
//!
//! (That one user's on-camera time counts in one room at a time is the attendance actor's
//! rule, in the server.)

use jiff::{SignedDuration, Timestamp};

/// Fewest participants holding a place for a challenge to earn points.
pub const MIN_PARTICIPANTS: i64 = 2;
/// How long before its start a challenge's schedule must be fixed for it to earn points, by
/// default (the server's `--points-min-lead-minutes`).
pub const MIN_LEAD_TIME: SignedDuration = SignedDuration::from_hours(1);

/// The thresholds the rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwardRules {
    pub min_participants: i64,
    pub min_lead_time: SignedDuration,
}

impl AwardRules {
    /// [`MIN_PARTICIPANTS`] and [`MIN_LEAD_TIME`].
    pub const DEFAULT: AwardRules = AwardRules {
        min_participants: MIN_PARTICIPANTS,
        min_lead_time: MIN_LEAD_TIME,
    };
}

impl Default for AwardRules {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the rules look at in a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwardFacts {
    /// Participants holding a place (not cancelled) now.
    pub participants: i64,
    /// When the schedule was last set: at creation, or when an edit moved the start.
    pub scheduled_at: Timestamp,
    /// When the challenge starts: midnight of its start date in its timezone
    /// ([`crate::Schedule::starts_at`]).
    pub starts_at: Timestamp,
}

/// Why a challenge earns no points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPoints {
    /// Fewer than [`MIN_PARTICIPANTS`] hold a place.
    TooFewParticipants,
    /// The schedule was set less than [`MIN_LEAD_TIME`] before the start.
    ScheduledTooLate,
}

impl NoPoints {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooFewParticipants => "too_few_participants",
            Self::ScheduledTooLate => "scheduled_too_late",
        }
    }
}

/// `None` when the challenge earns points under `rules`, else why not.
pub fn no_points(rules: &AwardRules, facts: &AwardFacts) -> Option<NoPoints> {
    if facts.participants < rules.min_participants {
        return Some(NoPoints::TooFewParticipants);
    }
    // A zero lead time turns the rule off (challenges created for today then earn points too).
    if rules.min_lead_time > SignedDuration::ZERO
        && facts.starts_at.duration_since(facts.scheduled_at) < rules.min_lead_time
    {
        return Some(NoPoints::ScheduledTooLate);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn facts(participants: i64, scheduled_at: &str) -> AwardFacts {
        AwardFacts {
            participants,
            scheduled_at: at(scheduled_at),
            starts_at: at("2026-03-02T21:00:00Z"),
        }
    }

    #[test]
    fn a_solo_challenge_earns_nothing() {
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(1, "2026-03-01T00:00:00Z")),
            Some(NoPoints::TooFewParticipants)
        );
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(0, "2026-03-01T00:00:00Z")),
            Some(NoPoints::TooFewParticipants)
        );
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(2, "2026-03-01T00:00:00Z")),
            None
        );
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(50, "2026-03-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn a_challenge_scheduled_less_than_an_hour_before_its_start_earns_nothing() {
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(3, "2026-03-02T20:00:01Z")),
            Some(NoPoints::ScheduledTooLate)
        );
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(3, "2026-03-02T20:59:00Z")),
            Some(NoPoints::ScheduledTooLate)
        );
        // Scheduled after the start (cannot happen through the API) earns nothing either.
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(3, "2026-03-02T22:00:00Z")),
            Some(NoPoints::ScheduledTooLate)
        );
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(3, "2026-03-02T20:00:00Z")),
            None
        );
    }

    #[test]
    fn the_lead_time_is_a_setting() {
        let none = AwardRules {
            min_lead_time: SignedDuration::ZERO,
            ..AwardRules::DEFAULT
        };
        assert_eq!(no_points(&none, &facts(2, "2026-03-02T21:00:00Z")), None);
        // Zero turns the rule off: even a challenge created after its start earns points.
        assert_eq!(no_points(&none, &facts(2, "2026-03-02T22:00:00Z")), None);
        assert_eq!(
            no_points(&none, &facts(1, "2026-03-02T22:00:00Z")),
            Some(NoPoints::TooFewParticipants)
        );
        let minute = AwardRules {
            min_lead_time: SignedDuration::from_mins(1),
            ..AwardRules::DEFAULT
        };
        assert_eq!(no_points(&minute, &facts(2, "2026-03-02T20:59:00Z")), None);
        assert_eq!(
            no_points(&minute, &facts(2, "2026-03-02T20:59:01Z")),
            Some(NoPoints::ScheduledTooLate)
        );
    }

    #[test]
    fn too_few_participants_is_reported_first() {
        assert_eq!(
            no_points(&AwardRules::DEFAULT, &facts(1, "2026-03-02T20:59:00Z")),
            Some(NoPoints::TooFewParticipants)
        );
    }
}
