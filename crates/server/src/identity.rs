//! Who is calling: the signed-in user as an extractor, for the HTTP handlers and the WebSocket
//! upgrade alike. Sessions are looked up in a short cache, then in the store.

use axum::{extract::FromRequestParts, http::request::Parts};
use ssgwan_store::User;

use crate::{
    auth::{hash_token, request_token},
    error::AppError,
    state::AppState,
};

/// The signed-in user; 401 `UNAUTHORIZED` without a live session.
pub struct CurrentUser {
    pub user: User,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = request_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        let token_hash = hash_token(&token);
        let now = state.now();
        if let Some(user) = state.session_cache.get(&token_hash, now) {
            return Ok(CurrentUser { user, token_hash });
        }
        let (user, expires_at) = state
            .store
            .session_user(&token_hash, now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        state
            .session_cache
            .put(token_hash.clone(), user.clone(), expires_at);
        Ok(CurrentUser { user, token_hash })
    }
}

/// The signed-in user when there is one; anonymous requests are fine.
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(current) => Ok(MaybeUser(Some(current.user))),
            Err(AppError::Unauthorized) => Ok(MaybeUser(None)),
            Err(other) => Err(other),
        }
    }
}
