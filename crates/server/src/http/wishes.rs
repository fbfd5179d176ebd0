//! The wish list (찜): a signed-in user bookmarks challenges to come back to. Adding and
//! removing are idempotent; every challenge shows how many wished it and whether the caller did.

use axum::{Json, extract::State, http::StatusCode};

use super::{
    challenges::{encode_cursor, page_cursor, page_limit},
    dto::{ChallengeDto, ChallengePage, WishListParams},
    extract::{ApiQuery, CurrentUser, PathId},
};
use crate::{
    error::{AppResult, ErrorBody},
    state::AppState,
};

/// Puts the challenge on the caller's wish list (204 also when it already was).
#[utoipa::path(
    put, path = "/api/challenges/{id}/wish", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "On the wish list"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn wish(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    let added = state.store.wish(current.user.id, id, state.now()).await?;
    if added {
        metrics::counter!("ssgwan_wishes_total", "change" => "added").increment(1);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Takes the challenge off the caller's wish list (204 also when it was not on it).
#[utoipa::path(
    delete, path = "/api/challenges/{id}/wish", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Not on the wish list"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn unwish(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    let removed = state.store.unwish(current.user.id, id).await?;
    if removed {
        metrics::counter!("ssgwan_wishes_total", "change" => "removed").increment(1);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's wish list, newest wish first, a page at a time.
#[utoipa::path(
    get, path = "/api/me/wishes", tag = "challenges", params(WishListParams),
    responses((status = 200, body = ChallengePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
pub async fn my_wishes(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(params): ApiQuery<WishListParams>,
) -> AppResult<Json<ChallengePage>> {
    let limit = page_limit(params.limit.as_deref(), 20, 100)?;
    let after = page_cursor(params.cursor.as_deref())?;
    // One extra row tells whether another page exists.
    let mut wishes = state
        .store
        .wished_challenges(current.user.id, after, limit + 1)
        .await?;
    let has_more = wishes.len() as i64 > limit;
    wishes.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| wishes.last().map(|w| encode_cursor(w.cursor())))
        .flatten();
    let now = state.now();
    let items = wishes
        .into_iter()
        .map(|w| ChallengeDto::new(w.challenge, now))
        .collect();
    Ok(Json(ChallengePage { items, next_cursor }))
}
