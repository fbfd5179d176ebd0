//! The in-process implementation of [`Rooms`](crate::Rooms) for a single node.

use std::{collections::HashMap, sync::Arc, sync::Mutex};

use async_trait::async_trait;

use crate::{
    Connection, ConnectionId, Eviction, Joined, Media, Member, MemberInfo, RealtimeResult, RoomId,
    Rooms, UserId,
};

#[derive(Debug)]
struct Presence {
    info: MemberInfo,
    tabs: HashMap<ConnectionId, (Connection, Media)>,
}

impl Presence {
    fn member(&self) -> Member {
        let camera = self.tabs.values().any(|(_, m)| m.camera);
        let mic = self.tabs.values().any(|(_, m)| m.mic);
        Member {
            info: self.info.clone(),
            camera,
            mic,
        }
    }
}

/// Rooms held in this process's memory.
#[derive(Debug, Default)]
pub struct LocalRooms {
    rooms: Mutex<HashMap<RoomId, HashMap<UserId, Presence>>>,
}

impl LocalRooms {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<RoomId, HashMap<UserId, Presence>>) -> R) -> R {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rooms)
    }

    /// Connections to deliver to, collected under the lock and sent to after releasing it.
    fn targets(&self, room: RoomId, pick: impl Fn(UserId) -> bool) -> Vec<Connection> {
        self.with(|rooms| {
            rooms
                .get(&room)
                .map(|members| {
                    members
                        .iter()
                        .filter(|(user, _)| pick(**user))
                        .flat_map(|(_, p)| p.tabs.values().map(|(c, _)| c.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

/// One tab as [`LocalRooms::tabs_in`] lists it.
#[derive(Debug, Clone)]
pub(crate) struct Tab {
    pub info: MemberInfo,
    pub connection: ConnectionId,
    pub media: Media,
}

impl LocalRooms {
    /// Every tab in `room`, for re-registering this node's presence elsewhere.
    pub(crate) fn tabs_in(&self, room: RoomId) -> Vec<Tab> {
        self.with(|rooms| {
            rooms
                .get(&room)
                .map(|members| {
                    members
                        .values()
                        .flat_map(|p| {
                            p.tabs.iter().map(|(id, (_, media))| Tab {
                                info: p.info.clone(),
                                connection: *id,
                                media: *media,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// The rooms this process has connections in.
    pub(crate) fn room_ids(&self) -> Vec<RoomId> {
        self.with(|rooms| rooms.keys().copied().collect())
    }

    /// Who `user` is in `room`, when they have a connection here.
    pub(crate) fn info(&self, room: RoomId, user: UserId) -> Option<MemberInfo> {
        self.with(|rooms| rooms.get(&room)?.get(&user).map(|p| p.info.clone()))
    }

    /// Whether `user` has a connection of this process in `room` with the camera on.
    pub fn camera_on_here(&self, room: RoomId, user: UserId) -> bool {
        self.with(|rooms| {
            rooms
                .get(&room)
                .and_then(|m| m.get(&user))
                .is_some_and(|p| p.tabs.values().any(|(_, media)| media.camera))
        })
    }

    /// Whether any connection of this process is in `room`.
    pub(crate) fn has_room(&self, room: RoomId) -> bool {
        self.with(|rooms| rooms.contains_key(&room))
    }

    /// Whether `connection` of `user` is in `room`.
    pub(crate) fn has_tab(&self, room: RoomId, user: UserId, connection: ConnectionId) -> bool {
        self.with(|rooms| {
            rooms
                .get(&room)
                .and_then(|m| m.get(&user))
                .is_some_and(|p| p.tabs.contains_key(&connection))
        })
    }

    /// Delivers to this process's connections in `room` except `except`'s.
    pub(crate) fn deliver(&self, room: RoomId, frame: &Arc<str>, except: Option<UserId>) {
        for connection in self.targets(room, |user| Some(user) != except) {
            connection.send(frame.clone());
        }
    }

    /// Delivers to this process's connections in `room` except those of `except`.
    pub(crate) fn deliver_except(&self, room: RoomId, frame: &Arc<str>, except: &[UserId]) {
        for connection in self.targets(room, |user| !except.contains(&user)) {
            connection.send(frame.clone());
        }
    }

    /// Hands `eviction` to this process's connections it concerns.
    pub(crate) fn evict_here(&self, eviction: &Eviction) {
        let targets = self.targets(eviction.room, |u| eviction.user.is_none_or(|e| e == u));
        for connection in targets {
            connection.evict(eviction.clone());
        }
    }

    /// Delivers to this process's connections of `user` in `room`; false when there are none.
    pub(crate) fn deliver_to(&self, room: RoomId, user: UserId, frame: &Arc<str>) -> bool {
        let targets = self.targets(room, |u| u == user);
        for connection in &targets {
            connection.send(frame.clone());
        }
        !targets.is_empty()
    }
}

fn sorted(members: &HashMap<UserId, Presence>) -> Vec<Member> {
    let mut list: Vec<Member> = members.values().map(Presence::member).collect();
    list.sort_by_key(|m| m.info.user_id);
    list
}

#[async_trait]
impl Rooms for LocalRooms {
    fn camera_on_here(&self, room: RoomId, user: UserId) -> bool {
        LocalRooms::camera_on_here(self, room, user)
    }

    fn node_id(&self) -> &str {
        "local"
    }

    async fn join(
        &self,
        room: RoomId,
        member: MemberInfo,
        connection: Connection,
        media: Media,
    ) -> RealtimeResult<Joined> {
        Ok(self.with(|rooms| {
            let members = rooms.entry(room).or_default();
            let user = member.user_id;
            let first_tab = !members.contains_key(&user);
            let presence = members.entry(user).or_insert_with(|| Presence {
                info: member.clone(),
                tabs: HashMap::new(),
            });
            presence.info = member;
            presence.tabs.insert(connection.id, (connection, media));
            Joined {
                first_tab,
                members: sorted(members),
            }
        }))
    }

    async fn leave(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
    ) -> RealtimeResult<Option<bool>> {
        Ok(self.with(|rooms| {
            let members = rooms.get_mut(&room)?;
            let presence = members.get_mut(&user)?;
            presence.tabs.remove(&connection)?;
            let last = presence.tabs.is_empty();
            if last {
                members.remove(&user);
                if members.is_empty() {
                    rooms.remove(&room);
                }
            }
            Some(last)
        }))
    }

    async fn set_media(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
        media: Media,
    ) -> RealtimeResult<Option<Member>> {
        Ok(self.with(|rooms| {
            let presence = rooms.get_mut(&room)?.get_mut(&user)?;
            let before = presence.member();
            presence.tabs.get_mut(&connection)?.1 = media;
            let after = presence.member();
            (after != before).then_some(after)
        }))
    }

    async fn broadcast(
        &self,
        room: RoomId,
        frame: Arc<str>,
        except: Option<UserId>,
    ) -> RealtimeResult<()> {
        self.deliver(room, &frame, except);
        Ok(())
    }

    async fn broadcast_except(
        &self,
        room: RoomId,
        frame: Arc<str>,
        except: &[UserId],
    ) -> RealtimeResult<()> {
        self.deliver_except(room, &frame, except);
        Ok(())
    }

    async fn send_to_user(
        &self,
        room: RoomId,
        user: UserId,
        frame: Arc<str>,
    ) -> RealtimeResult<bool> {
        Ok(self.deliver_to(room, user, &frame))
    }

    async fn evict(&self, eviction: Eviction) -> RealtimeResult<()> {
        self.evict_here(&eviction);
        Ok(())
    }

    async fn is_member(&self, room: RoomId, user: UserId) -> RealtimeResult<bool> {
        Ok(self.with(|rooms| rooms.get(&room).is_some_and(|m| m.contains_key(&user))))
    }

    async fn members(&self, room: RoomId) -> RealtimeResult<Vec<Member>> {
        Ok(self.with(|rooms| rooms.get(&room).map(sorted).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: UserId) -> MemberInfo {
        MemberInfo {
            user_id: id,
            nickname: format!("u{id}"),
            profile_image: None,
        }
    }

    #[tokio::test]
    async fn a_full_queue_flags_the_connection_as_slow() {
        let rooms = LocalRooms::new();
        let (slow, _never_read) = Connection::new(1, 2);
        let token = slow.closing();
        rooms
            .join(1, info(1), slow, Media::default())
            .await
            .expect("in process");
        for _ in 0..3 {
            rooms
                .broadcast(1, Arc::from("{}"), None)
                .await
                .expect("in process");
        }
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn a_queue_over_its_byte_budget_flags_the_connection_as_slow() {
        let (connection, mut outbound) = Connection::with_byte_budget(1, 100, 10);
        let token = connection.closing();
        assert!(connection.send(Arc::from("12345")));
        assert!(connection.send(Arc::from("6789")));
        assert_eq!(connection.queued_bytes(), 9);
        // Taking a frame frees its bytes.
        assert_eq!(outbound.try_recv().as_deref().ok(), Some("12345"));
        assert_eq!(connection.queued_bytes(), 4);
        assert!(connection.send(Arc::from("abcdef")));
        assert!(!token.is_cancelled());
        assert!(!connection.send(Arc::from("x")), "11 bytes are over 10");
        assert!(token.is_cancelled());
        assert_eq!(connection.queued_bytes(), 10);
    }
}
