//! Host controls over HTTP: remove a member, appoint and demote co-hosts, delete a chat
//! message, lock the room for the session. The rules and side effects are in
//! `crate::moderation`; these handlers only read the request and shape the answer.

use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{StatusCode, request::Parts},
};
use serde::{Deserialize, Serialize};
use ssgwan_domain::moderation::HostAction;
use utoipa::ToSchema;

use super::{
    challenges::load,
    dto::UserSummaryDto,
    extract::{ApiJson, CurrentUser, PathId},
};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    moderation,
    state::AppState,
};

/// Two positive ids from the path: the challenge and a user or message in it.
pub struct PathIds(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path((first, second)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let id = |raw: &str, field: &str| {
            raw.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(AppError::BadValue {
                    field: field.into(),
                    expected: "a positive integer id",
                })
        };
        Ok(PathIds(id(&first, "id")?, id(&second, "second id")?))
    }
}

/// Removes a member: creator or co-host, not on a host or themselves. Their place is freed,
/// their sockets leave the room at once on every node (`left {reason: "removed"}`), their
/// attendance so far stays but they no longer complete the challenge, and they cannot join it
/// again (403 `REMOVED_FROM_CHALLENGE`). A repeat answers 204 again.
#[utoipa::path(
    delete, path = "/api/challenges/{id}/participants/{userId}", tag = "moderation",
    params(("id" = i64, Path, minimum = 1), ("userId" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Removed (or already removed)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`NOT_HOST`, `SELF_TARGET`, `NOT_ROOM_MEMBER`, `TARGET_IS_HOST`", body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn remove_participant(
    State(state): State<AppState>,
    current: CurrentUser,
    PathIds(id, user_id): PathIds,
) -> AppResult<StatusCode> {
    let challenge = load(&state, id, None).await?;
    moderation::remove_member(&state, &challenge, current.user.id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who hosts the room and whether it is locked for today's session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostsDto {
    pub creator: UserSummaryDto,
    /// At most 3.
    pub cohosts: Vec<UserSummaryDto>,
    /// No new joins of the live room until the next session.
    pub locked: bool,
}

/// The room's hosts (creator and co-hosts) and its lock.
#[utoipa::path(
    get, path = "/api/challenges/{id}/hosts", tag = "moderation", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = HostsDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn hosts(State(state): State<AppState>, PathId(id): PathId) -> AppResult<Json<HostsDto>> {
    let challenge = load(&state, id, None).await?;
    let ids = state.store.cohosts(id).await?;
    let mut people = state.store.users(&ids).await?;
    people.sort_by_key(|u| ids.iter().position(|i| *i == u.id));
    let locked = moderation::room_locked(&state, &challenge).await?;
    Ok(Json(HostsDto {
        creator: challenge.creator.into(),
        cohosts: people.into_iter().map(UserSummaryDto::from).collect(),
        locked,
    }))
}

/// Appoints a member co-host (creator only; at most 3: 409 `COHOST_LIMIT_REACHED`). A repeat
/// answers 204 again.
#[utoipa::path(
    put, path = "/api/challenges/{id}/cohosts/{userId}", tag = "moderation",
    params(("id" = i64, Path, minimum = 1), ("userId" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Co-host (now or already)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn appoint_cohost(
    State(state): State<AppState>,
    current: CurrentUser,
    PathIds(id, user_id): PathIds,
) -> AppResult<StatusCode> {
    let challenge = load(&state, id, None).await?;
    let already = state.store.cohosts(id).await?.contains(&user_id);
    moderation::check_host(
        &state,
        &challenge,
        HostAction::Appoint,
        current.user.id,
        Some((user_id, already)),
    )
    .await?;
    if state.store.add_cohost(id, user_id, state.now()).await? {
        tracing::info!(challenge_id = id, user_id, "co-host appointed");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Demotes a co-host (creator only). A repeat answers 204 again.
#[utoipa::path(
    delete, path = "/api/challenges/{id}/cohosts/{userId}", tag = "moderation",
    params(("id" = i64, Path, minimum = 1), ("userId" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Not a co-host (now or already)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn demote_cohost(
    State(state): State<AppState>,
    current: CurrentUser,
    PathIds(id, user_id): PathIds,
) -> AppResult<StatusCode> {
    let challenge = load(&state, id, None).await?;
    let done = !state.store.cohosts(id).await?.contains(&user_id);
    moderation::check_host(
        &state,
        &challenge,
        HostAction::Demote,
        current.user.id,
        Some((user_id, done)),
    )
    .await?;
    state.store.remove_cohost(id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a chat message (creator or co-host): everyone in the room gets
/// `chatDeleted {room, messageId}`, and the history shows it deleted (body gone). A repeat
/// answers 204 again.
#[utoipa::path(
    delete, path = "/api/challenges/{id}/messages/{messageId}", tag = "moderation",
    params(("id" = i64, Path, minimum = 1), ("messageId" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Deleted (or already deleted)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "`CHALLENGE_NOT_FOUND` or `MESSAGE_NOT_FOUND`", body = ErrorBody))
)]
pub async fn delete_message(
    State(state): State<AppState>,
    current: CurrentUser,
    PathIds(id, message_id): PathIds,
) -> AppResult<StatusCode> {
    let challenge = load(&state, id, None).await?;
    moderation::delete_message(&state, &challenge, current.user.id, message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Locks the live room for the rest of today's session (creator or co-host): no new `join`
/// (`ROOM_LOCKED`); those inside stay; the next session opens again. A repeat answers 204.
#[utoipa::path(
    put, path = "/api/challenges/{id}/lock", tag = "moderation", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Locked (now or already)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn lock(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    let challenge = load(&state, id, None).await?;
    moderation::lock_room(&state, &challenge, current.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `PUT /api/challenges/{id}/participants/{userId}/media`: what to stop (`true`) or
/// allow again (`false`); a kind left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberMediaRequest {
    /// Stop (`true`) or allow again (`false`) the member's video.
    pub video_stopped: Option<bool>,
    /// Stop (`true`) or allow again (`false`) the member's audio.
    pub audio_stopped: Option<bool>,
}

/// A member's media as the hosts set it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberMediaDto {
    pub user_id: i64,
    pub video_stopped: bool,
    pub audio_stopped: bool,
}

/// Stops (or allows again) a member's video or audio in the live room (creator or co-host;
/// not on a host or themselves). The media server stops forwarding it to everyone at once,
/// whatever the member's browser does; the member keeps publishing to the server (their
/// attendance still counts) and everyone in the room gets `mediaStops`. A repeat answers 200
/// with the same state.
#[utoipa::path(
    put, path = "/api/challenges/{id}/participants/{userId}/media", tag = "moderation",
    params(("id" = i64, Path, minimum = 1), ("userId" = i64, Path, minimum = 1)),
    request_body = MemberMediaRequest,
    responses((status = 200, body = MemberMediaDto, description = "The member's media now"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`NOT_HOST`, `SELF_TARGET`, `NOT_ROOM_MEMBER`, `TARGET_IS_HOST`", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn set_member_media(
    State(state): State<AppState>,
    current: CurrentUser,
    PathIds(id, user_id): PathIds,
    ApiJson(body): ApiJson<MemberMediaRequest>,
) -> AppResult<Json<MemberMediaDto>> {
    let challenge = load(&state, id, None).await?;
    let (video_stopped, audio_stopped) = moderation::set_member_media(
        &state,
        &challenge,
        current.user.id,
        user_id,
        body.video_stopped,
        body.audio_stopped,
    )
    .await?;
    Ok(Json(MemberMediaDto {
        user_id,
        video_stopped,
        audio_stopped,
    }))
}
