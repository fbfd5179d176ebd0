//! Presence frames: one helper announces a member's join, leave or media change to the rest of
//! the room, and the reporter announces the changes no connection of this node caused (users of
//! a node that died, or re-registered after a Redis outage; the shared rooms report each change
//! on exactly one node).

use std::sync::Arc;

use ssgwan_realtime::{Member, PresenceEvent, PresenceEvents, RoomId, Rooms};

use crate::{tasks::Background, wire::ServerFrame};

/// What happened to a member.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    Join,
    Leave,
    Media,
}

impl Change {
    fn event(self) -> &'static str {
        match self {
            Change::Join => "join",
            Change::Leave => "leave",
            Change::Media => "media",
        }
    }
}

/// Tells everyone in `room` but `member` themselves (in any tab) about the change. Best effort:
/// while Redis is down the others catch up when it returns (see docs/protocol.md).
pub async fn announce(rooms: &dyn Rooms, room: RoomId, change: Change, member: Member) {
    let user = member.info.user_id;
    let frame = ServerFrame::Presence {
        room,
        event: change.event(),
        user: member,
    }
    .encode();
    if let Err(err) = rooms.broadcast(room, frame, Some(user)).await {
        tracing::warn!(error = %err, room, "presence change not delivered");
    }
}

/// Announces the presence changes the shared rooms report for other nodes, until the server
/// stops.
pub fn start_reporter(background: &Background, rooms: Arc<dyn Rooms>, mut events: PresenceEvents) {
    let stop = background.stopping();
    background.spawn("presence", async move {
        loop {
            // Stopped, or the rooms closed the stream.
            let Some(Some(event)) = stop.run_until_cancelled(events.recv()).await else {
                break;
            };
            let (room, change, member) = match event {
                PresenceEvent::Joined { room, member } => (room, Change::Join, member),
                PresenceEvent::Left { room, member } => (room, Change::Leave, member),
                PresenceEvent::Changed { room, member } => (room, Change::Media, member),
            };
            if room < 0 {
                // A personal channel (see crate::delivery): nobody else is in it.
                continue;
            }
            tracing::info!(
                room,
                user = member.info.user_id,
                event = change.event(),
                "presence changed on another node"
            );
            announce(&*rooms, room, change, member).await;
        }
    });
}
