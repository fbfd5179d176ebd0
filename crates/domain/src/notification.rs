//! Notifications: their kinds, what a user chose to hear about, quiet hours, and when a
//! session's reminder is due.
//!
//! A reminder is for the participant's next session that has not started: due `minutes_before`
//! its start, useful until the start. A node that was down past the due time still sends it
//! before the start, and never after (a "starts in 10 minutes" that arrives late is noise).

use jiff::{
    SignedDuration, Timestamp,
    civil::{Date, Time},
    tz::TimeZone,
};
use serde::{Deserialize, Serialize};

use crate::{
    attendance::ParticipantSchedule,
    schedule::{format_time_of_day, parse_time_of_day},
    validation::{Invalid, Reason},
};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A session starts in N minutes.
    SessionReminder,
    /// The day's on-camera time reached the minimum.
    SessionAchieved,
    ChallengeCompleted,
    ChallengeFailed,
    /// The user's all-time rank went up.
    RankUp,
    /// The creator changed the notice of a challenge the user takes part in.
    NoticeChanged,
    /// Someone joined a challenge the user created.
    NewMember,
    /// A host removed the user from a challenge (always sent: not a setting).
    RemovedFromChallenge,
    /// The user's report was received (always sent).
    ReportReceived,
    /// An operator warned the user (always sent).
    ModerationWarning,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::SessionReminder,
        Kind::SessionAchieved,
        Kind::ChallengeCompleted,
        Kind::ChallengeFailed,
        Kind::RankUp,
        Kind::NoticeChanged,
        Kind::NewMember,
    ];

    /// Moderation notices: always sent, whatever the user's settings (not in [`Kind::ALL`],
    /// the kinds a user may turn off).
    pub const MODERATION: [Kind; 3] = [
        Kind::RemovedFromChallenge,
        Kind::ReportReceived,
        Kind::ModerationWarning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RemovedFromChallenge => "REMOVED_FROM_CHALLENGE",
            Kind::ReportReceived => "REPORT_RECEIVED",
            Kind::ModerationWarning => "MODERATION_WARNING",
            Kind::SessionReminder => "SESSION_REMINDER",
            Kind::SessionAchieved => "SESSION_ACHIEVED",
            Kind::ChallengeCompleted => "CHALLENGE_COMPLETED",
            Kind::ChallengeFailed => "CHALLENGE_FAILED",
            Kind::RankUp => "RANK_UP",
            Kind::NoticeChanged => "NOTICE_CHANGED",
            Kind::NewMember => "NEW_MEMBER",
        }
    }

    pub fn parse(value: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .chain(Kind::MODERATION)
            .find(|k| k.as_str() == value)
    }

    fn bit(self) -> i64 {
        1 << Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// The kinds a user wants, as a bit set (stored as an integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSet(i64);

impl KindSet {
    pub const ALL: KindSet = KindSet((1 << Kind::ALL.len()) - 1);

    pub fn from_bits(bits: i64) -> KindSet {
        KindSet(bits & Self::ALL.0)
    }

    pub fn bits(self) -> i64 {
        self.0
    }

    pub fn contains(self, kind: Kind) -> bool {
        Kind::MODERATION.contains(&kind) || self.0 & kind.bit() != 0
    }

    /// From the API's names; `None` on an unknown one.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Option<KindSet> {
        names
            .iter()
            .try_fold(0, |bits, name| {
                Some(bits | Kind::parse(name.as_ref())?.bit())
            })
            .map(KindSet)
    }

    pub fn names(self) -> Vec<&'static str> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.contains(*k))
            .map(Kind::as_str)
            .collect()
    }
}

pub const DEFAULT_MINUTES_BEFORE: i64 = 10;
pub const MAX_MINUTES_BEFORE: i64 = 120;

/// Hours without pushes, `start..end` local time, across midnight when `end <= start`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
    pub timezone: TimeZone,
}

impl QuietHours {
    fn contains(&self, at: Timestamp) -> bool {
        let time = at.to_zoned_datetime(self.timezone.clone()).time();
        if self.start <= self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }

    /// Whether a push may go out at `now`. Outside the quiet hours always; inside them only
    /// the reminder of a session that itself starts in the quiet hours or right at their end
    /// (`session_start`), which the user chose to keep.
    pub fn allows(&self, now: Timestamp, session_start: Option<Timestamp>) -> bool {
        if !self.contains(now) {
            return true;
        }
        session_start.is_some_and(|start| {
            self.contains(start)
                || start.to_zoned_datetime(self.timezone.clone()).time() == self.end
        })
    }
}

/// A user's notification settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub kinds: KindSet,
    pub minutes_before: i64,
    pub quiet: Option<QuietHours>,
}

impl Settings {
    /// Everything on, reminders ten minutes before, no quiet hours.
    pub fn defaults() -> Settings {
        Settings {
            kinds: KindSet::ALL,
            minutes_before: DEFAULT_MINUTES_BEFORE,
            quiet: None,
        }
    }

    /// Settings from their parts as the API and the database hold them; quiet hours need both
    /// times, and take `default_timezone` when no timezone is given.
    pub fn parse(
        kinds: KindSet,
        minutes_before: i64,
        quiet_start: Option<&str>,
        quiet_end: Option<&str>,
        timezone: Option<&str>,
        default_timezone: &TimeZone,
    ) -> Result<Settings, Invalid> {
        if !(1..=MAX_MINUTES_BEFORE).contains(&minutes_before) {
            return Err(Invalid::new(
                "minutesBefore",
                Reason::Range {
                    min: 1,
                    max: MAX_MINUTES_BEFORE,
                },
            ));
        }
        let time = |field: &'static str, value: &str| {
            parse_time_of_day(value)
                .ok_or(Invalid::new(field, Reason::Format { expected: "HH:MM" }))
        };
        // A timezone given is checked even without quiet hours (it is kept for them).
        let timezone = match timezone {
            Some(name) if name.len() <= 64 => TimeZone::get(name).map_err(|_| {
                Invalid::new(
                    "timezone",
                    Reason::Format {
                        expected: "an IANA timezone name",
                    },
                )
            })?,
            Some(_) => {
                return Err(Invalid::new(
                    "timezone",
                    Reason::Format {
                        expected: "an IANA timezone name",
                    },
                ));
            }
            None => default_timezone.clone(),
        };
        let quiet = match (quiet_start, quiet_end) {
            (None, None) => None,
            (Some(start), Some(end)) => {
                let start = time("quietStart", start)?;
                let end = time("quietEnd", end)?;
                if start == end {
                    return Err(Invalid::new(
                        "quietEnd",
                        Reason::NotAfter {
                            other: "quietStart",
                        },
                    ));
                }
                Some(QuietHours {
                    start,
                    end,
                    timezone,
                })
            }
            (None, Some(_)) => return Err(Invalid::new("quietStart", Reason::Required)),
            (Some(_), None) => return Err(Invalid::new("quietEnd", Reason::Required)),
        };
        Ok(Settings {
            kinds,
            minutes_before,
            quiet,
        })
    }

    /// The quiet hours as `HH:MM` texts.
    pub fn quiet_times(&self) -> Option<(String, String)> {
        self.quiet
            .as_ref()
            .map(|q| (format_time_of_day(q.start), format_time_of_day(q.end)))
    }
}

/// A reminder for one session of one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reminder {
    pub date: Date,
    pub session_start: Timestamp,
    pub due: Timestamp,
}

/// The reminder of the participant's next session that has not started by `now`, `lead`
/// before its start: `Some` only when it is due (`due <= now < start`). Sessions already under
/// way are never reminded (stale), so a node back from a pause drops them.
pub fn due_reminder(
    participant: &ParticipantSchedule<'_>,
    lead: SignedDuration,
    now: Timestamp,
) -> Option<Reminder> {
    let schedule = participant.schedule;
    let today = schedule.local_date(now);
    let date = schedule
        .session_days(today, schedule.end_date)
        .filter(|d| participant.has_session(*d))
        .find(|d| schedule.session_window(*d).0 > now)?;
    let session_start = schedule.session_window(date).0;
    let due = session_start.checked_sub(lead).unwrap_or(session_start);
    (due <= now).then_some(Reminder {
        date,
        session_start,
        due,
    })
}

/// The details a notification carries, by kind (fields a kind does not use stay empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_title: Option<String>,
    /// Reminders: minutes until the session starts; achievements: the session date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Reminders: when the session starts (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_rank: Option<u64>,
    /// New members: who joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Moderation notices: the operator's reason (warnings), what was reported (receipts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The title and body of a notification in Korean (`korean`) or English.
pub fn text(kind: Kind, details: &Details, korean: bool) -> (String, String) {
    let title = details.challenge_title.clone().unwrap_or_default();
    let pick = |ko: String, en: String| if korean { ko } else { en };
    let body = match kind {
        Kind::RemovedFromChallenge => pick(
            "호스트가 이 챌린지에서 내보냈습니다. 지금까지의 출석 기록은 남지만, 다시 참여하거나 완주할 수 없습니다.".into(),
            "A host removed you from this challenge. Your attendance so far stays on record, but you cannot rejoin or complete it.".into(),
        ),
        Kind::ReportReceived => pick(
            "신고가 접수되었습니다. 운영자가 검토한 뒤 조치합니다.".into(),
            "Your report was received; an operator will review it.".into(),
        ),
        Kind::ModerationWarning => {
            let why = details.reason.clone().unwrap_or_default();
            pick(
                format!("운영 정책 위반으로 경고를 받았습니다: {why}"),
                format!("You received a warning for breaking the community rules: {why}"),
            )
        }
        Kind::SessionReminder => {
            let m = details.minutes.unwrap_or(0);
            pick(
                format!("{m}분 뒤에 세션이 시작됩니다."),
                format!("A session starts in {m} minutes."),
            )
        }
        Kind::SessionAchieved => pick(
            "오늘 세션을 달성했습니다! +10점".into(),
            "You achieved today's session! +10 points".into(),
        ),
        Kind::ChallengeCompleted => pick(
            "챌린지를 완주했습니다! +50점".into(),
            "You completed the challenge! +50 points".into(),
        ),
        Kind::ChallengeFailed => pick(
            "챌린지가 끝났습니다. 이번에는 달성률이 모자랐어요.".into(),
            "The challenge ended; your achievement rate fell short this time.".into(),
        ),
        Kind::RankUp => {
            let r = details.rank.unwrap_or(0);
            pick(
                format!("전체 랭킹 {r}위로 올라섰습니다."),
                format!("You moved up to #{r} in the all-time ranking."),
            )
        }
        Kind::NoticeChanged => pick("공지가 바뀌었습니다.".into(), "The notice changed.".into()),
        Kind::NewMember => {
            let who = details.nickname.clone().unwrap_or_default();
            pick(
                format!("{who} 님이 참여했습니다."),
                format!("{who} joined."),
            )
        }
    };
    let title = if title.is_empty() {
        pick("쓱관".into(), "Ssgwan".into())
    } else {
        title
    };
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{DaySet, Schedule};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn new_york() -> Schedule {
        Schedule {
            start_date: jiff::civil::date(2026, 3, 2),
            end_date: jiff::civil::date(2026, 3, 13),
            days: DaySet::from_names(&["MON", "WED", "FRI"]).expect("days"),
            session_start: jiff::civil::time(7, 0, 0, 0),
            session_end: jiff::civil::time(8, 0, 0, 0),
            timezone: TimeZone::get("America/New_York").expect("tz"),
            timezone_name: "America/New_York".into(),
        }
    }

    #[test]
    fn reminders_are_due_before_the_start_and_stale_after_it_across_the_clock_change() {
        let s = new_york();
        let p = ParticipantSchedule::new(&s, at("2026-03-01T00:00:00Z"));
        let lead = SignedDuration::from_mins(10);
        // Friday the 6th, 07:00 EST = 12:00 UTC.
        assert_eq!(due_reminder(&p, lead, at("2026-03-06T11:49:59Z")), None);
        let due = due_reminder(&p, lead, at("2026-03-06T11:50:00Z")).expect("due");
        assert_eq!(
            (due.date, due.due),
            (jiff::civil::date(2026, 3, 6), at("2026-03-06T11:50:00Z"))
        );
        // At the start the next one is Monday's, not due yet: Friday's is dropped.
        assert_eq!(due_reminder(&p, lead, at("2026-03-06T12:00:00Z")), None);
        // Monday the 9th is after the change: 07:00 EDT = 11:00 UTC.
        let due = due_reminder(&p, lead, at("2026-03-09T10:55:00Z")).expect("due");
        assert_eq!(due.session_start, at("2026-03-09T11:00:00Z"));
        assert_eq!(due_reminder(&p, lead, at("2026-03-09T10:49:00Z")), None);
    }

    #[test]
    fn quiet_hours_hold_pushes_except_for_sessions_in_them() {
        let seoul = TimeZone::get("Asia/Seoul").expect("tz");
        let quiet = Settings::parse(KindSet::ALL, 10, Some("23:00"), Some("07:00"), None, &seoul)
            .expect("valid")
            .quiet
            .expect("quiet");
        // 23:30 Seoul = 14:30 UTC.
        assert!(!quiet.allows(at("2026-03-02T14:30:00Z"), None));
        assert!(quiet.allows(at("2026-03-02T13:59:00Z"), None));
        // A 06:00 session's reminder at 05:50, and a 07:00 one's at 06:50, go out.
        assert!(quiet.allows(at("2026-03-02T20:50:00Z"), Some(at("2026-03-02T21:00:00Z"))));
        assert!(quiet.allows(at("2026-03-02T21:50:00Z"), Some(at("2026-03-02T22:00:00Z"))));
        // A 09:00 session's reminder at 06:50 (a 2 h 10 min lead) waits... and is not sent.
        assert!(!quiet.allows(at("2026-03-02T21:50:00Z"), Some(at("2026-03-03T00:00:00Z"))));
    }

    #[test]
    fn settings_are_validated() {
        let seoul = TimeZone::get("Asia/Seoul").expect("tz");
        let bad = |m, s: Option<&str>, e: Option<&str>, tz: Option<&str>| {
            Settings::parse(KindSet::ALL, m, s, e, tz, &seoul)
                .map(|_| ())
                .map_err(|e| e.field)
        };
        assert_eq!(bad(121, None, None, None), Err("minutesBefore"));
        assert_eq!(bad(0, None, None, None), Err("minutesBefore"));
        assert_eq!(bad(10, Some("23:00"), None, None), Err("quietEnd"));
        assert_eq!(
            bad(10, Some("24:00"), Some("07:00"), None),
            Err("quietStart")
        );
        assert_eq!(bad(10, Some("07:00"), Some("07:00"), None), Err("quietEnd"));
        assert_eq!(
            bad(10, Some("23:00"), Some("07:00"), Some("Mars/Base")),
            Err("timezone")
        );
        assert_eq!(
            bad(1, Some("23:00"), Some("07:00"), Some("Europe/Paris")),
            Ok(())
        );
        assert_eq!(
            KindSet::from_names(&["RANK_UP", "NEW_MEMBER"]).map(KindSet::names),
            Some(vec!["RANK_UP", "NEW_MEMBER"])
        );
        assert_eq!(KindSet::from_names(&["NOPE"]), None);
    }
}
