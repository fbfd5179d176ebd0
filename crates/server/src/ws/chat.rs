//! Chat over the socket: a message is checked, limited per user, stored under the room's next
//! number, and only then delivered to everyone in the room (the sender's tabs included). A
//! repeated `clientId` is confirmed to the sending tab without being stored again.

use ssgwan_domain::{Invalid, Reason, chat};
use ssgwan_realtime::RoomId;
use ssgwan_store::ParticipantStatus;

use super::{
    error::{SocketError, SocketResult},
    session::Session,
};
use crate::{error::AppError, wire::ServerFrame};

/// Longest `clientId` a tab may choose.
const CLIENT_ID_MAX: usize = 64;

impl Session {
    pub(super) async fn chat(&self, room: RoomId, body: &str, client_id: String) -> SocketResult {
        self.joined(room)?;
        let body = chat::message_body(body).map_err(AppError::Invalid)?;
        if client_id.is_empty()
            || client_id.len() > CLIENT_ID_MAX
            || client_id.chars().any(char::is_control)
        {
            return Err(AppError::Invalid(Invalid::new(
                "clientId",
                Reason::Length {
                    min: 1,
                    max: CLIENT_ID_MAX,
                },
            ))
            .into());
        }
        if let Some(limiter) = &self.state.chat_limiter {
            match limiter.check(&self.user.id.to_string()).await {
                Ok(decision) if !decision.is_allowed() => {
                    return Err(SocketError::App(AppError::RateLimited));
                }
                Ok(_) => {}
                // Fail open: the message itself is stored in the database, not in Redis.
                Err(err) => tracing::warn!(error = %err, "chat limit not checked"),
            }
        }
        // Still an active participant? Membership is checked at `join`, and a cancel, the
        // settlement at the end or a deletion takes the user out of the room within moments;
        // this closes the gap between that change in the database and the eviction reaching
        // this connection (one lookup by primary key; chat is limited to 10 per 10 s anyway).
        let active = self
            .state
            .store
            .membership(room, self.user.id)
            .await?
            .is_some_and(|m| m.status == ParticipantStatus::Active);
        if !active {
            return Err(SocketError::NotActiveParticipant);
        }
        let (message, stored) = self
            .state
            .store
            .post_message(room, self.user.id, &client_id, body, self.state.now())
            .await?;
        let frame = ServerFrame::Chat {
            room,
            message: message.into(),
            client_id,
        };
        if !stored {
            // A resend of a message already stored: confirm it to this tab only.
            self.send(&frame);
            return Ok(());
        }
        metrics::counter!("ssgwan_chat_messages_total").increment(1);
        // Stored, and delivered to this node's tabs even if Redis is down; members on other
        // nodes then see a gap in the room's numbering and fetch what they missed (history over
        // HTTP, or `join` with `since`).
        // Not to anyone the author blocked or was blocked by (one read per message).
        let blocks = self.state.store.block_peers(self.user.id).await?;
        let fan_out = self
            .state
            .rooms
            .broadcast_except(room, frame.encode(), &blocks);
        if let Err(err) = fan_out.await {
            tracing::warn!(error = %err, room, "chat fan-out to other nodes failed");
        }
        Ok(())
    }
}
