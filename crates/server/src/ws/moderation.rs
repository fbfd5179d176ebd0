//! Moderation at the socket: a locked room refuses new joins (`ROOM_LOCKED`), and what a
//! connection is shown leaves out the users its user blocked or was blocked by, and suspended
//! users (see `crate::moderation`).

use ssgwan_domain::moderation::HostAction;
use ssgwan_realtime::RoomId;
use ssgwan_store::ChallengeRecord;

use super::{error::SocketResult, session::Session};
use crate::{
    moderation::{self, SafetyError},
    wire::MessageDto,
};

impl Session {
    /// Before `join` of `room`: refused with `ROOM_LOCKED` when a host locked today's session,
    /// unless the user is a host or already in the room (on any tab, any node: those inside
    /// stay, and may open another tab).
    pub(super) async fn admit(&self, room: RoomId, challenge: &ChallengeRecord) -> SocketResult {
        if !moderation::room_locked(&self.state, challenge).await? {
            return Ok(());
        }
        let host =
            moderation::check_host(&self.state, challenge, HostAction::Room, self.user.id, None)
                .await
                .is_ok();
        if host || self.state.rooms.is_member(room, self.user.id).await? {
            return Ok(());
        }
        Err(crate::error::AppError::from(SafetyError::RoomLocked).into())
    }

    /// Drops from `messages` what this user must not see: blocked users' (both ways) and
    /// suspended users'.
    pub(super) async fn visible(&self, messages: &mut Vec<MessageDto>) -> SocketResult {
        if messages.is_empty() {
            return Ok(());
        }
        let hidden = self.state.store.block_peers(self.user.id).await?;
        let now = self.state.now();
        messages.retain(|m| moderation::shown(m, &hidden, now));
        Ok(())
    }
}
