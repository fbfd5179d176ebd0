//! Live rooms: who is in which room with which camera and microphone state, and delivery of
//! frames to them. Behind the [`Rooms`] trait so that a single node can keep it in memory
//! ([`LocalRooms`]) and several nodes can share it through Redis ([`RedisRooms`]).
//!
//! Frames are JSON text serialized once by the caller and shared (`Arc<str>`) by every
//! recipient. Each connection has a bounded queue; a connection that cannot keep up is flagged
//! (its [`Connection::closed_for_slowness`] token fires) and the gateway closes it, so no client
//! is ever buffered without limit.
//!
//! The same crate holds the other state several nodes must share: the ranking boards
//! ([`RankingBoards`]), rate limits ([`RateLimiter`]) and leases ([`Leases`], for example which
//! node accrues a user's on-camera time). Each has an in-process implementation and a Redis one;
//! the Redis ones return [`RealtimeError::Unavailable`] within their timeout when Redis is down
//! and recover by themselves when it is back. The key layout is in docs/architecture.md.

pub mod boards;
pub mod leases;
pub mod limits;
mod local;
pub mod redis;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use self::redis::{
    PresenceEvent, PresenceEvents, RedisBoards, RedisClient, RedisLeases, RedisOptions,
    RedisRateLimiter, RedisRooms, RedisRoomsOptions,
};
pub use boards::{LocalBoards, Ranked, RankingBoards};
pub use leases::{
    Leases, LocalLeases, attendance_lease, attendance_owner, attendance_owner_room, camera_lease,
};
pub use limits::{LocalRateLimiter, RateDecision, RateLimiter};
pub use local::LocalRooms;

/// Why an operation on shared real-time state failed. The in-process implementations never fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealtimeError {
    /// The shared store (Redis) did not answer in time or refused the connection. Retrying later
    /// may succeed: the Redis implementations reconnect by themselves.
    #[error("the shared real-time store is unavailable: {0}")]
    Unavailable(String),
    /// The shared store answered something this code cannot read (another version's data, a
    /// script error).
    #[error("unexpected answer from the shared real-time store: {0}")]
    Unexpected(String),
    /// A value is outside what the shared store can hold exactly (see `RedisBoards`).
    #[error("value out of range: {0}")]
    OutOfRange(String),
    /// The configuration cannot work (a malformed Redis URL).
    #[error("invalid real-time configuration: {0}")]
    Config(String),
}

pub type RealtimeResult<T> = Result<T, RealtimeError>;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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

/// Room membership, presence and delivery. "Tabs" are connections on every node: a user's
/// first tab, last tab and media union count all of them.
///
/// Every method can fail with [`RealtimeError::Unavailable`] when the rooms are shared through
/// a store that is down; the in-process implementation never fails.
#[async_trait]
pub trait Rooms: Send + Sync + 'static {
    /// Adds a connection of `member` to `room` with `media`. On error the connection is not in
    /// the room.
    async fn join(
        &self,
        room: RoomId,
        member: MemberInfo,
        connection: Connection,
        media: Media,
    ) -> RealtimeResult<Joined>;
    /// Removes a connection; `Some(true)` when it was the user's last tab in the room, `None`
    /// when the connection was not in it. The connection stops receiving the room's frames even
    /// when this returns an error (the shared presence is then repaired when the store is back).
    async fn leave(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
    ) -> RealtimeResult<Option<bool>>;
    /// Sets one tab's media; returns the member when their combined state changed.
    async fn set_media(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
        media: Media,
    ) -> RealtimeResult<Option<Member>>;
    /// Delivers a frame to every connection in the room, except those of `except`. Connections
    /// on this node get it even when delivery to other nodes fails (and this returns an error).
    async fn broadcast(
        &self,
        room: RoomId,
        frame: Arc<str>,
        except: Option<UserId>,
    ) -> RealtimeResult<()>;
    /// Delivers a frame to every connection of `user` in `room`; false if they are not in it.
    async fn send_to_user(
        &self,
        room: RoomId,
        user: UserId,
        frame: Arc<str>,
    ) -> RealtimeResult<bool>;
    /// Whether `user` is in `room` (on any tab).
    async fn is_member(&self, room: RoomId, user: UserId) -> RealtimeResult<bool>;
    /// Everyone in the room now, by user id.
    async fn members(&self, room: RoomId) -> RealtimeResult<Vec<Member>>;
    /// Whether the shared store answers (for readiness checks); always fine in process.
    async fn ping(&self) -> RealtimeResult<()> {
        Ok(())
    }
    /// Whether `user` has a tab on THIS node in `room` with the camera on (other nodes'
    /// tabs do not count: each node accrues attendance for its own tabs, and a camera lease
    /// decides which node counts a user on camera on several).
    fn camera_on_here(&self, room: RoomId, user: UserId) -> bool;
    /// This node's id, unique among the nodes sharing the rooms.
    fn node_id(&self) -> &str;
    /// The node is stopping: let the other nodes drop its users at once rather than after the
    /// node TTL. Nothing to do in process.
    async fn shutdown(&self) -> RealtimeResult<()> {
        Ok(())
    }
}
