//! What the unit tests of several modules build on.

use crate::{ChallengeDraft, ChallengeSpec};

/// A valid challenge: five places, sessions 06:00–07:00 on Monday, Wednesday and Friday from
/// 2026-03-09 to 2026-03-15, attended after 30 minutes on camera.
pub(crate) fn spec() -> ChallengeSpec {
    ChallengeDraft {
        title: Some("t".into()),
        category: Some("STUDY".into()),
        capacity: Some(5),
        start_date: Some("2026-03-09".into()),
        end_date: Some("2026-03-15".into()),
        days_of_week: Some(vec!["MON".into(), "WED".into(), "FRI".into()]),
        session_start: Some("06:00".into()),
        session_end: Some("07:00".into()),
        min_minutes: Some(30),
        ..Default::default()
    }
    .validate("2026-03-01T00:00:00Z".parse().expect("ts"))
    .expect("valid")
}
