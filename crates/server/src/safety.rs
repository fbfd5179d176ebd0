//! Moderation's refusals, each with its own code, status and words (see docs/moderation.md).

use jiff::Timestamp;
use ssgwan_domain::moderation::HostRefusal;

use crate::i18n::Lang;

/// Refusals of moderation, each with its own code (see docs/moderation.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafetyError {
    Host(HostRefusal),
    /// No such message in this room.
    MessageNotFound,
    /// The room is locked for this session: no new joins.
    RoomLocked,
    /// Operators only.
    OperatorOnly,
    /// The account is suspended until then (`None`: for good).
    AccountSuspended {
        until: Option<Timestamp>,
    },
    /// The reporter cannot see what they report (not in that room, or no such thing).
    ReportNotAllowed,
    /// No such report.
    ReportNotFound,
}

impl SafetyError {
    /// One of every kind the server sends (the error registry reads them).
    pub const EXAMPLES: [SafetyError; 10] = [
        SafetyError::Host(HostRefusal::NotHost),
        SafetyError::Host(HostRefusal::SelfTarget),
        SafetyError::Host(HostRefusal::NotMember),
        SafetyError::Host(HostRefusal::TargetIsHost),
        SafetyError::MessageNotFound,
        SafetyError::RoomLocked,
        SafetyError::ReportNotAllowed,
        SafetyError::OperatorOnly,
        SafetyError::AccountSuspended { until: None },
        SafetyError::ReportNotFound,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SafetyError::Host(HostRefusal::NotHost) => "NOT_HOST",
            SafetyError::Host(HostRefusal::SelfTarget) => "SELF_TARGET",
            SafetyError::Host(HostRefusal::NotMember) => "NOT_ROOM_MEMBER",
            SafetyError::Host(HostRefusal::TargetIsHost) => "TARGET_IS_HOST",
            SafetyError::MessageNotFound => "MESSAGE_NOT_FOUND",
            SafetyError::RoomLocked => "ROOM_LOCKED",
            SafetyError::OperatorOnly => "OPERATOR_ONLY",
            SafetyError::AccountSuspended { .. } => "ACCOUNT_SUSPENDED",
            SafetyError::ReportNotAllowed => "REPORT_NOT_ALLOWED",
            SafetyError::ReportNotFound => "REPORT_NOT_FOUND",
        }
    }

    /// The HTTP status: 404 for what does not exist, 403 for everything else.
    pub fn status(self) -> u16 {
        match self {
            SafetyError::MessageNotFound | SafetyError::ReportNotFound => 404,
            _ => 403,
        }
    }

    pub fn message(self, lang: Lang) -> String {
        let fixed = |ko: &'static str, en: &'static str| lang.pick(ko, en).to_owned();
        match self {
            SafetyError::Host(HostRefusal::NotHost) => fixed(
                "호스트(개설자 또는 공동 호스트)만 할 수 있습니다.",
                "Only a host (the creator or a co-host) can do that.",
            ),
            SafetyError::Host(HostRefusal::SelfTarget) => fixed(
                "자기 자신에게는 할 수 없습니다.",
                "You cannot do that to yourself.",
            ),
            SafetyError::Host(HostRefusal::NotMember) => fixed(
                "이 챌린지의 참여자가 아닙니다.",
                "That user is not a member of this challenge.",
            ),
            SafetyError::Host(HostRefusal::TargetIsHost) => fixed(
                "호스트에게는 할 수 없습니다. 공동 호스트라면 개설자가 먼저 해제해야 합니다.",
                "Not on a host; the creator must first remove a co-host's role.",
            ),
            SafetyError::MessageNotFound => fixed(
                "메시지를 찾을 수 없습니다.",
                "No such message in this room.",
            ),
            SafetyError::RoomLocked => fixed(
                "호스트가 이번 세션의 방을 잠갔습니다. 다음 세션에 들어올 수 있어요.",
                "A host locked the room for this session; you can join the next one.",
            ),
            SafetyError::OperatorOnly => {
                fixed("운영자만 할 수 있습니다.", "Only operators can do that.")
            }
            SafetyError::AccountSuspended { until: None } => fixed(
                "운영 정책 위반으로 계정이 영구 정지되었습니다.",
                "Your account is suspended for good for breaking the community rules.",
            ),
            SafetyError::AccountSuspended { until: Some(end) } => match lang {
                Lang::Ko => format!("운영 정책 위반으로 계정이 {end}까지 정지되었습니다."),
                Lang::En => format!(
                    "Your account is suspended until {end} for breaking the community rules."
                ),
            },
            SafetyError::ReportNotAllowed => fixed(
                "볼 수 있는 사용자, 메시지, 챌린지만 신고할 수 있습니다.",
                "You can only report users, messages and challenges you can see.",
            ),
            SafetyError::ReportNotFound => fixed("신고를 찾을 수 없습니다.", "No such report."),
        }
    }
}
