//! Who is calling: the signed-in user as an extractor, for the HTTP handlers and the WebSocket
//! upgrade alike. Sessions are looked up in a short cache, then in the store.

use axum::{extract::FromRequestParts, http::request::Parts};
use ssgwan_store::User;

use crate::{
    auth::{SessionKey, request_session_key},
    error::AppError,
    state::AppState,
};

/// The signed-in user; 401 `UNAUTHORIZED` without a live session.
pub struct CurrentUser {
    pub user: User,
    /// The session's key (its token hashed).
    pub session: SessionKey,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = request_session_key(&parts.headers).ok_or(AppError::Unauthorized)?;
        let now = state.now();
        if let Some(user) = state.session_cache.get(&session, now) {
            return Ok(CurrentUser { user, session });
        }
        let epoch = state.session_cache.epoch();
        let (user, expires_at) = state
            .store
            .session_user(&session.hex(), now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        state
            .session_cache
            .put(session, user.clone(), expires_at, epoch);
        Ok(CurrentUser { user, session })
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
