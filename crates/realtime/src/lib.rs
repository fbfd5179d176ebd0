//! Live rooms: who is in which room with which camera and microphone state, and delivery of
//! frames to them. Behind the [`Rooms`] trait so that a single node can keep it in memory
//! ([`LocalRooms`]) and several nodes can share it through Redis ([`RedisRooms`]).
//!
//! Frames are JSON text serialized once by the caller and shared (`Arc<str>`) by every
//! recipient. Each connection has a bounded queue; a connection that cannot keep up is flagged
//! (its [`Connection::closing`] token fires) and the gateway closes it, so no client
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

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use self::redis::{
    PresenceEvent, PresenceEvents, RedisBoards, RedisClient, RedisLeases, RedisMailbox,
    RedisOptions, RedisRateLimiter, RedisRooms, RedisRoomsOptions,
};
pub use boards::{LocalBoards, Ranked, RankingBoards};
pub use leases::{
    Leases, LocalLeases, attendance_lease, attendance_owner, attendance_owner_room, camera_lease,
    media_lease,
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

/// Why the server takes a user out of a room, or closes their sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// They cancelled their place in the challenge.
    Cancelled,
    /// The challenge ended and they were settled.
    Ended,
    /// The challenge was deleted.
    Deleted,
    /// Their session was signed out (the connections of that session close).
    SignedOut,
    /// A host removed them from the challenge.
    Removed,
}

/// A control message for the connections in a room: take `user` (everyone, when `None`) out of
/// `room`, or with `session` only the connections signed in with that session. Delivered to
/// each connection's own control queue (not its frame queue), so that the task serving it can
/// update what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Eviction {
    pub room: RoomId,
    pub user: Option<UserId>,
    /// The session (as the server identifies it: its token hash) whose connections are meant.
    pub session: Option<String>,
    pub reason: Revocation,
}

impl Eviction {
    /// Whether this eviction is about `user` (signed in with `session`).
    pub fn concerns(&self, user: UserId, session: &str) -> bool {
        self.user.is_none_or(|u| u == user) && self.session.as_deref().is_none_or(|s| s == session)
    }
}

/// Control messages a connection may have waiting (a flood of them closes it instead).
const CONTROL_QUEUE: usize = 32;

/// The sending side of one WebSocket connection.
///
/// Its queue is bounded twice: by frames (the channel's capacity) and by bytes (the frames
/// queued and not yet taken by the writer). A frame that would go over either bound is dropped
/// and the connection is flagged too slow, so a client that stops reading holds at most its
/// byte budget however large the frames are.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: ConnectionId,
    queue: mpsc::Sender<Arc<str>>,
    closing: CancellationToken,
    close_reason: Arc<OnceLock<CloseReason>>,
    queued: Arc<AtomicUsize>,
    byte_budget: usize,
    controls: mpsc::Sender<Eviction>,
}

/// Why the server closes a connection: a WebSocket close code and its reason text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: &'static str,
}

impl CloseReason {
    /// The client did not read its frames fast enough (1013, "try again later").
    pub const TOO_SLOW: CloseReason = CloseReason {
        code: 1013,
        reason: "too slow: messages were piling up",
    };
}

/// The receiving side of a connection's queue: what the writer drains into the socket.
#[derive(Debug)]
pub struct Outbound {
    receiver: mpsc::Receiver<Arc<str>>,
    queued: Arc<AtomicUsize>,
    controls: Option<mpsc::Receiver<Eviction>>,
}

impl Outbound {
    /// The connection's control queue ([`Eviction`]s), for the task that serves its client;
    /// `None` once taken.
    pub fn take_controls(&mut self) -> Option<mpsc::Receiver<Eviction>> {
        self.controls.take()
    }

    /// The next queued frame; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Arc<str>> {
        let frame = self.receiver.recv().await?;
        self.queued.fetch_sub(frame.len(), Ordering::AcqRel);
        Some(frame)
    }

    /// The next queued frame if there is one now.
    pub fn try_recv(&mut self) -> Result<Arc<str>, mpsc::error::TryRecvError> {
        let frame = self.receiver.try_recv()?;
        self.queued.fetch_sub(frame.len(), Ordering::AcqRel);
        Ok(frame)
    }
}

impl Connection {
    /// A connection with a queue of `capacity` frames and no byte bound; the receiver feeds
    /// the socket.
    pub fn new(id: ConnectionId, capacity: usize) -> (Connection, Outbound) {
        Self::with_byte_budget(id, capacity, usize::MAX)
    }

    /// A connection whose queue holds at most `capacity` frames and `byte_budget` bytes.
    pub fn with_byte_budget(
        id: ConnectionId,
        capacity: usize,
        byte_budget: usize,
    ) -> (Connection, Outbound) {
        let (queue, receiver) = mpsc::channel(capacity);
        let (controls, control_receiver) = mpsc::channel(CONTROL_QUEUE);
        let queued = Arc::new(AtomicUsize::new(0));
        (
            Connection {
                id,
                queue,
                closing: CancellationToken::new(),
                close_reason: Arc::new(OnceLock::new()),
                queued: queued.clone(),
                byte_budget,
                controls,
            },
            Outbound {
                receiver,
                queued,
                controls: Some(control_receiver),
            },
        )
    }

    /// Queues a frame without waiting. A full queue (in frames or bytes) marks the connection
    /// too slow (to be closed) and drops the frame; a closed one just drops it. Returns whether
    /// it was queued.
    pub fn send(&self, frame: Arc<str>) -> bool {
        let len = frame.len();
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before.saturating_add(len) > self.byte_budget {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            self.close(CloseReason::TOO_SLOW);
            return false;
        }
        match self.queue.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.queued.fetch_sub(len, Ordering::AcqRel);
                self.close(CloseReason::TOO_SLOW);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.queued.fetch_sub(len, Ordering::AcqRel);
                false
            }
        }
    }

    /// Hands an eviction to the task serving this connection. One that cannot take it (its
    /// control queue full) is closed instead: it is out either way.
    pub fn evict(&self, eviction: Eviction) {
        match self.controls.try_send(eviction) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.close(CloseReason::TOO_SLOW),
        }
    }

    /// Bytes queued and not yet taken by the writer.
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Asks for the connection to be closed with `reason` (the first reason asked wins).
    pub fn close(&self, reason: CloseReason) {
        let _ = self.close_reason.set(reason);
        self.closing.cancel();
    }

    /// Why the connection is being closed, once [`close`](Self::close) was asked.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason.get().copied()
    }

    /// Fires when the connection must be closed: it fell behind (a full queue), or the server
    /// closes it for another [`CloseReason`].
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
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
    /// Delivers a frame to every connection in the room except those of the users in `except`
    /// (the blocks of a chat message's author, both ways), on every node like
    /// [`Rooms::broadcast`].
    async fn broadcast_except(
        &self,
        room: RoomId,
        frame: Arc<str>,
        except: &[UserId],
    ) -> RealtimeResult<()>;
    /// Delivers a frame to every connection of `user` in `room`; false if they are not in it.
    async fn send_to_user(
        &self,
        room: RoomId,
        user: UserId,
        frame: Arc<str>,
    ) -> RealtimeResult<bool>;
    /// Hands `eviction` to the connections in its room of its user (everyone's, when `None`)
    /// on every node: this node's at once, the others' through the shared store. The
    /// connections here get it even when the other nodes cannot be told (and this returns an
    /// error).
    async fn evict(&self, eviction: Eviction) -> RealtimeResult<()>;
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
