//! A room's forwarding policy (issue 18): whose video or audio a host stopped, and which of its
//! members blocked one another. The database holds it (`media_stops`, `blocks`); the media
//! server that holds the room enforces it on every packet. Every change is pushed to that
//! server, and every media session opens with the policy as of then, so a room that starts on
//! another node (or after a restart) is held to it from its first packet.

use ssgwan_media::RoomPolicy;
use ssgwan_realtime::RoomId;
use ssgwan_store::{MediaKind, ParticipantStatus, Store, StoreResult};

use crate::{
    state::AppState,
    wire::{MediaStopDto, ServerFrame},
};

/// The room's policy as stored now.
pub async fn load(store: &dyn Store, room: RoomId) -> StoreResult<RoomPolicy> {
    let mut policy = RoomPolicy::default();
    for (user, kind) in store.media_stops(room).await? {
        match kind {
            MediaKind::Video => policy.video_stopped.insert(user),
            MediaKind::Audio => policy.audio_stopped.insert(user),
        };
    }
    for (blocker, blocked) in store.room_blocks(room).await? {
        policy.block(blocker, blocked);
    }
    Ok(policy)
}

/// Sends the room's stored policy to the media server that holds the room (wherever it is).
/// A failure is logged: the next session opened in the room carries the policy again.
pub async fn push(state: &AppState, room: RoomId) {
    match load(&*state.store, room).await {
        Ok(policy) => state.media.set_policy(room, policy).await,
        Err(err) => tracing::warn!(error = %err, room, "room media policy not loaded"),
    }
}

/// Pushes the policy of every room both users are active participants of (after a block
/// between them was made or lifted).
pub async fn push_shared(state: &AppState, a: i64, b: i64) -> StoreResult<()> {
    let active = |list: Vec<ssgwan_store::Participation>| -> Vec<i64> {
        list.into_iter()
            .filter(|p| p.status == ParticipantStatus::Active)
            .map(|p| p.challenge.id)
            .collect()
    };
    let mine = active(state.store.participations(a).await?);
    let theirs = active(state.store.participations(b).await?);
    for room in mine.into_iter().filter(|r| theirs.contains(r)) {
        push(state, room).await;
    }
    Ok(())
}

/// The `mediaStops` frame of the room: every member whose video or audio a host stopped.
pub async fn stops_frame(store: &dyn Store, room: RoomId) -> StoreResult<ServerFrame> {
    let mut stops: Vec<MediaStopDto> = Vec::new();
    for (user, kind) in store.media_stops(room).await? {
        let at = match stops.iter().position(|s| s.user == user) {
            Some(at) => at,
            None => {
                stops.push(MediaStopDto {
                    user,
                    video: false,
                    audio: false,
                });
                stops.len() - 1
            }
        };
        match kind {
            MediaKind::Video => stops[at].video = true,
            MediaKind::Audio => stops[at].audio = true,
        }
    }
    Ok(ServerFrame::MediaStops { room, stops })
}
