//! Profiles: my own (read and edit) and anyone's public one, each with the level the all-time
//! score amounts to and the last seven days' points.

use axum::{Json, extract::State};
use ssgwan_domain::{upload, user};
use ssgwan_store::{Conflict, StoreError, UserUpdate};

use super::{
    dto::{ProfileDto, UpdateMeRequest},
    extract::{ApiJson, CurrentUser, PathId},
};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    state::AppState,
};

/// A user's profile with their level and recent points.
async fn profile(state: &AppState, user: ssgwan_store::User) -> AppResult<ProfileDto> {
    let activity = state.scoring.user_activity(user.id).await?;
    Ok(ProfileDto::new(user, activity))
}

/// The signed-in user's profile, level and recent points.
#[utoipa::path(get, path = "/api/me", tag = "users", responses((status = 200, body = ProfileDto), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<ProfileDto>> {
    Ok(Json(profile(&state, current.user).await?))
}

/// Edits nickname (2–20, unique), bio (≤ 300) and profile image: the `url` of one of the
/// caller's own uploads (400 `UPLOAD_NOT_FOUND` for an upload of someone else's or none), or
/// `null` to remove it. Any other URL is 400 `VALIDATION_FAILED`; nothing changes on a refusal.
#[utoipa::path(
    patch, path = "/api/me", tag = "users", request_body = UpdateMeRequest,
    responses((status = 200, body = ProfileDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn update_me(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(request): ApiJson<UpdateMeRequest>,
) -> AppResult<Json<ProfileDto>> {
    let update = UserUpdate {
        nickname: request
            .nickname
            .as_deref()
            .map(user::nickname)
            .transpose()?,
        bio: request.bio.as_deref().map(user::bio).transpose()?,
        profile_image: match request.profile_image {
            None => None,
            Some(None) => Some(None),
            Some(Some(image)) => Some(Some(upload::uploaded_image("profileImage", &image)?)),
        },
    };
    let updated = state
        .store
        .update_user(current.user.id, update, state.now())
        .await
        .map_err(|err| match err {
            StoreError::Conflict(Conflict::UploadNotOwned) => AppError::UnknownUpload {
                field: "profileImage",
            },
            other => other.into(),
        })?;
    state.scoring.forget_profile(updated.id);
    state.session_cache.forget_user(updated.id);
    Ok(Json(profile(&state, updated).await?))
}

/// Anyone's public profile, level and recent points.
#[utoipa::path(
    get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ProfileDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn user_profile(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> AppResult<Json<ProfileDto>> {
    let found = state.store.user(id).await?.ok_or(AppError::UserNotFound)?;
    Ok(Json(profile(&state, found).await?))
}
