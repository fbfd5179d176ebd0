//! Live rooms: who is in which room with which camera and microphone state, and delivery of
//! frames to them. Behind the [`Rooms`] trait so that a single node can keep it in memory
//! ([`LocalRooms`]) and several nodes can share it through Redis.
//!
//! Frames are JSON text serialized once by the caller and shared (`Arc<str>`) by every
//! recipient. Each connection has a bounded queue; a connection that cannot keep up is flagged
//! (its [`Connection::closed_for_slowness`] token fires) and the gateway closes it, so no client
//! is ever buffered without limit.

mod local;
pub mod ranking;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use local::LocalRooms;
pub use ranking::{LocalBoards, Ranked, RankingBoards};

pub type RoomId = i64;
pub type UserId = i64;
pub type ConnectionId = u64;

/// Camera and microphone state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Media {
    pub camera: bool,
    pub mic: bool,
}

/// Who a member is, as the room shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub user_id: UserId,
    pub nickname: String,
    pub profile_image: Option<String>,
}

/// A member of a room: one user, however many tabs. Media is the union over their tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    #[serde(flatten)]
    pub info: MemberInfo,
    pub camera: bool,
    pub mic: bool,
}

/// The sending side of one WebSocket connection.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: ConnectionId,
    queue: mpsc::Sender<Arc<str>>,
    slow: CancellationToken,
}

impl Connection {
    /// A connection with a queue of `capacity` frames; the receiver feeds the socket.
    pub fn new(id: ConnectionId, capacity: usize) -> (Connection, mpsc::Receiver<Arc<str>>) {
        let (queue, receiver) = mpsc::channel(capacity);
        (
            Connection {
                id,
                queue,
                slow: CancellationToken::new(),
            },
            receiver,
        )
    }

    /// Queues a frame without waiting. A full queue marks the connection too slow (to be
    /// closed) and drops the frame; a closed one just drops it. Returns whether it was queued.
    pub fn send(&self, frame: Arc<str>) -> bool {
        match self.queue.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.cancel();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Fires when the connection fell behind and must be closed.
    pub fn closed_for_slowness(&self) -> CancellationToken {
        self.slow.clone()
    }
}

/// What joining a room changed.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The user was not in the room before (their first tab): others should hear of it.
    pub first_tab: bool,
    /// Everyone in the room now, the joiner included.
    pub members: Vec<Member>,
}

/// Room membership, presence and delivery.
#[async_trait]
pub trait Rooms: Send + Sync + 'static {
    /// Adds a connection of `member` to `room` with `media`.
    async fn join(
        &self,
        room: RoomId,
        member: MemberInfo,
        connection: Connection,
        media: Media,
    ) -> Joined;
    /// Removes a connection; `Some(true)` when it was the user's last tab in the room.
    async fn leave(&self, room: RoomId, user: UserId, connection: ConnectionId) -> Option<bool>;
    /// Sets one tab's media; returns the member when their combined state changed.
    async fn set_media(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
        media: Media,
    ) -> Option<Member>;
    /// Delivers a frame to every connection in the room, except those of `except`.
    async fn broadcast(&self, room: RoomId, frame: Arc<str>, except: Option<UserId>);
    /// Delivers a frame to every connection of `user` in `room`; false if they are not in it.
    async fn send_to_user(&self, room: RoomId, user: UserId, frame: Arc<str>) -> bool;
    /// Whether `user` is in `room` (on any tab).
    async fn is_member(&self, room: RoomId, user: UserId) -> bool;
    /// Everyone in the room now.
    async fn members(&self, room: RoomId) -> Vec<Member>;
}
