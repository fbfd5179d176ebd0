//! iCalendar (RFC 5545) for challenge sessions: one recurring event per challenge, a participant's
//! own sessions only (from the first one that had not ended when they joined), and a VTIMEZONE
//! for every zone the events use, written from the timezone database so calendar applications
//! place each session where the schedule does, across clock changes too.
//!
//! A session recurs weekly on the challenge's weekdays (`RRULE:FREQ=WEEKLY;BYDAY=…;UNTIL=…`) at
//! the same local time, and lasts the nominal session length (`DURATION`), as
//! [`Schedule::session_window`] does. A one-time challenge (or one session left) is a single
//! event. The `UID` names the challenge only, so an edit before the start updates the event
//! in place.

use std::fmt::Write as _;

use jiff::{
    SignedDuration, Timestamp, ToSpan,
    civil::{Date, DateTime},
    tz::TimeZone,
};

use crate::{attendance::ParticipantSchedule, schedule::Schedule};

/// The iCalendar weekday names in the order of [`crate::schedule::DaySet`]'s bits.
const BYDAY: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One challenge as an event of a calendar.
#[derive(Debug, Clone)]
pub struct CalendarEvent<'a> {
    /// Stable across edits: `challenge-<id>@<host>`.
    pub uid: String,
    pub title: &'a str,
    /// The plain text shown under the title (the room's address, the notice, …).
    pub description: String,
    /// The live room.
    pub url: String,
    pub schedule: &'a Schedule,
    /// When the participant joined (their sessions start from there).
    pub joined_at: Timestamp,
    /// The last change of the challenge (LAST-MODIFIED, and SEQUENCE in seconds).
    pub updated_at: Timestamp,
}

/// The sessions of `participant`: the first and the last session date, or `None` when none is
/// left for them (joined after the last one ended).
pub fn session_span(participant: &ParticipantSchedule<'_>) -> Option<(Date, Date)> {
    let schedule = participant.schedule;
    let from = schedule.local_date(participant.joined_at);
    let first = schedule
        .session_days(from, schedule.end_date)
        .find(|d| participant.has_session(*d))?;
    let last = (0..7)
        .map(|back| schedule.end_date.saturating_sub(back.days()))
        .find(|d| schedule.is_session_day(*d))?;
    (last >= first).then_some((first, last))
}

/// A whole calendar: `name` for the calendar's title, the events (those without a session
/// left are skipped), stamped `now`.
pub fn render_calendar(name: &str, events: &[CalendarEvent<'_>], now: Timestamp) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line("PRODID:-//Ssgwan//Ssgwan Calendar//KO");
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    // Calendar applications that poll subscriptions take this as a hint.
    out.line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    out.line("X-PUBLISHED-TTL:PT1H");
    let spans: Vec<_> = events
        .iter()
        .filter_map(|e| {
            session_span(&ParticipantSchedule::new(e.schedule, e.joined_at)).map(|s| (e, s))
        })
        .collect();
    let mut zones: Vec<(&str, &TimeZone, Timestamp, Timestamp)> = Vec::new();
    for (event, (first, last)) in &spans {
        let s = event.schedule;
        let (from, _) = s.session_window(*first);
        let (_, until) = s.session_window(*last);
        match zones.iter_mut().find(|z| z.0 == s.timezone_name) {
            Some(zone) => {
                zone.2 = zone.2.min(from);
                zone.3 = zone.3.max(until);
            }
            None => zones.push((&s.timezone_name, &s.timezone, from, until)),
        }
    }
    for (name, tz, from, until) in zones {
        write_timezone(&mut out, name, tz, from, until);
    }
    for (event, span) in spans {
        write_event(&mut out, event, span, now);
    }
    out.line("END:VCALENDAR");
    out.text
}

fn write_event(
    out: &mut Lines,
    event: &CalendarEvent<'_>,
    (first, last): (Date, Date),
    now: Timestamp,
) {
    let s = event.schedule;
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}", event.uid));
    out.line(&format!("DTSTAMP:{}", utc(now)));
    out.line(&format!("LAST-MODIFIED:{}", utc(event.updated_at)));
    // Increases with every edit, so clients that compare it take the new version.
    let sequence = event.updated_at.as_second().max(0) / 60;
    out.line(&format!("SEQUENCE:{sequence}"));
    out.line(&format!(
        "DTSTART;TZID={}:{}",
        s.timezone_name,
        local(first.to_datetime(s.session_start))
    ));
    out.line(&format!("DURATION:PT{}M", s.session_minutes()));
    if last > first {
        let days: Vec<&str> = (0..7)
            .filter(|i| s.days.bits() & (1 << i) != 0)
            .map(|i| BYDAY[i])
            .collect();
        let (until, _) = s.session_window(last);
        out.line(&format!(
            "RRULE:FREQ=WEEKLY;WKST=MO;BYDAY={};UNTIL={}",
            days.join(","),
            utc(until)
        ));
    }
    out.line(&format!("SUMMARY:{}", escape_text(event.title)));
    out.line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
    out.line(&format!("URL:{}", event.url));
    out.line("TRANSP:OPAQUE");
    out.line("END:VEVENT");
}

/// A VTIMEZONE with the zone's rules in force from `from` to `until`: the observance at `from`,
/// then every transition up to `until`, each as its own STANDARD or DAYLIGHT block (no
/// recurrence rules to get wrong: the timezone database already has the instants).
fn write_timezone(out: &mut Lines, name: &str, tz: &TimeZone, from: Timestamp, until: Timestamp) {
    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{name}"));
    let mut blocks = Vec::new();
    // The observance in force at `from` starts at the transition before it (if any).
    let before = tz
        .preceding(
            from.saturating_add(SignedDuration::from_secs(1))
                .unwrap_or(from),
        )
        .next();
    match before {
        Some(t) => {
            let previous = tz
                .preceding(t.timestamp())
                .next()
                .map_or(t.offset(), |p| p.offset());
            blocks.push((
                t.timestamp(),
                previous,
                t.offset(),
                t.abbreviation().to_owned(),
                t.dst().is_dst(),
            ));
        }
        None => {
            let info = tz.to_offset_info(from);
            blocks.push((
                Timestamp::UNIX_EPOCH,
                info.offset(),
                info.offset(),
                info.abbreviation().to_owned(),
                info.dst().is_dst(),
            ));
        }
    }
    let end = until
        .saturating_add(SignedDuration::from_hours(24 * 7))
        .unwrap_or(until);
    let mut previous = blocks[0].2;
    for t in tz.following(from).take_while(|t| t.timestamp() <= end) {
        blocks.push((
            t.timestamp(),
            previous,
            t.offset(),
            t.abbreviation().to_owned(),
            t.dst().is_dst(),
        ));
        previous = t.offset();
    }
    for (at, offset_from, offset_to, abbreviation, dst) in blocks {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        out.line(&format!("BEGIN:{kind}"));
        // DTSTART is the local time of the transition by the clocks before it.
        let start = offset_from.to_datetime(at.max(Timestamp::UNIX_EPOCH));
        out.line(&format!("DTSTART:{}", local(start)));
        out.line(&format!(
            "TZOFFSETFROM:{}",
            utc_offset(offset_from.seconds())
        ));
        out.line(&format!("TZOFFSETTO:{}", utc_offset(offset_to.seconds())));
        if !abbreviation.is_empty() {
            out.line(&format!("TZNAME:{}", escape_text(&abbreviation)));
        }
        out.line(&format!("END:{kind}"));
    }
    out.line("END:VTIMEZONE");
}

/// `20260309T063000`: a local date-time.
fn local(dt: DateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `20260309T113000Z`: an instant in UTC.
fn utc(at: Timestamp) -> String {
    format!("{}Z", local(at.to_zoned_datetime(TimeZone::UTC).datetime()))
}

/// `+0900`, `-0500`, `+0530`, `+001115` (seconds only when there are some).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// TEXT values escape backslashes, semicolons, commas and line breaks (RFC 5545 §3.3.11).
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Content lines: CRLF-terminated, folded at 75 octets without splitting a character.
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn line(&mut self, line: &str) {
        let mut width = 0;
        for ch in line.chars() {
            let len = ch.len_utf8();
            if width + len > 75 {
                self.text.push_str("\r\n ");
                width = 1;
            }
            self.text.push(ch);
            width += len;
        }
        let _ = write!(self.text, "\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::DaySet;

    fn schedule(tz: &str, start: Date, end: Date, days: &[&str]) -> Schedule {
        Schedule {
            start_date: start,
            end_date: end,
            days: DaySet::from_names(days).expect("days"),
            session_start: jiff::civil::time(6, 30, 0, 0),
            session_end: jiff::civil::time(7, 30, 0, 0),
            timezone: TimeZone::get(tz).expect("tz"),
            timezone_name: tz.to_owned(),
        }
    }

    fn event<'a>(s: &'a Schedule, joined_at: Timestamp) -> CalendarEvent<'a> {
        CalendarEvent {
            uid: "challenge-7@ssgwan.test".into(),
            title: "새벽, 공부; 함께",
            description: "line one\nline two".into(),
            url: "http://localhost/challenges/7".into(),
            schedule: s,
            joined_at,
            updated_at: "2026-03-01T00:00:00Z".parse().expect("ts"),
        }
    }

    #[test]
    fn a_recurring_challenge_is_one_weekly_event_until_the_last_session() {
        let s = schedule(
            "America/New_York",
            jiff::civil::date(2026, 3, 2),
            jiff::civil::date(2026, 3, 20),
            &["MON", "WED", "FRI"],
        );
        let now = "2026-03-01T00:00:00Z".parse().expect("ts");
        let text = render_calendar("쓱관", &[event(&s, now)], now);
        assert!(
            text.contains("DTSTART;TZID=America/New_York:20260302T063000\r\n"),
            "{text}"
        );
        // The last session (Friday the 20th, 06:30 EDT) is 10:30 UTC.
        assert!(
            text.contains("RRULE:FREQ=WEEKLY;WKST=MO;BYDAY=MO,WE,FR;UNTIL=20260320T103000Z\r\n"),
            "{text}"
        );
        assert!(text.contains("DURATION:PT60M\r\n"));
        assert!(text.contains("SUMMARY:새벽\\, 공부\\; 함께\r\n"));
        assert!(text.contains("DESCRIPTION:line one\\nline two\r\n"));
        // The zone's March change is described: EST to EDT at 02:00 local on the 8th.
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260308T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n"), "{text}");
        assert!(
            text.contains("TZOFFSETTO:-0500\r\nTZNAME:EST\r\n"),
            "{text}"
        );
        assert!(
            text.lines().all(|l| l.len() <= 76),
            "folded at 75 octets plus CR"
        );
    }

    #[test]
    fn a_late_joiner_starts_at_their_first_session_and_a_last_one_is_single() {
        let s = schedule(
            "Asia/Seoul",
            jiff::civil::date(2026, 3, 2),
            jiff::civil::date(2026, 3, 13),
            &["MON", "TUE", "WED", "THU", "FRI"],
        );
        // Joined Wednesday the 11th at 08:00 Seoul: that day's session is over.
        let joined = "2026-03-10T23:00:00Z".parse().expect("ts");
        let text = render_calendar("x", &[event(&s, joined)], joined);
        assert!(
            text.contains("DTSTART;TZID=Asia/Seoul:20260312T063000"),
            "{text}"
        );
        assert!(text.contains("BEGIN:STANDARD\r\nDTSTART:"), "{text}");
        assert!(text.contains("TZOFFSETTO:+0900"), "{text}");
        // Joined on the last day after its session: nothing left, no event.
        let late = "2026-03-13T00:00:00Z".parse().expect("ts");
        let text = render_calendar("x", &[event(&s, late)], late);
        assert!(!text.contains("VEVENT"), "{text}");
        // Joined Friday the 13th before its session: a single event, no rule.
        let last = "2026-03-12T20:00:00Z".parse().expect("ts");
        let text = render_calendar("x", &[event(&s, last)], last);
        assert!(
            text.contains("DTSTART;TZID=Asia/Seoul:20260313T063000"),
            "{text}"
        );
        assert!(!text.contains("RRULE"), "{text}");
    }

    #[test]
    fn long_lines_fold_between_characters() {
        let mut lines = Lines::default();
        lines.line(&format!("SUMMARY:{}", "가".repeat(40)));
        for line in lines.text.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line:?}");
        }
        assert_eq!(
            lines.text.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "가".repeat(40))
        );
    }
}
