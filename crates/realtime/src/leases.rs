//! Leases: a named right that one owner holds at a time for a limited time, renewed by its
//! holder and taken over by someone else once it lapses or is released. In process
//! ([`LocalLeases`]) or in Redis ([`RedisLeases`](crate::RedisLeases)).
//!
//! The use they were made for is on-camera time across nodes: a user with a tab on camera on
//! two nodes must be counted once. Each node's attendance tracker calls
//! [`Leases::claim_camera`] for every (room, user) it sees on camera, every tick, with its node
//! id; only the node that holds the lease accrues time, the others only keep their clocks
//! moving. When the owner's camera goes off it [`release`](Leases::release)s the lease; when the
//! owner dies the lease lapses after its `ttl`, and the next node to claim it takes over. At most
//! one `ttl` of time can go uncounted at a hand-over, and none is counted twice.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use crate::{RealtimeResult, RoomId, UserId};

/// The name of the lease on `user`'s on-camera time in `room`.
pub fn camera_lease(room: RoomId, user: UserId) -> String {
    format!("camera:{room}:{user}")
}

/// The lease on hosting `room`'s media: its holder (a node id) runs the room's media server
/// session; the other nodes route their tabs' signaling to it.
pub fn media_lease(room: RoomId) -> String {
    format!("media:{room}")
}

/// The lease on counting `user`'s attendance at all: held by the one room (on one node) where
/// their on-camera time counts, so time in a second room at the same time counts nowhere.
/// Its holder is [`attendance_owner`].
pub fn attendance_lease(user: UserId) -> String {
    format!("attendance:{user}")
}

/// The holder of an [`attendance_lease`]: `room` on `node`.
pub fn attendance_owner(node: &str, room: RoomId) -> String {
    format!("{node}/{room}")
}

/// The room of an [`attendance_owner`] (`None` when it is not one).
pub fn attendance_owner_room(owner: &str) -> Option<RoomId> {
    owner.rsplit_once('/')?.1.parse().ok()
}

/// Named leases with one holder at a time.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes lease `name` for `owner` for `ttl` when it is free or lapsed, or renews it for
    /// another `ttl` when `owner` already holds it. Returns whether `owner` holds it now.
    async fn claim(&self, name: &str, owner: &str, ttl: Duration) -> RealtimeResult<bool>;
    /// Gives lease `name` up if `owner` holds it; returns whether it did.
    async fn release(&self, name: &str, owner: &str) -> RealtimeResult<bool>;
    /// Who holds lease `name` now.
    async fn holder(&self, name: &str) -> RealtimeResult<Option<String>>;

    /// [`claim`](Self::claim) on the camera lease of (`room`, `user`) for node `node`: true when
    /// `node` is the one that accrues the user's on-camera time.
    async fn claim_camera(
        &self,
        room: RoomId,
        user: UserId,
        node: &str,
        ttl: Duration,
    ) -> RealtimeResult<bool> {
        self.claim(&camera_lease(room, user), node, ttl).await
    }
}

/// Leases in this process's memory (a single node: every claim by the one node succeeds).
#[derive(Debug, Default)]
pub struct LocalLeases {
    leases: Mutex<HashMap<String, (String, Instant)>>,
}

impl LocalLeases {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the leases that have not lapsed (lapsed ones are dropped first: the one
    /// named `name`, and all of them once there are many).
    fn with<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut HashMap<String, (String, Instant)>) -> R,
    ) -> R {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if leases.len() > 10_000 {
            leases.retain(|_, (_, until)| *until > now);
        } else if leases.get(name).is_some_and(|(_, until)| *until <= now) {
            leases.remove(name);
        }
        f(&mut leases)
    }
}

#[async_trait]
impl Leases for LocalLeases {
    async fn claim(&self, name: &str, owner: &str, ttl: Duration) -> RealtimeResult<bool> {
        Ok(self.with(name, |leases| match leases.get_mut(name) {
            Some((holder, until)) if holder == owner => {
                *until = Instant::now() + ttl;
                true
            }
            Some(_) => false,
            None => {
                leases.insert(name.to_owned(), (owner.to_owned(), Instant::now() + ttl));
                true
            }
        }))
    }

    async fn release(&self, name: &str, owner: &str) -> RealtimeResult<bool> {
        Ok(self.with(name, |leases| {
            if leases.get(name).is_some_and(|(holder, _)| holder == owner) {
                leases.remove(name);
                true
            } else {
                false
            }
        }))
    }

    async fn holder(&self, name: &str) -> RealtimeResult<Option<String>> {
        Ok(self.with(name, |leases| {
            leases.get(name).map(|(holder, _)| holder.clone())
        }))
    }
}
