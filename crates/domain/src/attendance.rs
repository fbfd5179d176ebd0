//! Attendance: which sessions are a participant's, how much on-camera time falls inside them,
//! and who completes a challenge.
//!
//! A session is the participant's when its window ends after the moment they joined: sessions
//! before the join are not theirs, and neither is a session of the join day that was already
//! over. On-camera time counts only inside those windows, per session date.

use jiff::{Timestamp, civil::Date};

use crate::schedule::Schedule;

/// A participant's view of a challenge schedule.
#[derive(Debug, Clone, Copy)]
pub struct ParticipantSchedule<'a> {
    pub schedule: &'a Schedule,
    pub joined_at: Timestamp,
}

/// The outcome of a challenge for one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Completed,
    Failed,
}

impl<'a> ParticipantSchedule<'a> {
    pub fn new(schedule: &'a Schedule, joined_at: Timestamp) -> Self {
        Self {
            schedule,
            joined_at,
        }
    }

    /// Whether the session on `date` is one of the participant's.
    pub fn has_session(&self, date: Date) -> bool {
        self.schedule.is_session_day(date) && self.schedule.session_window(date).1 > self.joined_at
    }

    /// The participant's sessions whose window has started by `now`.
    pub fn sessions_started_by(&self, now: Timestamp) -> i64 {
        let first = self.schedule.local_date(self.joined_at);
        let last = self.schedule.local_date(now);
        self.schedule
            .session_days(first, last)
            .filter(|d| {
                let (start, end) = self.schedule.session_window(*d);
                end > self.joined_at && start <= now
            })
            .count() as i64
    }

    /// All of the participant's sessions, start to end.
    pub fn total_sessions(&self) -> i64 {
        self.sessions_started_by(self.schedule.ends_at())
    }

    /// Milliseconds of `[from, to)` inside the participant's session windows, per session date
    /// (only dates with some overlap are listed, in order).
    pub fn on_camera_millis(&self, from: Timestamp, to: Timestamp) -> Vec<(Date, i64)> {
        let from = from.max(self.joined_at);
        if to <= from {
            return Vec::new();
        }
        let first = self.schedule.local_date(from);
        let last = self.schedule.local_date(to);
        self.schedule
            .session_days(first, last)
            .filter_map(|date| {
                let (start, end) = self.schedule.session_window(date);
                let overlap = to.min(end).as_millisecond() - from.max(start).as_millisecond();
                (overlap > 0).then_some((date, overlap))
            })
            .collect()
    }

    /// The session date whose window contains `now`, if any.
    pub fn session_at(&self, now: Timestamp) -> Option<Date> {
        let date = self.schedule.local_date(now);
        let (start, end) = self.schedule.session_window(date);
        (self.has_session(date) && start <= now && now < end).then_some(date)
    }
}

/// Completed when achieved ÷ scheduled ≥ success rate. With no session scheduled for the
/// participant (they joined after the last one) there is nothing to complete: failed.
pub fn completion(achieved: i64, scheduled: i64, success_rate: i64) -> Completion {
    if scheduled > 0 && achieved * 100 >= success_rate * scheduled {
        Completion::Completed
    } else {
        Completion::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        crate::fixtures::spec().schedule
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    #[test]
    fn sessions_before_the_join_are_not_the_participants() {
        let s = schedule();
        // Seoul 06:00–07:00 is 21:00–22:00 UTC the day before.
        let early = ParticipantSchedule::new(&s, at("2026-03-01T00:00:00Z"));
        assert_eq!(early.total_sessions(), 3);
        // Joined on Wednesday 06:30 Seoul: Wednesday's session is still running, so it counts.
        let mid = ParticipantSchedule::new(&s, at("2026-03-10T21:30:00Z"));
        assert_eq!(mid.total_sessions(), 2);
        // Joined on Wednesday 08:00 Seoul: only Friday is left.
        let late = ParticipantSchedule::new(&s, at("2026-03-10T23:00:00Z"));
        assert_eq!(late.total_sessions(), 1);
        assert_eq!(late.sessions_started_by(at("2026-03-12T20:59:59Z")), 0);
        assert_eq!(late.sessions_started_by(at("2026-03-12T21:00:00Z")), 1);
    }

    #[test]
    fn on_camera_time_is_clipped_to_windows_per_date() {
        let s = schedule();
        let p = ParticipantSchedule::new(&s, at("2026-03-01T00:00:00Z"));
        // 05:50–06:20 Seoul on Monday: 20 minutes inside the window.
        assert_eq!(
            p.on_camera_millis(at("2026-03-08T20:50:00Z"), at("2026-03-08T21:20:00Z")),
            vec![(Date::constant(2026, 3, 9), 20 * 60_000)]
        );
        // Tuesday has no session.
        assert!(
            p.on_camera_millis(at("2026-03-09T20:00:00Z"), at("2026-03-09T23:00:00Z"))
                .is_empty()
        );
        // Monday 06:30 through Wednesday 06:10: 30 minutes Monday, 10 minutes Wednesday.
        assert_eq!(
            p.on_camera_millis(at("2026-03-08T21:30:00Z"), at("2026-03-10T21:10:00Z")),
            vec![
                (Date::constant(2026, 3, 9), 30 * 60_000),
                (Date::constant(2026, 3, 11), 10 * 60_000)
            ]
        );
        assert_eq!(
            p.session_at(at("2026-03-08T21:59:59Z")),
            Some(Date::constant(2026, 3, 9))
        );
        assert_eq!(p.session_at(at("2026-03-08T22:00:00Z")), None);
    }

    #[test]
    fn completion_compares_achieved_with_the_success_rate() {
        assert_eq!(completion(8, 10, 80), Completion::Completed);
        assert_eq!(completion(7, 10, 80), Completion::Failed);
        assert_eq!(completion(1, 1, 100), Completion::Completed);
        assert_eq!(completion(0, 0, 1), Completion::Failed);
    }
}
