//! Delivery to a user's open sockets, for frames that are not about one room (rank changes),
//! and keeping the sockets' authorization current: when a user's place in a challenge ends
//! (cancelled, settled, deleted) their sockets leave its room, and when a session is signed
//! out its sockets close, on every node.

use std::{collections::HashMap, sync::Arc};

use ssgwan_realtime::{Connection, Eviction, Media, MemberInfo, Revocation, RoomId, Rooms};
use ssgwan_store::User;

/// Every open connection of each user, for frames that are not about a room (rank changes).
///
/// On one node a map of this node's connections. With rooms shared by several nodes, each
/// connection also sits in its user's personal channel — room id `-user`, which no client can
/// join (room ids are positive challenge ids) — so a frame reaches the user's tabs on every node.
#[derive(Default)]
pub struct UserSockets {
    sockets: std::sync::Mutex<HashMap<i64, Vec<Connection>>>,
    shared: Option<Arc<dyn ssgwan_realtime::Rooms>>,
}

/// The personal channel of `user` in the shared rooms.
fn personal_room(user: i64) -> RoomId {
    -user
}

impl UserSockets {
    /// Sockets delivered through `rooms` across nodes (with Redis), or only here (`None`).
    pub fn new(shared: Option<Arc<dyn ssgwan_realtime::Rooms>>) -> Self {
        Self {
            sockets: Default::default(),
            shared,
        }
    }

    pub async fn add(&self, user: &User, connection: Connection) {
        if let Some(rooms) = &self.shared {
            let info = MemberInfo {
                user_id: user.id,
                nickname: user.nickname.clone(),
                profile_image: user.profile_image.clone(),
            };
            if let Err(err) = rooms
                .join(
                    personal_room(user.id),
                    info,
                    connection.clone(),
                    Media::default(),
                )
                .await
            {
                tracing::warn!(error = %err, "personal channel not joined; rank changes stay local");
            }
        }
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(user.id)
            .or_default()
            .push(connection);
    }

    pub async fn remove(&self, user: i64, id: u64) {
        if let Some(rooms) = &self.shared {
            let _ = rooms.leave(personal_room(user), user, id).await;
        }
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = sockets.get_mut(&user) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                sockets.remove(&user);
            }
        }
    }

    /// Sends to every connection of `user` (on every node when shared); false when they have
    /// none on this node.
    pub fn send(&self, user: i64, frame: Arc<str>) -> bool {
        if let Some(rooms) = &self.shared {
            let rooms = rooms.clone();
            let local = self
                .sockets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&user);
            tokio::spawn(async move {
                if let Err(err) = rooms.send_to_user(personal_room(user), user, frame).await {
                    tracing::warn!(error = %err, user, "frame for a user not delivered");
                }
            });
            return local;
        }
        let targets: Vec<Connection> = self
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            .cloned()
            .unwrap_or_default();
        for connection in &targets {
            connection.send(frame.clone());
        }
        !targets.is_empty()
    }
}

impl UserSockets {
    /// Closes the sockets opened with session `token_hash` of `user`, on every node (4401).
    pub async fn sign_out(&self, user: i64, token_hash: &str) {
        self.close_sessions(user, Some(token_hash.to_owned())).await;
    }

    /// Closes every socket of `user`, whatever session opened it, on every node (4401: a
    /// suspension).
    pub async fn sign_out_everywhere(&self, user: i64) {
        self.close_sessions(user, None).await;
    }

    async fn close_sessions(&self, user: i64, session: Option<String>) {
        let eviction = Eviction {
            room: personal_room(user),
            user: Some(user),
            session,
            reason: Revocation::SignedOut,
        };
        if let Some(rooms) = &self.shared {
            // Every socket of the user sits in their personal channel, on every node.
            revoke(&**rooms, eviction).await;
            return;
        }
        let targets: Vec<Connection> = self
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            .cloned()
            .unwrap_or_default();
        for connection in targets {
            connection.evict(eviction.clone());
        }
    }
}

/// Takes `user` (everyone, when `None`) out of `room` on every node, telling their sockets
/// why. Best effort across nodes: while Redis is down only this node's sockets are told, and a
/// chat message from the others is still refused (the chat re-checks the membership).
///
/// A user's media sessions in the room on this node end at once (`media`), before their
/// sockets have handled the eviction; every socket also ends its own when it does.
pub async fn revoke_room(
    rooms: &dyn Rooms,
    media: &crate::media_router::MediaRouter,
    room: RoomId,
    user: Option<i64>,
    reason: Revocation,
) {
    if let Some(user) = user {
        media.remove_user(room, user);
    }
    let eviction = Eviction {
        room,
        user,
        session: None,
        reason,
    };
    revoke(rooms, eviction).await;
}

async fn revoke(rooms: &dyn Rooms, eviction: Eviction) {
    if let Err(err) = rooms.evict(eviction.clone()).await {
        tracing::warn!(error = %err, ?eviction, "eviction not delivered to the other nodes");
    }
}

/// Takes settled participants out of their challenge's room, until the server stops (the
/// node that settles them tells every node).
pub fn start_settled_evictions(
    background: &crate::tasks::Background,
    rooms: Arc<dyn Rooms>,
    media: crate::media_router::MediaRouter,
    mut events: tokio::sync::broadcast::Receiver<crate::events::DomainEvent>,
) {
    let stop = background.stopping();
    background.spawn("settled evictions", async move {
        loop {
            let event = match stop.run_until_cancelled(events.recv()).await {
                None | Some(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
                Some(Err(tokio::sync::broadcast::error::RecvError::Lagged(missed))) => {
                    tracing::warn!(missed, "settled evictions lagged behind the events");
                    continue;
                }
                Some(Ok(event)) => event,
            };
            if let crate::events::DomainEvent::ChallengeSettled {
                challenge_id,
                user_id,
                ..
            } = event
            {
                revoke_room(
                    &*rooms,
                    &media,
                    challenge_id,
                    Some(user_id),
                    Revocation::Ended,
                )
                .await;
            }
        }
    });
}
