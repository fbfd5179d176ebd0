//! Profiles: my own (read and edit) and anyone's public one.

use axum::{Json, extract::State};
use ssgwan_domain::{user, validation};
use ssgwan_store::UserUpdate;

use super::{
    dto::{UpdateMeRequest, UserDto},
    extract::{ApiJson, CurrentUser, PathId},
};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    state::AppState,
};

/// The signed-in user's profile.
#[utoipa::path(get, path = "/api/me", tag = "users", responses((status = 200, body = UserDto), (status = 401, body = ErrorBody)))]
pub async fn me(current: CurrentUser) -> Json<UserDto> {
    Json(current.user.into())
}

/// Edits nickname (2–20, unique), bio (≤ 300) and profile image.
#[utoipa::path(
    patch, path = "/api/me", tag = "users", request_body = UpdateMeRequest,
    responses((status = 200, body = UserDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn update_me(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(request): ApiJson<UpdateMeRequest>,
) -> AppResult<Json<UserDto>> {
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
            Some(Some(image)) => Some(Some(validation::image_ref("profileImage", &image)?)),
        },
    };
    let updated = state
        .store
        .update_user(current.user.id, update, state.now())
        .await?;
    state.ranking.forget_profile(updated.id);
    state.session_cache.forget_user(updated.id);
    Ok(Json(updated.into()))
}

/// Anyone's public profile.
#[utoipa::path(
    get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = UserDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn user_profile(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> AppResult<Json<UserDto>> {
    let found = state.store.user(id).await?.ok_or(AppError::UserNotFound)?;
    Ok(Json(found.into()))
}
