//! Scores, ranking order, periods and personal statistics (streaks, per-day series).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};

use crate::{attendance::ParticipantSchedule, schedule::Schedule};

/// Points for an achieved session.
pub const SESSION_POINTS: i64 = 10;
/// Points for a completed challenge.
pub const COMPLETION_POINTS: i64 = 50;

/// A ranking board's span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    All,
    /// Monday-based week.
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::All, Period::Week, Period::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::All => "all",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn parse(value: &str) -> Option<Period> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }

    /// The first day of the period containing `day` (`None` for all time).
    pub fn start(self, day: Date) -> Option<Date> {
        match self {
            Period::All => None,
            Period::Week => day
                .checked_sub(i64::from(day.weekday().to_monday_zero_offset()).days())
                .ok(),
            Period::Month => day.first_of_month().into(),
        }
    }
}

/// Where a user stands: the order is score (high first), completed challenges (more first),
/// who reached that score first (earlier first), then user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Standing {
    pub user_id: i64,
    pub score: i64,
    pub completed: i64,
    /// When the user reached their current score (unix milliseconds).
    pub reached_at: i64,
}

impl Standing {
    /// A key whose ascending order is the ranking order.
    pub fn order_key(&self) -> (std::cmp::Reverse<i64>, std::cmp::Reverse<i64>, i64, i64) {
        (
            std::cmp::Reverse(self.score),
            std::cmp::Reverse(self.completed),
            self.reached_at,
            self.user_id,
        )
    }
}

impl PartialOrd for Standing {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Standing {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

/// Current and longest runs of consecutive days in `days`. Today not achieved (yet) does not
/// break the current streak: it then ends yesterday.
pub fn streaks(days: &BTreeSet<Date>, today: Date) -> (i64, i64) {
    let mut longest = 0;
    let mut run = 0;
    let mut previous: Option<Date> = None;
    for day in days {
        run = match previous {
            Some(p) if p.tomorrow().ok() == Some(*day) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        previous = Some(*day);
    }
    let end = if days.contains(&today) {
        Some(today)
    } else {
        today.yesterday().ok().filter(|y| days.contains(y))
    };
    let mut current = 0;
    let mut cursor = end;
    while let Some(day) = cursor.filter(|d| days.contains(d)) {
        current += 1;
        cursor = day.yesterday().ok();
    }
    (current, longest)
}

/// `count` consecutive days from `from`, each with its value from `values` or the default.
pub fn zero_filled<T: Clone + Default>(
    from: Date,
    count: usize,
    values: &BTreeMap<Date, T>,
) -> Vec<(Date, T)> {
    from.series(1.day())
        .take(count)
        .map(|d| (d, values.get(&d).cloned().unwrap_or_default()))
        .collect()
}

/// One day of a user's statistics series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub achieved_sessions: i64,
    /// Sessions of the user's challenges that fall on the day and are theirs (see
    /// [`ParticipantSchedule::has_session`]).
    pub scheduled_sessions: i64,
    /// Whole minutes on camera inside session windows (per session, rounded down).
    pub minutes: i64,
}

/// One recorded session of a user: its date, seconds on camera and whether it was achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTime {
    pub date: Date,
    pub seconds: i64,
    pub achieved: bool,
}

/// The user's `count` days from `from`, zero-filled: achieved sessions and minutes from
/// `attendance`, scheduled sessions from each of the user's `participations`.
pub fn daily_series<'a>(
    from: Date,
    count: usize,
    attendance: impl IntoIterator<Item = SessionTime>,
    participations: impl IntoIterator<Item = ParticipantSchedule<'a>>,
) -> Vec<(Date, DayCounts)> {
    let until = from.saturating_add((count as i64 - 1).max(0).days());
    let mut days: BTreeMap<Date, DayCounts> = BTreeMap::new();
    for session in attendance {
        let day = days.entry(session.date).or_default();
        day.achieved_sessions += i64::from(session.achieved);
        day.minutes += session.seconds / 60;
    }
    for participant in participations {
        for date in participant.schedule.session_days(from, until) {
            if participant.has_session(date) {
                days.entry(date).or_default().scheduled_sessions += 1;
            }
        }
    }
    zero_filled(from, count, &days)
}

/// One session day of a challenge: participants it was scheduled for, how many achieved it,
/// and the rate (percent, one decimal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChallengeDay {
    pub date: Date,
    pub scheduled: i64,
    pub achieved: i64,
    pub rate: f64,
}

/// The challenge's attendance rate for each session day from its start through `today`, given
/// when each participant joined and the achieved sessions per date.
pub fn challenge_daily_rates(
    schedule: &Schedule,
    today: Date,
    joined_at: &[Timestamp],
    achieved: &BTreeMap<Date, i64>,
) -> Vec<ChallengeDay> {
    schedule
        .session_days(schedule.start_date, today)
        .map(|date| {
            let scheduled = joined_at
                .iter()
                .filter(|joined| ParticipantSchedule::new(schedule, **joined).has_session(date))
                .count() as i64;
            let achieved = achieved.get(&date).copied().unwrap_or(0);
            ChallengeDay {
                date,
                scheduled,
                achieved,
                rate: percent(achieved, scheduled),
            }
        })
        .collect()
}

/// Days in a ranking entry's sparkline (`recentScores`).
pub const RECENT_DAYS: usize = 7;

/// Where each of the `days` local days ending with `last` begins, plus where the day after
/// `last` begins: `days + 1` instants, so day `i` is `bounds[i]..bounds[i + 1]`. Days follow
/// the clocks of `tz`, so a day with a daylight-saving change is 23 or 25 hours long.
pub fn day_bounds(last: Date, days: usize, tz: &TimeZone) -> Vec<Timestamp> {
    let first = last.saturating_sub((days as i64 - 1).max(0).days());
    first
        .series(1.day())
        .take(days + 1)
        .map(|d| {
            d.to_zoned_datetime(tz.clone())
                .map_or(Timestamp::MAX, |z| z.timestamp())
        })
        .collect()
}

/// Percent with one decimal; 0.0 when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    ((part as f64) * 1000.0 / (whole as f64)).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().expect("date")
    }

    #[test]
    fn streaks_count_back_from_today_or_yesterday() {
        let days: BTreeSet<Date> = [
            "2026-02-26",
            "2026-02-27",
            "2026-02-28",
            "2026-03-01",
            "2026-03-05",
            "2026-03-06",
        ]
        .map(d)
        .into();
        assert_eq!(streaks(&days, d("2026-03-06")), (2, 4));
        assert_eq!(
            streaks(&days, d("2026-03-07")),
            (2, 4),
            "today not achieved yet keeps yesterday's streak"
        );
        assert_eq!(streaks(&days, d("2026-03-08")), (0, 4));
        assert_eq!(streaks(&BTreeSet::new(), d("2026-03-08")), (0, 0));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        assert_eq!(
            Period::Week.start(d("2026-03-01")),
            Some(d("2026-02-23")),
            "a Sunday belongs to the week from Monday"
        );
        assert_eq!(Period::Week.start(d("2026-03-02")), Some(d("2026-03-02")));
        assert_eq!(Period::Month.start(d("2026-03-31")), Some(d("2026-03-01")));
        assert_eq!(Period::All.start(d("2026-03-31")), None);
    }

    #[test]
    fn ranking_order_breaks_ties_by_completions_then_time_then_id() {
        let standing = |user_id, score, completed, reached_at| Standing {
            user_id,
            score,
            completed,
            reached_at,
        };
        let a = standing(1, 100, 1, 50);
        let b = standing(2, 100, 2, 90);
        let c = standing(3, 100, 2, 10);
        let e = standing(5, 100, 2, 10);
        let top = standing(4, 110, 0, 999);
        let mut all = [a, b, c, e, top];
        all.sort();
        assert_eq!(
            all.iter().map(|s| s.user_id).collect::<Vec<_>>(),
            vec![4, 3, 5, 2, 1]
        );
    }

    #[test]
    fn day_bounds_follow_local_midnights_across_a_clock_change() {
        let tz = TimeZone::get("America/New_York").expect("tz");
        // Clocks went forward on Sunday 2026-03-08 in New York: that day is 23 hours long.
        let bounds = day_bounds(d("2026-03-09"), 3, &tz);
        let text: Vec<String> = bounds.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "2026-03-07T05:00:00Z",
                "2026-03-08T05:00:00Z",
                "2026-03-09T04:00:00Z",
                "2026-03-10T04:00:00Z"
            ]
        );
        let seoul = TimeZone::get("Asia/Seoul").expect("tz");
        let week = day_bounds(d("2026-03-02"), RECENT_DAYS, &seoul);
        assert_eq!(week.len(), 8);
        assert_eq!(week[0].to_string(), "2026-02-23T15:00:00Z");
        assert_eq!(week[7].to_string(), "2026-03-02T15:00:00Z");
    }

    fn schedule() -> Schedule {
        crate::fixtures::spec().schedule
    }

    #[test]
    fn daily_series_counts_attendance_and_the_participants_own_sessions() {
        let s = schedule();
        let early = ParticipantSchedule::new(&s, "2026-03-01T00:00:00Z".parse().expect("ts"));
        // Joined Wednesday 08:00 Seoul: Wednesday's session is over, only Friday is theirs.
        let late = ParticipantSchedule::new(&s, "2026-03-10T23:00:00Z".parse().expect("ts"));
        let attendance = [
            SessionTime {
                date: d("2026-03-09"),
                seconds: 1_859,
                achieved: true,
            },
            SessionTime {
                date: d("2026-03-11"),
                seconds: 59,
                achieved: false,
            },
        ];
        let series = daily_series(d("2026-03-09"), 7, attendance, [early, late]);
        assert_eq!(series.len(), 7);
        let day = |date: &str| series.iter().find(|(d2, _)| *d2 == d(date)).expect("day").1;
        assert_eq!(
            day("2026-03-09"),
            DayCounts {
                achieved_sessions: 1,
                scheduled_sessions: 1,
                minutes: 30
            }
        );
        assert_eq!(day("2026-03-10"), DayCounts::default());
        assert_eq!(
            day("2026-03-11"),
            DayCounts {
                achieved_sessions: 0,
                scheduled_sessions: 1,
                minutes: 0
            }
        );
        assert_eq!(day("2026-03-13").scheduled_sessions, 2);
        assert_eq!(series[6].0, d("2026-03-15"));
    }

    #[test]
    fn challenge_rates_cover_session_days_through_today() {
        let s = schedule();
        let joined = [
            "2026-03-01T00:00:00Z".parse().expect("ts"),
            "2026-03-10T23:00:00Z".parse().expect("ts"),
        ];
        let achieved: BTreeMap<Date, i64> = [(d("2026-03-09"), 1), (d("2026-03-13"), 1)].into();
        let days = challenge_daily_rates(&s, d("2026-03-13"), &joined, &achieved);
        let summary: Vec<(String, i64, i64, f64)> = days
            .iter()
            .map(|day| (day.date.to_string(), day.scheduled, day.achieved, day.rate))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("2026-03-09".to_owned(), 1, 1, 100.0),
                ("2026-03-11".to_owned(), 1, 0, 0.0),
                ("2026-03-13".to_owned(), 2, 1, 50.0),
            ]
        );
    }

    #[test]
    fn percent_has_one_decimal() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(0, 0), 0.0);
    }
}
