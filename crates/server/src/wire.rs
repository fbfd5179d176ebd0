//! The frames of `/api/ws` (see docs/protocol.md). Client frames are parsed strictly so that a
//! malformed one gets a precise error code; server frames are serialized once per delivery.

use std::sync::Arc;

use serde::{Deserialize, Serialize, de::IgnoredAny};
use ssgwan_realtime::Member;
use ssgwan_store::ChatMessage;
use utoipa::ToSchema;

/// Largest text frame we read as a request (bigger ones get `FRAME_TOO_LARGE`)…
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// …except an `rtcAnswer`, whose `sdp` alone may hold
/// [`ssgwan_domain::live::SDP_MAX_BYTES`] (JSON escapes its line breaks).
pub const MAX_ANSWER_FRAME_BYTES: usize = ssgwan_domain::live::SDP_MAX_BYTES + 16 * 1024;

/// A frame from a client.
#[derive(Debug)]
pub enum ClientFrame {
    Join {
        room: i64,
        since: Option<i64>,
    },
    Leave {
        room: i64,
    },
    Chat {
        room: i64,
        body: String,
        client_id: String,
    },
    Media {
        room: i64,
        camera: bool,
        mic: bool,
    },
    /// Start (or start afresh) this tab's media session in the room.
    RtcStart {
        room: i64,
    },
    /// The answer to the server's offer `revision`.
    RtcAnswer {
        room: i64,
        revision: u64,
        sdp: String,
    },
    /// Which members' videos the tab shows now.
    RtcView {
        room: i64,
        tiles: Vec<TileDto>,
    },
    /// An ICE restart.
    RtcRestart {
        room: i64,
    },
    Ping,
}

impl ClientFrame {
    /// The room the frame is about, when it is about one.
    pub fn room(&self) -> Option<i64> {
        match self {
            ClientFrame::Join { room, .. }
            | ClientFrame::Leave { room }
            | ClientFrame::Chat { room, .. }
            | ClientFrame::Media { room, .. }
            | ClientFrame::RtcStart { room }
            | ClientFrame::RtcAnswer { room, .. }
            | ClientFrame::RtcView { room, .. }
            | ClientFrame::RtcRestart { room } => Some(*room),
            ClientFrame::Ping => None,
        }
    }
}

/// One video tile of an `rtcView`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TileDto {
    pub user: i64,
    pub size: TileSizeDto,
}

/// How large a tile is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TileSizeDto {
    Small,
    Large,
}

// One struct per frame type, read after the `type`, so that a bad field is told apart from an
// unknown type.
#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
    room: i64,
    #[serde(default)]
    since: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoomFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
    room: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChatFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
    room: i64,
    body: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RtcAnswerFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
    room: i64,
    revision: u64,
    sdp: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RtcViewFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
    room: i64,
    tiles: Vec<TileDto>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
    room: i64,
    camera: bool,
    mic: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PingFrame {
    #[serde(rename = "type")]
    _type: IgnoredAny,
}

/// Why a frame could not be read.
#[derive(Debug)]
pub struct FrameError {
    pub code: &'static str,
    pub detail: String,
}

/// Parses a client frame, telling bad JSON, a missing or unknown `type` and bad fields apart.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let too_large = || FrameError {
        code: "FRAME_TOO_LARGE",
        detail: format!(
            "frames are at most {MAX_FRAME_BYTES} bytes ({MAX_ANSWER_FRAME_BYTES} for rtcAnswer)"
        ),
    };
    if text.len() > MAX_ANSWER_FRAME_BYTES {
        return Err(too_large());
    }
    if text.len() > MAX_FRAME_BYTES
        && !serde_json::from_str::<Kind<'_>>(text)
            .is_ok_and(|k| k.kind.as_deref() == Some("rtcAnswer"))
    {
        return Err(too_large());
    }
    let kind = match serde_json::from_str::<Kind<'_>>(text) {
        Ok(Kind { kind: Some(kind) }) => kind,
        Ok(Kind { kind: None }) => return Err(missing_type()),
        Err(e) if e.classify() == serde_json::error::Category::Data => return Err(missing_type()),
        Err(e) => {
            return Err(FrameError {
                code: "MALFORMED_JSON",
                detail: e.to_string(),
            });
        }
    };
    let invalid = |e: serde_json::Error| FrameError {
        code: "INVALID_FRAME",
        detail: e.to_string(),
    };
    Ok(match kind.as_ref() {
        "join" => serde_json::from_str::<JoinFrame>(text)
            .map(|f| ClientFrame::Join {
                room: f.room,
                since: f.since,
            })
            .map_err(invalid)?,
        "leave" => serde_json::from_str::<RoomFrame>(text)
            .map(|f| ClientFrame::Leave { room: f.room })
            .map_err(invalid)?,
        "chat" => serde_json::from_str::<ChatFrame>(text)
            .map(|f| ClientFrame::Chat {
                room: f.room,
                body: f.body,
                client_id: f.client_id,
            })
            .map_err(invalid)?,
        "media" => serde_json::from_str::<MediaFrame>(text)
            .map(|f| ClientFrame::Media {
                room: f.room,
                camera: f.camera,
                mic: f.mic,
            })
            .map_err(invalid)?,
        "rtcStart" => serde_json::from_str::<RoomFrame>(text)
            .map(|f| ClientFrame::RtcStart { room: f.room })
            .map_err(invalid)?,
        "rtcAnswer" => serde_json::from_str::<RtcAnswerFrame>(text)
            .map(|f| ClientFrame::RtcAnswer {
                room: f.room,
                revision: f.revision,
                sdp: f.sdp,
            })
            .map_err(invalid)?,
        "rtcView" => serde_json::from_str::<RtcViewFrame>(text)
            .map(|f| ClientFrame::RtcView {
                room: f.room,
                tiles: f.tiles,
            })
            .map_err(invalid)?,
        "rtcRestart" => serde_json::from_str::<RoomFrame>(text)
            .map(|f| ClientFrame::RtcRestart { room: f.room })
            .map_err(invalid)?,
        "ping" => serde_json::from_str::<PingFrame>(text)
            .map(|_| ClientFrame::Ping)
            .map_err(invalid)?,
        other => {
            return Err(FrameError {
                code: "UNKNOWN_TYPE",
                detail: format!("unknown frame type `{other}`"),
            });
        }
    })
}

fn missing_type() -> FrameError {
    FrameError {
        code: "MISSING_TYPE",
        detail: "every frame is a JSON object with a string `type`".into(),
    }
}

/// A chat message as clients see it (also in the HTTP history).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageDto {
    /// Increases within the room.
    pub id: i64,
    pub room: i64,
    pub user_id: i64,
    pub nickname: String,
    /// Empty when `deleted`.
    pub body: String,
    pub created_at: String,
    /// Deleted by a host (the body is gone); absent when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Show the links in `body` as plain text, not clickable: the author had been in the
    /// challenge for less than a day when they wrote it (see docs/moderation.md); absent when
    /// the body has no link or the author is trusted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plain_links: bool,
    /// The author's suspension end (unix ms), for hiding suspended users' messages; not sent.
    #[serde(skip)]
    #[schema(ignore)]
    pub author_suspended_until: Option<i64>,
}

impl From<ChatMessage> for MessageDto {
    fn from(m: ChatMessage) -> Self {
        let plain_links = !m.deleted
            && ssgwan_domain::moderation::has_link(&m.body)
            && m.author_joined_at.is_none_or(|joined| {
                !ssgwan_domain::moderation::links_trusted(joined, m.created_at)
            });
        Self {
            id: m.id,
            room: m.room,
            user_id: m.user_id,
            nickname: m.nickname,
            body: if m.deleted { String::new() } else { m.body },
            plain_links,
            created_at: m.created_at.to_string(),
            deleted: m.deleted,
            author_suspended_until: m.author_suspended_until,
        }
    }
}

/// A notification as clients see it, over HTTP and in `notification` frames.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDto {
    /// Increases with every notification; `POST /api/me/notifications/read {"upTo": id}`.
    pub id: i64,
    /// `SESSION_REMINDER`, `SESSION_ACHIEVED`, `CHALLENGE_COMPLETED`, `CHALLENGE_FAILED`,
    /// `RANK_UP`, `NOTICE_CHANGED` or `NEW_MEMBER`.
    pub kind: String,
    pub challenge_id: Option<i64>,
    /// The kind's details: `challengeTitle`, `minutes`, `startsAt`, `date`, `rank`,
    /// `previousRank`, `nickname` (each only where the kind has it).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// RFC 3339 instant.
    pub created_at: String,
    pub read: bool,
}

impl From<ssgwan_store::NotificationRecord> for NotificationDto {
    fn from(n: ssgwan_store::NotificationRecord) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            challenge_id: n.challenge_id,
            data: serde_json::from_str(&n.data).unwrap_or_else(|_| serde_json::json!({})),
            created_at: n.created_at.to_string(),
            read: n.read_at.is_some(),
        }
    }
}

/// One member's stopped media in a `mediaStops` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaStopDto {
    pub user: i64,
    /// A host stopped their video.
    pub video: bool,
    /// A host stopped their audio.
    pub audio: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerFrame {
    Joined {
        room: i64,
        members: Vec<Member>,
        missed: Vec<MessageDto>,
        truncated: bool,
    },
    Presence {
        room: i64,
        event: &'static str,
        user: Member,
    },
    Chat {
        room: i64,
        message: MessageDto,
        #[serde(rename = "clientId")]
        client_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Attendance {
        room: i64,
        date: String,
        seconds: i64,
        achieved: bool,
        required_seconds: i64,
    },
    /// The user's on-camera time in `room` does not count: it counts in `counting_room`, where
    /// they went on camera first (a user's attendance counts in one room at a time). Sent once
    /// when this room starts being passed over; the next `attendance` frame for the room means
    /// it counts again.
    #[serde(rename_all = "camelCase")]
    AttendanceElsewhere {
        room: i64,
        counting_room: Option<i64>,
    },
    /// The user's all-time standing changed.
    #[serde(rename_all = "camelCase")]
    Ranking {
        period: &'static str,
        rank: u64,
        previous_rank: Option<u64>,
        total_score: i64,
        completed_count: i64,
    },
    /// A new notification for the user (see `GET /api/me/notifications`), with the unread count.
    #[serde(rename_all = "camelCase")]
    Notification {
        notification: NotificationDto,
        unread_count: i64,
    },
    /// This connection was taken out of the room: the user cancelled, the challenge ended or
    /// was deleted.
    Left {
        room: i64,
        reason: ssgwan_realtime::Revocation,
    },
    /// A host deleted a chat message: show it as deleted by the host.
    #[serde(rename_all = "camelCase")]
    ChatDeleted {
        room: i64,
        message_id: i64,
    },
    /// A host locked the room for the session of `date`: no new joins until the next session.
    RoomLocked {
        room: i64,
        date: String,
    },
    /// Whose video or audio a host stopped in the room (all of them; sent after `joined` and
    /// on every change). The media server forwards that media to nobody.
    MediaStops {
        room: i64,
        stops: Vec<MediaStopDto>,
    },
    /// The creator set or cleared the challenge's notice (`notice: null`).
    Notice {
        room: i64,
        notice: Option<String>,
    },
    /// A new offer for this tab's media session: answered with `rtcAnswer` of the same revision.
    RtcOffer {
        room: i64,
        revision: u64,
        sdp: String,
        publish: PublishDto,
        tracks: Vec<TrackDto>,
    },
    /// The media server's verdict on the user's video changed: `verified` means their time on
    /// camera counts now; otherwise `reason` says why not.
    Camera {
        room: i64,
        verified: bool,
        reason: Option<&'static str>,
    },
    /// The server ended this tab's media session (`timeout`, `replaced`, `left`,
    /// `unavailable`).
    RtcClosed {
        room: i64,
        reason: &'static str,
    },
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<i64>,
        /// The refused input field, as in the HTTP error body (`body` of a chat frame).
        #[serde(skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    Pong,
}

/// The m-lines on which the client sends its camera and microphone.
#[derive(Debug, Clone, Serialize)]
pub struct PublishDto {
    pub video: String,
    pub audio: String,
}

/// Which member a receiving m-line carries.
#[derive(Debug, Clone, Serialize)]
pub struct TrackDto {
    pub mid: String,
    pub user: i64,
    /// `video` or `audio`.
    pub kind: &'static str,
}

impl ServerFrame {
    /// The frame as JSON text, shared by every recipient.
    pub fn encode(&self) -> Arc<str> {
        serde_json::to_string(self)
            .map(Arc::from)
            .unwrap_or_else(|_| {
                Arc::from(r#"{"type":"error","code":"INTERNAL","message":"encoding failed"}"#)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_frames_name_the_room_and_carry_null_when_cleared() {
        let set = ServerFrame::Notice {
            room: 4,
            notice: Some("내일은 쉽니다".into()),
        };
        assert_eq!(
            &*set.encode(),
            r#"{"type":"notice","room":4,"notice":"내일은 쉽니다"}"#
        );
        let cleared = ServerFrame::Notice {
            room: 4,
            notice: None,
        };
        assert_eq!(
            &*cleared.encode(),
            r#"{"type":"notice","room":4,"notice":null}"#
        );
    }

    #[test]
    fn frames_parse_and_errors_are_classified() {
        assert!(matches!(
            parse(r#"{"type":"join","room":3}"#),
            Ok(ClientFrame::Join {
                room: 3,
                since: None
            })
        ));
        assert!(matches!(parse(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping)));
        match parse(r#"{"type":"rtcView","room":1,"tiles":[{"user":2,"size":"large"}]}"#) {
            Ok(ClientFrame::RtcView { room: 1, tiles }) => {
                assert_eq!((tiles[0].user, tiles[0].size), (2, TileSizeDto::Large));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(r#"{"type":"rtcAnswer","room":1,"revision":2,"sdp":"v=0\r\n"}"#),
            Ok(ClientFrame::RtcAnswer { revision: 2, .. })
        ));
        for (text, code) in [
            ("{", "MALFORMED_JSON"),
            ("[]", "MISSING_TYPE"),
            (r#"{"room":1}"#, "MISSING_TYPE"),
            (r#"{"type":"dance"}"#, "UNKNOWN_TYPE"),
            (r#"{"type":"join"}"#, "INVALID_FRAME"),
            (r#"{"type":"join","room":"1"}"#, "INVALID_FRAME"),
            (
                r#"{"type":"media","room":1,"camera":true}"#,
                "INVALID_FRAME",
            ),
            (
                r#"{"type":"signal","room":1,"to":2,"data":{}}"#,
                "UNKNOWN_TYPE",
            ),
            (r#"{"type":"rtcStart","room":1,"x":1}"#, "INVALID_FRAME"),
            (r#"{"type":"rtcRestart"}"#, "INVALID_FRAME"),
            (
                r#"{"type":"rtcAnswer","room":1,"revision":-1,"sdp":""}"#,
                "INVALID_FRAME",
            ),
            (
                r#"{"type":"rtcView","room":1,"tiles":[{"user":2,"size":"huge"}]}"#,
                "INVALID_FRAME",
            ),
            (
                r#"{"type":"rtcView","room":1,"tiles":[{"user":2,"size":"small","x":0}]}"#,
                "INVALID_FRAME",
            ),
        ] {
            assert_eq!(
                parse(text).map(|_| ()).map_err(|e| e.code),
                Err(code),
                "{text}"
            );
        }
        assert_eq!(
            parse(&"x".repeat(MAX_FRAME_BYTES + 1))
                .map(|_| ())
                .map_err(|e| e.code),
            Err("FRAME_TOO_LARGE")
        );
    }

    #[test]
    fn only_an_answer_may_be_over_64_kib_and_carry_an_sdp_of_64_kib() {
        // Lines as an SDP has them (JSON escapes each line break in two more bytes).
        let line = "a=rtcp-fb:96 nack pli\\r\\n";
        let sdp = line.repeat(ssgwan_domain::live::SDP_MAX_BYTES / (line.len() - 2));
        let answer = format!(r#"{{"type":"rtcAnswer","room":1,"revision":1,"sdp":"{sdp}"}}"#);
        assert!(answer.len() > MAX_FRAME_BYTES);
        match parse(&answer) {
            Ok(ClientFrame::RtcAnswer { sdp, .. }) => {
                assert!(sdp.len() <= ssgwan_domain::live::SDP_MAX_BYTES);
            }
            other => panic!("{other:?}"),
        }
        let chat = format!(
            r#"{{"type":"chat","room":1,"clientId":"c","body":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(
            parse(&chat).map(|_| ()).map_err(|e| e.code),
            Err("FRAME_TOO_LARGE")
        );
        let huge = format!(
            r#"{{"type":"rtcAnswer","room":1,"revision":1,"sdp":"{}"}}"#,
            "x".repeat(MAX_ANSWER_FRAME_BYTES)
        );
        assert_eq!(
            parse(&huge).map(|_| ()).map_err(|e| e.code),
            Err("FRAME_TOO_LARGE")
        );
    }
}
