//! Calendar feeds: the `.ics` read back by independent iCalendar software (Python's
//! `icalendar` + `recurring-ical-events`) must list exactly the sessions the domain schedule
//! has, across a clock change and for a late joiner; the address is a revocable secret.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ssgwan_domain::{
    attendance::ParticipantSchedule,
    schedule::{DaySet, Schedule},
};

use crate::support::{TestApp, assert_error, spawn_app};

async fn feed_url(app: &TestApp, token: &str) -> String {
    let (status, body) = app.get("/api/me/calendar", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["url"].as_str().expect("url").to_owned()
}

/// The feed at `url` (the public URL's origin replaced by the test server's).
async fn fetch(app: &TestApp, url: &str) -> (StatusCode, String, String) {
    let path = url
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .expect("an API path");
    let response = app
        .client
        .get(app.url(&path))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.text().await.expect("body"))
}

/// Every occurrence in `ics` from 2026 as `(uid, start, end)` in UTC RFC 3339, as Python's
/// iCalendar libraries expand it; `None` when the tools are not installed.
fn expand_with_python(ics: &str) -> Option<Vec<(String, String, String)>> {
    let Ok(python) = std::env::var("SSGWAN_TEST_PYTHON") else {
        eprintln!(
            "skipped: SSGWAN_TEST_PYTHON is not set (scripts/lib.sh ensure_python_tools sets it)"
        );
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, ics).expect("write feed");
    let script = r#"
import datetime, json, sys
import icalendar, recurring_ical_events
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
out = []
for e in recurring_ical_events.of(cal).between(datetime.date(2026, 1, 1), datetime.date(2027, 1, 1)):
    utc = datetime.timezone.utc
    fmt = lambda d: d.astimezone(utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    out.append([str(e['UID']), fmt(e['DTSTART'].dt), fmt(e['DTEND'].dt if 'DTEND' in e else e['DTSTART'].dt + e['DURATION'].dt)])
out.sort()
print(json.dumps(out))
"#;
    let output = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "python failed: {}\n{ics}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<(String, String, String)> =
        serde_json::from_slice(&output.stdout).expect("python prints JSON");
    Some(rows)
}

/// The sessions the domain schedules for a participant who joined at `joined_at`.
fn expected_sessions(
    uid: &str,
    schedule: &Schedule,
    joined_at: &str,
) -> Vec<(String, String, String)> {
    let participant = ParticipantSchedule::new(schedule, joined_at.parse().expect("instant"));
    schedule
        .session_days(schedule.start_date, schedule.end_date)
        .filter(|d| participant.has_session(*d))
        .map(|d| {
            let (start, end) = schedule.session_window(d);
            (uid.to_owned(), start.to_string(), end.to_string())
        })
        .collect()
}

fn schedule(tz: &str, start: &str, end: &str, days: &[&str], from: &str, to: &str) -> Schedule {
    Schedule {
        start_date: start.parse().expect("date"),
        end_date: end.parse().expect("date"),
        days: DaySet::from_names(days).expect("days"),
        session_start: ssgwan_domain::schedule::parse_time_of_day(from).expect("time"),
        session_end: ssgwan_domain::schedule::parse_time_of_day(to).expect("time"),
        timezone: jiff::tz::TimeZone::get(tz).expect("tz"),
        timezone_name: tz.to_owned(),
    }
}

#[tokio::test]
async fn the_feed_has_every_session_of_the_schedule_across_the_clock_change_and_for_a_late_joiner()
{
    let app = spawn_app().await;
    let host = app.login("host").await;
    let late = app.login("late").await;
    // New York changes its clocks on Sunday 2026-03-08: sessions before are EST, after EDT.
    let ny = app
        .create_challenge(
            &host,
            json!({
                "startDate": "2026-03-04", "endDate": "2026-03-27", "timezone": "America/New_York",
                "daysOfWeek": ["MON", "WED", "FRI", "SUN"], "sessionStart": "06:30", "sessionEnd": "07:45",
                "minMinutes": 30, "title": "New York, early; \"quotes\" and a very long title that folds over",
            }),
        )
        .await;
    let seoul = app
        .create_challenge(
            &host,
            json!({ "startDate": "2026-03-09", "endDate": "2026-03-09", "title": "하루 챌린지" }),
        )
        .await;
    // The late joiner comes on Wednesday the 11th at 08:00 EDT: that day's session is over.
    let joined_at = "2026-03-11T12:00:00Z";
    app.set_now(joined_at);
    let (status, body) = app
        .post(
            &format!("/api/challenges/{ny}/participants"),
            Some(&late),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let ny_schedule = schedule(
        "America/New_York",
        "2026-03-04",
        "2026-03-27",
        &["MON", "WED", "FRI", "SUN"],
        "06:30",
        "07:45",
    );
    let seoul_schedule = schedule(
        "Asia/Seoul",
        "2026-03-09",
        "2026-03-09",
        &["MON", "TUE", "WED", "THU", "FRI"],
        "06:00",
        "07:00",
    );
    let ny_uid = format!("challenge-{ny}@localhost");
    let seoul_uid = format!("challenge-{seoul}@localhost");

    // The host: both challenges, every session (they joined at creation).
    let (status, kind, ics) = fetch(&app, &feed_url(&app, &host).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/calendar"), "{kind}");
    assert!(
        ics.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York"),
        "{ics}"
    );
    assert!(ics.contains("TZID:Asia/Seoul"), "{ics}");
    assert!(
        ics.contains(&format!("/challenges/{ny}/live")),
        "the room's address"
    );
    let mut expected = expected_sessions(&ny_uid, &ny_schedule, "2026-03-02T00:00:00Z");
    expected.extend(expected_sessions(
        &seoul_uid,
        &seoul_schedule,
        "2026-03-02T00:00:00Z",
    ));
    expected.sort();
    assert_eq!(expected.len(), 14 + 1);
    assert!(
        expected.contains(&(
            ny_uid.clone(),
            "2026-03-06T11:30:00Z".into(),
            "2026-03-06T12:45:00Z".into()
        )),
        "EST before the change"
    );
    assert!(
        expected.contains(&(
            ny_uid.clone(),
            "2026-03-09T10:30:00Z".into(),
            "2026-03-09T11:45:00Z".into()
        )),
        "EDT after it"
    );
    if let Some(actual) = expand_with_python(&ics) {
        assert_eq!(actual, expected, "{ics}");
    }

    // The late joiner: their sessions start on Friday the 13th.
    let (_, _, ics) = fetch(&app, &feed_url(&app, &late).await).await;
    let expected = expected_sessions(&ny_uid, &ny_schedule, joined_at);
    assert_eq!(expected[0].1, "2026-03-13T10:30:00Z");
    assert_eq!(expected.len(), 9);
    assert!(!ics.contains(&seoul_uid), "not their challenge");
    if let Some(actual) = expand_with_python(&ics) {
        assert_eq!(actual, expected, "{ics}");
    }
}

#[tokio::test]
async fn the_address_is_a_secret_that_a_reset_revokes_and_cancelled_places_vanish() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let guest = app.login("guest").await;
    let id = app.create_challenge(&host, json!({})).await;
    let (status, _) = app
        .post(
            &format!("/api/challenges/{id}/participants"),
            Some(&guest),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let url = feed_url(&app, &guest).await;
    assert_eq!(
        feed_url(&app, &guest).await,
        url,
        "the same address every time"
    );
    assert!(
        url.starts_with("http://localhost:8080/api/calendar/") && url.ends_with(".ics"),
        "{url}"
    );
    let (status, _, ics) = fetch(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    let uid = format!("UID:challenge-{id}@localhost");
    assert!(ics.contains(&uid), "{ics}");
    assert!(ics.contains("SUMMARY:새벽 공부 Morning Study"), "{ics}");

    // An edit before the start keeps the UID and changes the event.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/challenges/{id}"),
            Some(&host),
            Some(json!({ "title": "새 제목" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, ics) = fetch(&app, &url).await;
    assert!(
        ics.contains(&uid) && ics.contains("SUMMARY:새 제목"),
        "{ics}"
    );

    // Giving the place back removes the challenge from the feed.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/challenges/{id}/participants/me"),
            Some(&guest),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, ics) = fetch(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!ics.contains("BEGIN:VEVENT"), "{ics}");

    // A reset: the old address is gone (404 like any unknown one), the new one works.
    let (status, body) = app
        .post("/api/me/calendar/reset", Some(&guest), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["url"].as_str().expect("url").to_owned();
    assert_ne!(fresh, url);
    assert_eq!(feed_url(&app, &guest).await, fresh);
    let path = |u: &str| {
        u.split_once("/api/")
            .map(|(_, p)| format!("/api/{p}"))
            .expect("path")
    };
    assert_error(
        &app.get(&path(&url), None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        None,
    );
    assert_eq!(fetch(&app, &fresh).await.0, StatusCode::OK);
    for unknown in [
        "/api/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/api/calendar/short.ics",
        "/api/calendar/%00%ff.ics",
        "/api/calendar/x",
    ] {
        assert_error(
            &app.get(unknown, None).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            None,
        );
    }
    // The token in the address is not the bare owner: another user's address differs.
    assert_ne!(feed_url(&app, &host).await, fresh);
    assert_error(
        &app.get("/api/me/calendar", None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn one_challenge_downloads_as_a_file_of_its_sessions() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let id = app
        .create_challenge(
            &host,
            json!({ "startDate": "2026-03-09", "endDate": "2026-03-13" }),
        )
        .await;
    let response = app
        .client
        .get(app.url(&format!("/api/challenges/{id}/calendar.ics")))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"ssgwan-challenge-{id}.ics\"")
    );
    let ics = response.text().await.expect("body");
    assert!(
        ics.contains("RRULE:FREQ=WEEKLY;WKST=MO;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260312T210000Z"),
        "{ics}"
    );
    if let Some(actual) = expand_with_python(&ics) {
        assert_eq!(actual.len(), 5, "{actual:?}");
    }
    let missing: (StatusCode, Value) = app.get("/api/challenges/999/calendar.ics", None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "CHALLENGE_NOT_FOUND", None);
}
