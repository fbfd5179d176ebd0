//! Keeping rooms safe: who may act as a host, on whom, what may be reported and why, and the
//! limits on new accounts. Pure rules; the store and the edge apply them.

use jiff::{SignedDuration, Timestamp};

use crate::{Invalid, Reason};

/// Co-hosts a creator may appoint per challenge.
pub const MAX_COHOSTS: usize = 3;
/// Longest free text of a report, and of an operator's reason.
pub const MAX_DETAIL_CHARS: usize = 1_000;
/// Members who joined less recently than this see chat links as links (the server marks
/// messages of members who joined more recently; the web app renders them as plain text).
pub const LINK_TRUST_AGE: SignedDuration = SignedDuration::from_hours(24);
/// Accounts younger than this count as new (their daily challenge limit is the lower one).
pub const NEW_ACCOUNT_AGE: SignedDuration = SignedDuration::from_hours(24);

/// Someone's part in a challenge, for host actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Creator,
    Cohost,
    Member,
    /// Holds no place (or never did): a stranger to the room.
    Outsider,
}

impl Role {
    pub fn is_host(self) -> bool {
        matches!(self, Role::Creator | Role::Cohost)
    }
}

/// A host action refused; each has its own code at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRefusal {
    /// The actor is neither the creator nor a co-host (or, for appointing co-hosts, not the
    /// creator).
    NotHost,
    /// The action is aimed at the actor themselves.
    SelfTarget,
    /// The target holds no place in this challenge.
    NotMember,
    /// The target is the creator or a co-host (a co-host is demoted by the creator first).
    TargetIsHost,
}

/// What a host action needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAction {
    /// Remove a member (creator or co-host; not on a host).
    Remove,
    /// Stop or allow again a member's video or audio in the room (creator or co-host; not on
    /// a host).
    StopMedia,
    /// Appoint or demote a co-host (creator only; the target must be a member).
    Appoint,
    Demote,
    /// Delete a message or lock the room (creator or co-host; no target).
    Room,
}

/// Why `actor` (with role `actor_role`) may not do `action` to `target` (with `target_role`).
/// `target_already_done` says the action already took effect (a removed member, a demoted
/// co-host): an idempotent repeat is allowed however the target's role reads now.
pub fn host_refusal(
    action: HostAction,
    actor: i64,
    actor_role: Role,
    target: Option<(i64, Role)>,
    target_already_done: bool,
) -> Option<HostRefusal> {
    let creator_only = matches!(action, HostAction::Appoint | HostAction::Demote);
    if (creator_only && actor_role != Role::Creator) || !actor_role.is_host() {
        return Some(HostRefusal::NotHost);
    }
    let (target, target_role) = target?;
    if target == actor {
        return Some(HostRefusal::SelfTarget);
    }
    if target_already_done {
        return None;
    }
    match action {
        HostAction::Remove | HostAction::StopMedia if target_role.is_host() => {
            Some(HostRefusal::TargetIsHost)
        }
        HostAction::Appoint if target_role == Role::Creator => Some(HostRefusal::TargetIsHost),
        HostAction::Demote if target_role != Role::Cohost => Some(HostRefusal::NotMember),
        _ if target_role == Role::Outsider => Some(HostRefusal::NotMember),
        _ => None,
    }
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    User,
    Message,
    Challenge,
}

impl TargetType {
    pub const ALL: [TargetType; 3] = [TargetType::User, TargetType::Message, TargetType::Challenge];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::User => "user",
            TargetType::Message => "message",
            TargetType::Challenge => "challenge",
        }
    }

    pub fn parse(value: &str) -> Option<TargetType> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// Why something is reported: a fixed list (the web app shows it in Korean and English).
pub const REPORT_REASONS: [&str; 6] = [
    "harassment",
    "sexual",
    "violence",
    "spam",
    "impersonation",
    "other",
];

/// The report's reason and detail, checked: the reason one of [`REPORT_REASONS`], the detail
/// (trimmed) at most [`MAX_DETAIL_CHARS`] characters.
pub fn report_input(reason: &str, detail: Option<&str>) -> Result<(&'static str, String), Invalid> {
    let reason = REPORT_REASONS
        .into_iter()
        .find(|r| *r == reason)
        .ok_or(Invalid::new(
            "reason",
            Reason::Format {
                expected: "harassment|sexual|violence|spam|impersonation|other",
            },
        ))?;
    Ok((reason, free_text("detail", detail.unwrap_or(""), 0)?))
}

/// Free text of at most [`MAX_DETAIL_CHARS`] characters and at least `min`, trimmed, without
/// control characters other than line breaks.
pub fn free_text(field: &'static str, text: &str, min: usize) -> Result<String, Invalid> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < min || chars > MAX_DETAIL_CHARS {
        return Err(Invalid::new(
            field,
            Reason::Length {
                min,
                max: MAX_DETAIL_CHARS,
            },
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Invalid::new(
            field,
            Reason::Format {
                expected: "text without control characters",
            },
        ));
    }
    Ok(text.to_owned())
}

/// What an operator does with a report (or a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorAction {
    Dismiss,
    Warn,
    Suspend,
    DeleteChallenge,
}

impl OperatorAction {
    pub const ALL: [OperatorAction; 4] = [
        OperatorAction::Dismiss,
        OperatorAction::Warn,
        OperatorAction::Suspend,
        OperatorAction::DeleteChallenge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperatorAction::Dismiss => "dismiss",
            OperatorAction::Warn => "warn",
            OperatorAction::Suspend => "suspend",
            OperatorAction::DeleteChallenge => "deleteChallenge",
        }
    }

    pub fn parse(value: &str) -> Option<OperatorAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// Longest suspension for a period, in days (longer is for good).
pub const MAX_SUSPENSION_DAYS: i64 = 3_650;

/// When a suspension of `days` from `now` ends; `None` (for good) when `days` is `None`.
pub fn suspension_end(now: Timestamp, days: Option<i64>) -> Result<Option<Timestamp>, Invalid> {
    let Some(days) = days else {
        return Ok(None);
    };
    if !(1..=MAX_SUSPENSION_DAYS).contains(&days) {
        return Err(Invalid::new(
            "days",
            Reason::Range {
                min: 1,
                max: MAX_SUSPENSION_DAYS,
            },
        ));
    }
    Ok(Some(now + SignedDuration::from_hours(days * 24)))
}

/// Whether a suspension ending at `until` (`None`: for good) is in force at `now`.
pub fn suspended(until: Option<Option<Timestamp>>, now: Timestamp) -> bool {
    match until {
        None => false,
        Some(None) => true,
        Some(Some(end)) => now < end,
    }
}

/// Whether a member who joined at `joined_at` has been in the challenge long enough for their
/// chat links to be shown as links.
pub fn links_trusted(joined_at: Timestamp, now: Timestamp) -> bool {
    now.duration_since(joined_at) >= LINK_TRUST_AGE
}

/// Whether chat text holds something a client would make a link of (a URL or a `www.` host).
pub fn has_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("://") || lower.contains("www.")
}

/// The daily challenge limit of an account created at `created_at` (0: no limit): `new_limit`
/// while the account is younger than [`NEW_ACCOUNT_AGE`] (when that is set and lower), else
/// `limit`. With no general limit there is no new-account limit either.
pub fn daily_challenge_limit(
    created_at: Timestamp,
    now: Timestamp,
    limit: u32,
    new_limit: u32,
) -> u32 {
    let young = now.duration_since(created_at) < NEW_ACCOUNT_AGE;
    if young && new_limit > 0 && limit > 0 && new_limit < limit {
        new_limit
    } else {
        limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_act_on_members_only() {
        use HostAction::*;
        use Role::*;
        let t = |role| Some((2, role));
        assert_eq!(
            host_refusal(Remove, 1, Member, t(Member), false),
            Some(HostRefusal::NotHost)
        );
        assert_eq!(
            host_refusal(Remove, 1, Creator, Some((1, Creator)), false),
            Some(HostRefusal::SelfTarget)
        );
        assert_eq!(
            host_refusal(Remove, 1, Cohost, t(Creator), false),
            Some(HostRefusal::TargetIsHost)
        );
        assert_eq!(
            host_refusal(Remove, 1, Creator, t(Cohost), false),
            Some(HostRefusal::TargetIsHost)
        );
        assert_eq!(
            host_refusal(Remove, 1, Creator, t(Outsider), false),
            Some(HostRefusal::NotMember)
        );
        assert_eq!(host_refusal(Remove, 1, Creator, t(Outsider), true), None);
        assert_eq!(host_refusal(Remove, 1, Cohost, t(Member), false), None);
        assert_eq!(
            host_refusal(Appoint, 1, Cohost, t(Member), false),
            Some(HostRefusal::NotHost)
        );
        assert_eq!(host_refusal(Appoint, 1, Creator, t(Member), false), None);
        assert_eq!(
            host_refusal(Appoint, 1, Creator, t(Outsider), false),
            Some(HostRefusal::NotMember)
        );
        assert_eq!(host_refusal(Demote, 1, Creator, t(Member), true), None);
        assert_eq!(
            host_refusal(Room, 1, Outsider, None, false),
            Some(HostRefusal::NotHost)
        );
        assert_eq!(host_refusal(Room, 1, Cohost, None, false), None);
    }

    #[test]
    fn reports_take_a_listed_reason_and_short_detail() {
        assert_eq!(report_input("spam", None), Ok(("spam", String::new())));
        assert_eq!(
            report_input("Spam", None).map_err(|e| e.field),
            Err("reason")
        );
        let long = "가".repeat(MAX_DETAIL_CHARS + 1);
        assert_eq!(
            report_input("other", Some(&long)).map_err(|e| e.field),
            Err("detail")
        );
        assert!(report_input("other", Some(&"가".repeat(MAX_DETAIL_CHARS))).is_ok());
    }

    #[test]
    fn suspensions_end_or_last() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().expect("instant");
        let end = suspension_end(now, Some(7))
            .expect("valid")
            .expect("an end");
        assert!(suspended(Some(Some(end)), now));
        assert!(!suspended(Some(Some(end)), end));
        assert!(suspended(Some(None), end));
        assert!(!suspended(None, now));
        assert!(suspension_end(now, Some(0)).is_err());
        assert_eq!(suspension_end(now, None), Ok(None));
    }

    #[test]
    fn new_accounts_get_the_lower_limit() {
        let now: Timestamp = "2026-01-02T00:00:00Z".parse().expect("instant");
        let day_old = now - SignedDuration::from_hours(24);
        let hour_old = now - SignedDuration::from_hours(1);
        assert_eq!(daily_challenge_limit(hour_old, now, 10, 2), 2);
        assert_eq!(daily_challenge_limit(day_old, now, 10, 2), 10);
        assert_eq!(daily_challenge_limit(hour_old, now, 10, 0), 10);
        assert_eq!(daily_challenge_limit(hour_old, now, 0, 2), 0);
        assert_eq!(daily_challenge_limit(hour_old, now, 1, 2), 1);
        assert!(links_trusted(day_old, now));
        assert!(!links_trusted(hour_old, now));
    }
}
