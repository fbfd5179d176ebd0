//! What the media server tells the server crate about one peer, and the small value types of the
//! API.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::UserId;

/// Where the events of one peer go. Called from the media tasks: it must not block (queue the
/// event, e.g. into the socket's outgoing channel).
pub trait PeerSink: Send + Sync + 'static {
    /// Hands one event over.
    fn deliver(&self, event: PeerEvent);
}

/// An event for one peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PeerEvent {
    /// A new offer for the peer (the client answers it with the same revision).
    Offer(Offer),
    /// The verdict on this peer's published video changed (and once at open: NoVideo).
    Verdict(Verdict),
    /// The media server ended this session.
    Closed(CloseReason),
    /// An answer was not applied.
    Refused(Refusal),
}

/// A server-made offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Increases per session: 1, 2, ...
    pub revision: u64,
    /// The offer SDP.
    pub sdp: String,
    /// The two m-lines on which the client sends its camera and microphone.
    pub publish: PublishMids,
    /// Which member each receiving m-line carries; a receiving m-line not listed is inactive.
    pub tracks: Vec<TrackInfo>,
}

/// The mids of the client's sending m-lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishMids {
    /// The camera (VP8).
    pub video: String,
    /// The microphone (Opus).
    pub audio: String,
}

/// One receiving m-line of the client and whose media it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackInfo {
    /// The m-line's mid.
    pub mid: String,
    /// The member whose media it carries.
    pub user: UserId,
    /// Video or audio.
    pub kind: TrackKind,
}

/// The kind of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TrackKind {
    /// VP8 video.
    Video,
    /// Opus audio.
    Audio,
}

/// One video tile the client shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tile {
    /// The member shown.
    pub user: UserId,
    /// How large it is shown (kept for layer selection, issue 14; one layer is forwarded now).
    pub size: TileSize,
}

/// The size of a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TileSize {
    /// A grid tile.
    Small,
    /// A spotlighted tile.
    Large,
}

/// The media server's verdict on a publisher's video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True while the video counts as a live camera.
    pub verified: bool,
    /// Why not, when not verified (`None` when verified).
    pub reason: Option<Unverified>,
    /// Frames per second over the window.
    pub fps: f64,
    /// Mean payload bytes per frame over the window.
    pub bytes_per_frame: u32,
    /// The width of the last VP8 keyframe seen.
    pub width: Option<u16>,
    /// The height of the last VP8 keyframe seen.
    pub height: Option<u16>,
}

/// Why a publisher's video is not verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unverified {
    /// No video reaches the server (not started, not connected, camera off).
    NoVideo,
    /// Under the minimum frames per second.
    LowFrameRate,
    /// Frames too small to be a live camera (a disabled track, a black or still picture).
    TinyFrames,
    /// Video stopped arriving for longer than the grace.
    Stalled,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    /// ICE/DTLS failed, or nothing arrived for 30 s.
    Timeout,
    /// A newer `open` for the same peer id.
    Replaced,
    /// The user left the room or was removed.
    Left,
    /// The media server is shutting down.
    Unavailable,
    /// The room's media moved to another node (this node gave up the room, or its owner is
    /// gone): start a new session, which goes to the room's current owner.
    Moved,
}

/// Why an answer was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The answer is for an older offer than the latest one.
    StaleRevision,
    /// The SDP did not parse or does not match the offer.
    BadAnswer(String),
    /// There is no session for this peer in this room.
    NotStarted,
}

/// What a room's hosts and members decided about forwarding: whose video or audio goes to
/// nobody, and which pairs of members get nothing of each other. The media server enforces it
/// on every packet it forwards (and leaves the tracks out of the offers), whatever the clients
/// do. The publisher's own media still reaches the server and is still metered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPolicy {
    /// Members whose video a host stopped.
    pub video_stopped: BTreeSet<UserId>,
    /// Members whose audio a host stopped.
    pub audio_stopped: BTreeSet<UserId>,
    /// Pairs of members who blocked one another (either way), smaller id first.
    pub blocked: BTreeSet<(UserId, UserId)>,
}

impl RoomPolicy {
    /// Adds a block between `a` and `b` (either direction).
    pub fn block(&mut self, a: UserId, b: UserId) {
        self.blocked.insert((a.min(b), a.max(b)));
    }

    /// Whether `from`'s track of `kind` may be forwarded to `to`.
    pub fn forwards(&self, from: UserId, to: UserId, kind: TrackKind) -> bool {
        let stopped = match kind {
            TrackKind::Video => &self.video_stopped,
            TrackKind::Audio => &self.audio_stopped,
        };
        !stopped.contains(&from) && !self.blocked.contains(&(from.min(to), from.max(to)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_stops_one_kind_and_blocks_both_ways() {
        let mut policy = RoomPolicy::default();
        assert!(policy.forwards(1, 2, TrackKind::Video));
        policy.video_stopped.insert(1);
        assert!(!policy.forwards(1, 2, TrackKind::Video));
        assert!(policy.forwards(1, 2, TrackKind::Audio));
        assert!(policy.forwards(2, 1, TrackKind::Video));
        policy.block(3, 2);
        for kind in [TrackKind::Video, TrackKind::Audio] {
            assert!(!policy.forwards(2, 3, kind));
            assert!(!policy.forwards(3, 2, kind));
            assert!(policy.forwards(3, 4, kind));
        }
    }
}
