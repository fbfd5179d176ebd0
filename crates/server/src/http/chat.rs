//! Chat history over HTTP, for scrolling back and for catching up past the WebSocket's replay cap.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{Invalid, Reason};
use utoipa::ToSchema;

use super::{
    challenges::page_limit,
    extract::{ApiQuery, CurrentUser, PathId},
};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    state::AppState,
    wire::MessageDto,
};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only messages with a smaller id (the oldest id you have); default: the newest.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub before: Option<String>,
    /// 1–100, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Oldest first.
    pub items: Vec<MessageDto>,
    /// Pass as `before` for the page before this one; `null` at the beginning.
    pub next_before: Option<i64>,
}

/// A page of the room's messages, participants only.
#[utoipa::path(
    get, path = "/api/challenges/{id}/messages", tag = "realtime", params(("id" = i64, Path, minimum = 1), HistoryParams),
    responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn history(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> AppResult<Json<MessagePage>> {
    let before = params
        .before
        .as_deref()
        .map(|b| {
            b.parse::<i64>()
                .ok()
                .filter(|b| *b >= 1)
                .ok_or(Invalid::new(
                    "before",
                    Reason::Range {
                        min: 1,
                        max: i64::MAX,
                    },
                ))
        })
        .transpose()?;
    let limit = page_limit(params.limit.as_deref(), 50, 100)?;
    if state.store.challenge(id, None).await?.is_none() {
        return Err(AppError::ChallengeNotFound);
    }
    if !state.store.is_participant(id, current.user.id).await? {
        return Err(AppError::Forbidden);
    }
    let messages = state.store.messages_before(id, before, limit).await?;
    let next_before = if messages.len() as i64 == limit {
        messages.first().map(|m| m.id)
    } else {
        None
    };
    // Blocked users' (both ways) and suspended users' messages are left out.
    let hidden = state.store.block_peers(current.user.id).await?;
    let now = state.now();
    Ok(Json(MessagePage {
        items: messages
            .into_iter()
            .map(MessageDto::from)
            .filter(|m| crate::moderation::shown(m, &hidden, now))
            .collect(),
        next_before,
    }))
}
