//! Nodes, tabs and frames for the `RedisRooms` tests: nodes on a throwaway Redis with a short
//! heartbeat, and waits for what a tab or a node receives.

use std::{sync::Arc, time::Duration};

use ssgwan_realtime::{
    Connection, Media, MemberInfo, Outbound, PresenceEvent, PresenceEvents, RedisRooms,
    RedisRoomsOptions, Rooms, UserId,
};

use super::{RedisServer, eventually};

pub const HEARTBEAT: Duration = Duration::from_millis(100);
pub const NODE_TTL: Duration = Duration::from_millis(600);
/// The node TTL of nodes that the others take for dead only late.
pub const SLOW_NODE_TTL: Duration = Duration::from_secs(5);

/// A node named `name` on `server`, once its pub/sub connection is up.
pub async fn node(server: &RedisServer, name: &str) -> Node {
    node_with_ttl(server, name, NODE_TTL).await
}

/// One node and its presence events.
pub type Node = (RedisRooms, PresenceEvents);

/// A throwaway Redis with nodes "a" and "b" up on it (`node_ttl` long), or `None` when the
/// Redis tests are skipped.
pub async fn two_nodes(node_ttl: Duration) -> Option<(RedisServer, Node, Node)> {
    let server = RedisServer::start()?;
    let a = node_with_ttl(&server, "a", node_ttl).await;
    let b = node_with_ttl(&server, "b", node_ttl).await;
    Some((server, a, b))
}

pub async fn node_with_ttl(server: &RedisServer, name: &str, node_ttl: Duration) -> Node {
    let (rooms, events) = RedisRooms::start(
        server.client("rooms"),
        RedisRoomsOptions {
            node_id: Some(name.into()),
            heartbeat: HEARTBEAT,
            node_ttl,
        },
    );
    ready(&rooms).await;
    (rooms, events)
}

pub fn info(user: UserId) -> MemberInfo {
    MemberInfo {
        user_id: user,
        nickname: format!("user{user}"),
        profile_image: None,
    }
}

pub const CAMERA: Media = Media {
    camera: true,
    mic: false,
};
pub const OFF: Media = Media {
    camera: false,
    mic: false,
};

/// A tab: connection `id` of `user`, with the receiving end of its queue.
pub fn tab(id: u64) -> (Connection, Outbound) {
    Connection::new(id, 64)
}

pub async fn users(rooms: &impl Rooms, room: i64) -> Vec<UserId> {
    rooms
        .members(room)
        .await
        .expect("members")
        .into_iter()
        .map(|m| m.info.user_id)
        .collect()
}

/// The next frame a tab receives within a second.
pub async fn next_frame(receiver: &mut Outbound) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(1), receiver.recv())
        .await
        .ok()
        .flatten()
        .map(|f| f.to_string())
}

/// Whether nothing reached `user`'s tab `receiver` in `room` before a marker that node `from`
/// (not the tab's) sends them now. The marker goes through Redis, which runs every publish in
/// order, and the tab's node delivers the messages of its subscription in order: a frame
/// published earlier that was going to reach the tab would have come first.
pub async fn nothing_came_before_a_marker(
    from: &RedisRooms,
    room: i64,
    user: UserId,
    receiver: &mut Outbound,
) -> bool {
    let sent = from
        .send_to_user(room, user, Arc::from("marker"))
        .await
        .expect("send");
    sent && next_frame(receiver).await.as_deref() == Some("marker")
}

/// No frame arrives for a while: for one node alone, where nothing can come after what must
/// not arrive to mark its end.
pub async fn quiet(receiver: &mut Outbound) -> bool {
    tokio::time::sleep(Duration::from_millis(150)).await;
    receiver.try_recv().is_err()
}

pub async fn next_event(events: &mut PresenceEvents, within: Duration) -> Option<PresenceEvent> {
    tokio::time::timeout(within, events.recv())
        .await
        .ok()
        .flatten()
}

/// Waits until the node's pub/sub connection is up.
async fn ready(rooms: &RedisRooms) {
    assert!(
        eventually(Duration::from_secs(5), || async {
            rooms.ping().await.is_ok()
        })
        .await,
        "node did not come up"
    );
}
