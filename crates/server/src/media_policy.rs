//! A room's forwarding policy (issue 18): whose video or audio a host stopped, and which of its
//! members blocked one another. The database holds it (`media_stops`, `blocks`); the media
//! server that holds the room enforces it on every packet. Every change is pushed to that
//! server, and every media session opens with the policy as of then, so a room that starts on
//! another node (or after a restart) is held to it from its first packet.

use ssgwan_media::RoomPolicy;
use ssgwan_realtime::RoomId;
use ssgwan_store::{MediaKind, ParticipantStatus, Store, StoreResult};

use crate::{state::AppState, wire::MediaStopDto};

/// The room's policy as stored now.
pub async fn load(store: &dyn Store, room: RoomId) -> StoreResult<RoomPolicy> {
    let mut policy = RoomPolicy::default();
    add_stops(store, room, &mut policy).await?;
    for (blocker, blocked) in store.room_blocks(room).await? {
        policy.block(blocker, blocked);
    }
    Ok(policy)
}

/// Adds the room's stored host stops to `policy`.
async fn add_stops(store: &dyn Store, room: RoomId, policy: &mut RoomPolicy) -> StoreResult<()> {
    for (user, kind) in store.media_stops(room).await? {
        match kind {
            MediaKind::Video => policy.video_stopped.insert(user),
            MediaKind::Audio => policy.audio_stopped.insert(user),
        };
    }
    Ok(())
}

/// Sends the room's stored policy to the media server that holds the room (wherever it is),
/// and returns it. A failure is logged (`None`): the next session opened in the room carries
/// the policy again.
pub async fn push(state: &AppState, room: RoomId) -> Option<RoomPolicy> {
    match load(&*state.store, room).await {
        Ok(policy) => {
            state.media.set_policy(room, policy.clone()).await;
            Some(policy)
        }
        Err(err) => {
            tracing::warn!(error = %err, room, "room media policy not loaded");
            None
        }
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

/// The room's stored host stops, for a `mediaStops` frame.
pub async fn stops(store: &dyn Store, room: RoomId) -> StoreResult<Vec<MediaStopDto>> {
    let mut policy = RoomPolicy::default();
    add_stops(store, room, &mut policy).await?;
    Ok(stop_list(&policy))
}

/// Every member whose video or audio `policy` stops, by user id.
pub fn stop_list(policy: &RoomPolicy) -> Vec<MediaStopDto> {
    let users: std::collections::BTreeSet<i64> = policy
        .video_stopped
        .union(&policy.audio_stopped)
        .copied()
        .collect();
    users
        .into_iter()
        .map(|user| MediaStopDto {
            user,
            video: policy.video_stopped.contains(&user),
            audio: policy.audio_stopped.contains(&user),
        })
        .collect()
}
