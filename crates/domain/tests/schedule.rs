//! Schedule, status and validation rules: examples for the edges, properties for the rest.

use jiff::{SignedDuration, Timestamp, ToSpan, civil::Date, tz::TimeZone};
use proptest::prelude::*;
use ssgwan_domain::{
    ChallengeDraft, ChallengeSpec, ChallengeStatus, Reason,
    schedule::{DaySet, Schedule, parse_date, parse_time_of_day},
};

fn draft(start: &str, end: &str, tz: &str) -> ChallengeDraft {
    ChallengeDraft {
        title: Some("title".into()),
        category: Some("STUDY".into()),
        capacity: Some(10),
        start_date: Some(start.into()),
        end_date: Some(end.into()),
        session_start: Some("06:00".into()),
        session_end: Some("07:00".into()),
        timezone: Some(tz.into()),
        min_minutes: Some(30),
        ..Default::default()
    }
}

/// A Seoul challenge from `start` to `end`, validated on 2026-01-01.
fn valid_in_seoul(start: &str, end: &str) -> ChallengeSpec {
    draft(start, end, "Asia/Seoul")
        .validate(at("2026-01-01T00:00:00Z"))
        .expect("valid")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

#[test]
fn start_date_in_the_past_is_judged_in_the_challenges_timezone() {
    // 2026-03-01 16:00 UTC is already 2026-03-02 in Seoul but still 2026-03-01 in New York.
    let now = at("2026-03-01T16:00:00Z");
    let seoul = draft("2026-03-01", "2026-03-05", "Asia/Seoul").validate(now);
    assert_eq!(
        seoul.map_err(|e| (e.field, e.reason)),
        Err(("startDate", Reason::InPast))
    );
    let mut ny = draft("2026-03-01", "2026-03-05", "America/New_York");
    ny.session_start = Some("20:00".into());
    ny.session_end = Some("21:00".into());
    assert!(ny.validate(now).is_ok());
}

#[test]
fn span_is_at_most_100_days_inclusive() {
    let now = at("2026-01-01T00:00:00Z");
    assert!(
        draft("2026-02-01", "2026-05-12", "Asia/Seoul")
            .validate(now)
            .is_ok()
    ); // 100 days apart
    let too_long = draft("2026-02-01", "2026-05-13", "Asia/Seoul").validate(now);
    assert_eq!(too_long.map_err(|e| e.field), Err("endDate"));
}

#[test]
fn a_one_day_challenge_is_simply_start_equals_end() {
    let spec = valid_in_seoul("2026-02-01", "2026-02-01");
    assert_eq!(
        spec.schedule
            .count_sessions(spec.schedule.start_date, spec.schedule.end_date),
        1
    );
}

#[test]
fn status_boundaries_are_local_midnight_and_the_last_session_end() {
    let spec = valid_in_seoul("2026-02-01", "2026-02-03");
    let s = &spec.schedule;
    assert_eq!(s.starts_at(), at("2026-01-31T15:00:00Z"));
    assert_eq!(s.ends_at(), at("2026-02-02T22:00:00Z"));
    for (instant, status) in [
        ("2026-01-31T14:59:59Z", ChallengeStatus::Recruiting),
        ("2026-01-31T15:00:00Z", ChallengeStatus::InProgress),
        ("2026-02-02T21:59:59Z", ChallengeStatus::InProgress),
        ("2026-02-02T22:00:00Z", ChallengeStatus::Ended),
    ] {
        assert_eq!(s.status_at(at(instant)), status, "at {instant}");
    }
}

#[test]
fn session_windows_survive_daylight_saving_changes() {
    // New York springs forward on 2026-03-08 at 02:00: a 02:30 session start does not exist.
    let now = at("2026-01-01T00:00:00Z");
    let mut d = draft("2026-03-07", "2026-03-09", "America/New_York");
    d.session_start = Some("02:30".into());
    d.session_end = Some("03:30".into());
    let spec = d.validate(now).expect("valid");
    let day = Date::new(2026, 3, 8).expect("date");
    let (start, end) = spec.schedule.session_window(day);
    assert!(start < end, "window {start}..{end}");
    // Before and after the change the same local time is an hour apart in UTC.
    let before = spec
        .schedule
        .session_window(Date::new(2026, 3, 7).expect("date"))
        .0;
    let after = spec
        .schedule
        .session_window(Date::new(2026, 3, 9).expect("date"))
        .0;
    assert_eq!(after.duration_since(before), SignedDuration::from_hours(47));
}

#[test]
fn days_parse_strictly() {
    assert_eq!(
        DaySet::from_names(&["mon", "SUN"]).map(DaySet::names),
        Ok(vec!["MON", "SUN"])
    );
    assert!(DaySet::from_names(&["MON", "MON"]).is_err());
    assert!(DaySet::from_names::<&str>(&[]).is_err());
    assert!(DaySet::from_names(&["MONDAY"]).is_err());
}

#[test]
fn dates_and_times_parse_strictly() {
    assert!(parse_date("2026-02-28").is_some());
    for bad in [
        "2026-02-30",
        "2026-2-28",
        "20260228",
        "2026-02-28T00:00",
        "",
        "+002026-02-28",
    ] {
        assert!(parse_date(bad).is_none(), "{bad}");
    }
    assert!(parse_time_of_day("23:59").is_some());
    for bad in [
        "24:00", "7:00", "07:0", "07:60", "ab:cd", "07:00:00", "-1:00",
    ] {
        assert!(parse_time_of_day(bad).is_none(), "{bad}");
    }
}

fn arb_timezone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "Asia/Seoul",
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/St_Johns",
    ])
}

fn arb_schedule() -> impl Strategy<Value = Schedule> {
    (
        0i64..800,
        0i64..=100,
        1u8..=127,
        0i8..23,
        1i8..=60,
        arb_timezone(),
    )
        .prop_map(|(offset, span, bits, hour, length, tz)| {
            let start = Date::new(2025, 1, 1)
                .expect("date")
                .checked_add(offset.days())
                .expect("date");
            let end = start.checked_add(span.days()).expect("date");
            let session_start = jiff::civil::Time::new(hour, 0, 0, 0).expect("time");
            let session_end = session_start.checked_add(length.minutes()).expect("time");
            Schedule {
                start_date: start,
                end_date: end,
                days: DaySet::from_bits(bits).expect("bits"),
                session_start,
                session_end,
                timezone: TimeZone::get(tz).expect("tz"),
                timezone_name: tz.to_owned(),
            }
        })
}

proptest! {
    #[test]
    fn status_never_goes_backwards(schedule in arb_schedule(), a in 0i64..1_000_000_000, b in 0i64..1_000_000_000) {
        let base = at("2024-12-01T00:00:00Z");
        let (early, late) = (base + SignedDuration::from_secs(a.min(b)), base + SignedDuration::from_secs(a.max(b)));
        let rank = |s: ChallengeStatus| ChallengeStatus::ALL.iter().position(|x| *x == s);
        prop_assert!(rank(schedule.status_at(early)) <= rank(schedule.status_at(late)));
    }

    #[test]
    fn session_count_matches_a_day_by_day_walk(schedule in arb_schedule(), from_offset in -10i64..120, len in 0i64..140) {
        let from = schedule.start_date.checked_add(from_offset.days()).expect("date");
        let until = from.checked_add(len.days()).expect("date");
        let mut expected = 0;
        let mut day = from;
        while day <= until {
            if schedule.is_session_day(day) { expected += 1; }
            day = day.tomorrow().expect("date");
        }
        prop_assert_eq!(schedule.count_sessions(from, until), expected);
    }

    #[test]
    fn every_session_window_lies_inside_the_in_progress_period(schedule in arb_schedule()) {
        for day in schedule.session_days(schedule.start_date, schedule.end_date) {
            let (start, end) = schedule.session_window(day);
            prop_assert!(start < end);
            prop_assert!(schedule.starts_at() <= start);
            prop_assert!(end <= schedule.ends_at());
            prop_assert_eq!(schedule.status_at(start), ChallengeStatus::InProgress);
        }
    }

    #[test]
    fn local_date_of_a_window_start_is_its_day(schedule in arb_schedule()) {
        for day in schedule.session_days(schedule.start_date, schedule.end_date).take(20) {
            prop_assert_eq!(schedule.local_date(schedule.session_window(day).0), day);
        }
    }

    #[test]
    fn a_valid_spec_round_trips_through_its_draft(schedule in arb_schedule(), capacity in 2i64..=50, rate in 1i64..=100) {
        let now = at("2024-12-01T00:00:00Z");
        let draft = ChallengeDraft {
            title: Some("t".into()),
            category: Some("HOBBY".into()),
            capacity: Some(capacity),
            start_date: Some(schedule.start_date.to_string()),
            end_date: Some(schedule.end_date.to_string()),
            days_of_week: Some(schedule.days.names().into_iter().map(String::from).collect()),
            session_start: Some(ssgwan_domain::schedule::format_time_of_day(schedule.session_start)),
            session_end: Some(ssgwan_domain::schedule::format_time_of_day(schedule.session_end)),
            timezone: Some(schedule.timezone_name.clone()),
            min_minutes: Some(1),
            success_rate: Some(rate),
            ..Default::default()
        };
        if let Ok(spec) = draft.validate(now) {
            prop_assert_eq!(spec.to_draft().validate(now).expect("still valid"), spec);
        }
    }
}

mod stats_properties {
    use std::collections::{BTreeMap, BTreeSet};

    use jiff::{ToSpan, civil::Date};
    use proptest::prelude::*;
    use ssgwan_domain::stats::{streaks, zero_filled};

    fn day(offset: i64) -> Date {
        Date::new(2025, 12, 20)
            .expect("date")
            .checked_add(offset.days())
            .expect("date")
    }

    proptest! {
        /// Around month and year ends: the streak equals a day-by-day count back.
        #[test]
        fn current_streak_matches_a_walk_back(offsets in prop::collection::btree_set(0i64..40, 0..30), today in 0i64..45) {
            let days: BTreeSet<Date> = offsets.iter().map(|o| day(*o)).collect();
            let today = day(today);
            let (current, longest) = streaks(&days, today);
            let start = if days.contains(&today) { today } else { today.yesterday().expect("date") };
            let mut expected = 0;
            let mut cursor = start;
            while days.contains(&cursor) {
                expected += 1;
                cursor = cursor.yesterday().expect("date");
            }
            prop_assert_eq!(current, expected);
            prop_assert!(longest >= current);
            prop_assert!(longest <= days.len() as i64);
        }

        /// Zero-filling yields exactly `count` consecutive days, values where given.
        #[test]
        fn zero_filling_is_consecutive_and_complete(start in 0i64..40, count in 1usize..40, values in prop::collection::btree_map(0i64..80, 1i64..9, 0..20)) {
            let values: BTreeMap<Date, i64> = values.into_iter().map(|(o, v)| (day(o), v)).collect();
            let series = zero_filled(day(start), count, &values);
            prop_assert_eq!(series.len(), count);
            for (i, (date, value)) in series.iter().enumerate() {
                prop_assert_eq!(*date, day(start + i as i64));
                prop_assert_eq!(*value, values.get(date).copied().unwrap_or(0));
            }
        }
    }
}
