//! Delivery to a user's open sockets, for frames that are not about one room (rank changes).

use std::{collections::HashMap, sync::Arc};

use ssgwan_realtime::{Connection, Media, MemberInfo, RoomId};
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
