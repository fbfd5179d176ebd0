//! The errors a socket reports in `error` frames: one enum, each variant with its stable code
//! and a message in the connection's language (negotiated at the upgrade).

use ssgwan_realtime::RealtimeError;

use crate::{error::AppError, i18n::Lang, wire::FrameError};

#[derive(Debug)]
pub enum SocketError {
    /// The frame could not be read (`FRAME_TOO_LARGE`, `MALFORMED_JSON`, `MISSING_TYPE`,
    /// `UNKNOWN_TYPE`, `INVALID_FRAME`).
    Frame(FrameError),
    /// A binary frame: the protocol is JSON text.
    UnsupportedFrame,
    /// A room frame for a room this connection has not joined.
    NotInRoom,
    /// `join` or `chat` by someone who holds no active place in the challenge (`FORBIDDEN`).
    NotActiveParticipant,
    /// The connection spent its frame budget (`TOO_MANY_FRAMES`).
    TooManyFrames,
    /// `rtcAnswer`, `rtcView` or `rtcRestart` without a media session in the room.
    RtcNotStarted,
    /// The media server could not apply an answer (unparsable or not matching the offer).
    RtcBadAnswer(String),
    /// An answer to an offer older than the latest one.
    RtcStaleRevision,
    /// This node runs no media server (`--media off`).
    MediaUnavailable,
    /// What the HTTP API would answer (validation, limits, not found, outages).
    App(AppError),
}

impl SocketError {
    pub fn code(&self) -> &'static str {
        match self {
            SocketError::Frame(err) => err.code,
            SocketError::UnsupportedFrame => "UNSUPPORTED_FRAME",
            SocketError::NotInRoom => "NOT_IN_ROOM",
            SocketError::NotActiveParticipant => AppError::Forbidden.code(),
            SocketError::TooManyFrames => "TOO_MANY_FRAMES",
            SocketError::RtcNotStarted => "RTC_NOT_STARTED",
            SocketError::RtcBadAnswer(_) => "RTC_BAD_ANSWER",
            SocketError::RtcStaleRevision => "RTC_STALE_REVISION",
            SocketError::MediaUnavailable => "MEDIA_UNAVAILABLE",
            SocketError::App(err) => err.code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SocketError::Frame(err), Lang::Ko) => {
                format!("프레임을 읽을 수 없습니다: {}", err.detail)
            }
            (SocketError::Frame(err), Lang::En) => err.detail.clone(),
            (SocketError::UnsupportedFrame, Lang::Ko) => "프레임은 JSON 텍스트여야 합니다.".into(),
            (SocketError::UnsupportedFrame, Lang::En) => "frames are JSON text".into(),
            (SocketError::NotInRoom, Lang::Ko) => "먼저 방에 입장해 주세요.".into(),
            (SocketError::NotInRoom, Lang::En) => "join the room first".into(),
            (SocketError::NotActiveParticipant, Lang::Ko) => {
                "이 방은 참여 중인 참가자만 이용할 수 있습니다.".into()
            }
            (SocketError::NotActiveParticipant, Lang::En) => {
                "only active participants may use this room".into()
            }
            (SocketError::TooManyFrames, Lang::Ko) => {
                "요청을 너무 빨리 보내고 있습니다. 잠시 후 다시 시도해 주세요.".into()
            }
            (SocketError::TooManyFrames, Lang::En) => {
                "too many frames: slow down and try again in a moment".into()
            }
            (SocketError::RtcNotStarted, Lang::Ko) => {
                "먼저 영상 연결을 시작해 주세요 (rtcStart).".into()
            }
            (SocketError::RtcNotStarted, Lang::En) => {
                "start the media session first (rtcStart)".into()
            }
            (SocketError::RtcBadAnswer(detail), Lang::Ko) => {
                format!("영상 연결 응답을 적용할 수 없습니다: {detail}")
            }
            (SocketError::RtcBadAnswer(detail), Lang::En) => {
                format!("the answer could not be applied: {detail}")
            }
            (SocketError::RtcStaleRevision, Lang::Ko) => {
                "이전 제안에 대한 응답입니다. 새 제안에 응답해 주세요.".into()
            }
            (SocketError::RtcStaleRevision, Lang::En) => {
                "this answers an older offer: answer the newest one".into()
            }
            (SocketError::MediaUnavailable, Lang::Ko) => {
                "이 서버에서는 지금 영상 연결을 할 수 없습니다.".into()
            }
            (SocketError::MediaUnavailable, Lang::En) => {
                "live video is not available on this server".into()
            }
            (SocketError::App(err), lang) => err.message(lang),
        }
    }

    /// The refused input field, for validation failures (as the HTTP error body has it).
    pub fn field(&self) -> Option<String> {
        match self {
            SocketError::App(err) => err.field(),
            _ => None,
        }
    }

    /// Every socket-only code, for the error registry (the `App` codes are `AppError`'s).
    pub const CODES: &'static [&'static str] = &[
        "FRAME_TOO_LARGE",
        "MALFORMED_JSON",
        "MISSING_TYPE",
        "UNKNOWN_TYPE",
        "INVALID_FRAME",
        "UNSUPPORTED_FRAME",
        "NOT_IN_ROOM",
        "TOO_MANY_FRAMES",
        "RTC_NOT_STARTED",
        "RTC_BAD_ANSWER",
        "RTC_STALE_REVISION",
        "MEDIA_UNAVAILABLE",
    ];
}

impl From<AppError> for SocketError {
    fn from(err: AppError) -> Self {
        SocketError::App(err)
    }
}

impl From<ssgwan_store::StoreError> for SocketError {
    fn from(err: ssgwan_store::StoreError) -> Self {
        SocketError::App(err.into())
    }
}

impl From<RealtimeError> for SocketError {
    /// A shared-store failure: `SERVICE_UNAVAILABLE` while Redis is down (the client retries),
    /// `INTERNAL` for anything else.
    fn from(err: RealtimeError) -> Self {
        tracing::warn!(error = %err, "real-time operation failed");
        SocketError::App(err.into())
    }
}

impl From<FrameError> for SocketError {
    fn from(err: FrameError) -> Self {
        SocketError::Frame(err)
    }
}

/// A socket error about a room (or about no room).
pub type SocketResult<T = ()> = Result<T, SocketError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_connection_language() {
        let err = SocketError::NotInRoom;
        assert_eq!(err.code(), "NOT_IN_ROOM");
        assert_eq!(err.message(Lang::En), "join the room first");
        assert_ne!(err.message(Lang::Ko), err.message(Lang::En));
        let app = SocketError::App(AppError::RateLimited);
        assert_eq!(app.code(), "RATE_LIMITED");
        assert_eq!(
            app.message(Lang::En),
            AppError::RateLimited.message(Lang::En)
        );
    }
}
