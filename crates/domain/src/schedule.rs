//! When a challenge's sessions happen, in the challenge's own timezone, and what that makes its
//! status at a given instant.

use jiff::{
    SignedDuration, Timestamp, ToSpan, ZonedDateTime,
    civil::{Date, Time, Weekday},
    tz::TimeZone,
};

/// The weekdays a challenge meets on, as a 7-bit set (bit 0 = Monday … bit 6 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DaySet(u8);

/// The date `now` falls on by the clocks of `timezone` (a challenge's "today").
pub fn local_date(timezone: &TimeZone, now: Timestamp) -> Date {
    now.to_zoned_datetime(timezone.clone()).date()
}

/// Weekday names in the order of the bits, as the API spells them.
pub const DAY_NAMES: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

impl DaySet {
    pub const ALL: DaySet = DaySet(0b111_1111);

    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits != 0 && bits <= 0b111_1111).then_some(Self(bits))
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }

    /// Parses names such as `["MON", "WED"]`; `None` on an unknown name or a duplicate.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, ParseDaysError> {
        let mut bits = 0u8;
        for name in names {
            let index = DAY_NAMES
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name.as_ref().trim()))
                .ok_or(ParseDaysError::Unknown)?;
            if bits & (1 << index) != 0 {
                return Err(ParseDaysError::Duplicate);
            }
            bits |= 1 << index;
        }
        Self::from_bits(bits).ok_or(ParseDaysError::Empty)
    }

    pub fn names(self) -> Vec<&'static str> {
        (0..7)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| DAY_NAMES[i])
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseDaysError {
    Unknown,
    Duplicate,
    Empty,
}

/// Derived from the clock in the challenge's timezone; never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeStatus {
    /// Before the start date.
    Recruiting,
    /// From the start date through the end of the end date's session.
    InProgress,
    /// After that.
    Ended,
}

impl ChallengeStatus {
    pub const ALL: [ChallengeStatus; 3] = [Self::Recruiting, Self::InProgress, Self::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recruiting => "RECRUITING",
            Self::InProgress => "IN_PROGRESS",
            Self::Ended => "ENDED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A validated schedule: inclusive dates, weekdays, a daily session window and a timezone.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub start_date: Date,
    pub end_date: Date,
    pub days: DaySet,
    pub session_start: Time,
    pub session_end: Time,
    pub timezone: TimeZone,
    /// The IANA name `timezone` was made from, kept for display and storage.
    pub timezone_name: String,
}

impl Schedule {
    /// The local date at `now` in the challenge's timezone.
    pub fn local_date(&self, now: Timestamp) -> Date {
        local_date(&self.timezone, now)
    }

    /// The first instant of the start date: the challenge is recruiting before it.
    pub fn starts_at(&self) -> Timestamp {
        self.instant(self.start_date, Time::midnight())
    }

    /// The end of the end date's session: the challenge has ended from this instant on.
    pub fn ends_at(&self) -> Timestamp {
        self.session_window(self.end_date).1
    }

    pub fn status_at(&self, now: Timestamp) -> ChallengeStatus {
        if now < self.starts_at() {
            ChallengeStatus::Recruiting
        } else if now < self.ends_at() {
            ChallengeStatus::InProgress
        } else {
            ChallengeStatus::Ended
        }
    }

    /// Whether `date` is a session day: within the dates and on one of the weekdays.
    pub fn is_session_day(&self, date: Date) -> bool {
        date >= self.start_date && date <= self.end_date && self.days.contains(date.weekday())
    }

    /// The session days in `from..=until`, clipped to the challenge's dates.
    pub fn session_days(&self, from: Date, until: Date) -> impl Iterator<Item = Date> + '_ {
        let first = from.max(self.start_date);
        let last = until.min(self.end_date);
        first
            .series(1.day())
            .take_while(move |d| *d <= last)
            .filter(move |d| self.days.contains(d.weekday()))
    }

    /// How many sessions fall in `from..=until`.
    pub fn count_sessions(&self, from: Date, until: Date) -> i64 {
        self.session_days(from, until).count() as i64
    }

    /// The session window of `date` as instants.
    /// It always lasts the nominal session length, so on a day the clocks change a session
    /// is neither squeezed to nothing nor stretched.
    pub fn session_window(&self, date: Date) -> (Timestamp, Timestamp) {
        let start = self.instant(date, self.session_start);
        let length = SignedDuration::from_mins(self.session_minutes());
        (
            start,
            start.saturating_add(length).unwrap_or(Timestamp::MAX),
        )
    }

    /// Session length in whole minutes.
    pub fn session_minutes(&self) -> i64 {
        let start =
            i64::from(self.session_start.hour()) * 60 + i64::from(self.session_start.minute());
        let end = i64::from(self.session_end.hour()) * 60 + i64::from(self.session_end.minute());
        end - start
    }

    fn instant(&self, date: Date, time: Time) -> Timestamp {
        // A local time that falls in a DST gap resolves to the later instant ("compatible"),
        // so every date has a well-defined window even in zones that change their clocks.
        date.to_datetime(time)
            .to_zoned_datetime(self.timezone.clone())
            .map(|z: ZonedDateTime| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

/// Parses `HH:MM` (24-hour, two digits each) strictly.
pub fn parse_time_of_day(value: &str) -> Option<Time> {
    let (h, m) = value.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// Formats a time of day as `HH:MM`.
pub fn format_time_of_day(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

/// Parses `YYYY-MM-DD` strictly.
pub fn parse_date(value: &str) -> Option<Date> {
    if value.len() != 10 {
        return None;
    }
    value.parse::<Date>().ok()
}
