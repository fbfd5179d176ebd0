//! Tags and notices on a challenge, and the popularity order.

use jiff::Timestamp;
use ssgwan_domain::{
    ChallengeDraft, Reason,
    challenge::{notice, popularity},
};

fn draft(tags: Option<&[&str]>) -> ChallengeDraft {
    ChallengeDraft {
        title: Some("Morning Run".into()),
        description: Some("매일 달리기".into()),
        category: Some("WORKOUT".into()),
        capacity: Some(10),
        start_date: Some("2026-03-09".into()),
        end_date: Some("2026-03-20".into()),
        session_start: Some("06:00".into()),
        session_end: Some("07:00".into()),
        min_minutes: Some(30),
        tags: tags.map(|t| t.iter().map(|s| (*s).to_owned()).collect()),
        ..Default::default()
    }
}

fn now() -> Timestamp {
    "2026-03-02T00:00:00Z".parse().expect("timestamp")
}

#[test]
fn tags_are_validated_with_the_challenge_and_default_to_none() {
    assert!(draft(None).validate(now()).expect("valid").tags.is_empty());
    let spec = draft(Some(&["#러닝", "Morning", "건강"]))
        .validate(now())
        .expect("valid");
    assert_eq!(spec.tags, vec!["러닝", "Morning", "건강"]);
    let err = draft(Some(&["run", "RUN"]))
        .validate(now())
        .expect_err("duplicate");
    assert_eq!((err.field, err.reason), ("tags", Reason::Duplicate));
    let err = draft(Some(&["a", "b", "c", "d", "e", "f"]))
        .validate(now())
        .expect_err("too many");
    assert_eq!(err.reason, Reason::TooMany { max: 5 });
}

#[test]
fn tags_survive_the_draft_round_trip_and_an_edit_replaces_them() {
    let spec = draft(Some(&["a", "b"])).validate(now()).expect("valid");
    assert_eq!(spec.to_draft().validate(now()).expect("valid"), spec);
    let untouched = spec
        .to_draft()
        .overlay(ChallengeDraft {
            title: Some("new".into()),
            ..Default::default()
        })
        .validate(now())
        .expect("valid");
    assert_eq!(untouched.tags, vec!["a", "b"], "absent tags stay");
    let replaced = spec
        .to_draft()
        .overlay(ChallengeDraft {
            tags: Some(Vec::new()),
            ..Default::default()
        })
        .validate(now())
        .expect("valid");
    assert!(replaced.tags.is_empty(), "an empty list clears them");
}

#[test]
fn search_text_covers_title_description_and_hashed_tags() {
    let spec = draft(Some(&["English", "영어"]))
        .validate(now())
        .expect("valid");
    let text = spec.search_text();
    for needle in ["morning run", "달리기", "#english", "english", "#영어"] {
        assert!(text.contains(needle), "{needle} in {text:?}");
    }
}

#[test]
fn notices_are_trimmed_multi_line_and_blank_clears() {
    assert_eq!(notice(None), Ok(None));
    assert_eq!(notice(Some("   ")), Ok(None));
    assert_eq!(notice(Some("")), Ok(None));
    assert_eq!(
        notice(Some(" 내일은 쉽니다.\n화이팅! ")),
        Ok(Some("내일은 쉽니다.\n화이팅!".to_owned()))
    );
    assert_eq!(
        notice(Some(&"가".repeat(1000))),
        Ok(Some("가".repeat(1000)))
    );
    let err = notice(Some(&"가".repeat(1001))).expect_err("too long");
    assert_eq!(
        (err.field, err.reason),
        ("notice", Reason::Length { min: 0, max: 1000 })
    );
    assert!(notice(Some("bell\u{7}")).is_err());
}

#[test]
fn a_participant_weighs_two_wishes() {
    assert_eq!(popularity(0, 0), 0);
    assert_eq!(popularity(3, 1), 7);
    assert!(popularity(2, 0) == popularity(1, 2));
    assert!(popularity(2, 1) > popularity(1, 2));
}
