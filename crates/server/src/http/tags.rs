//! Tags across challenges: the most used ones, for browsing (`GET /api/challenges?tag=` lists
//! the challenges of one).

use axum::{Json, extract::State};

use super::{
    challenges::page_limit,
    dto::{PopularTagDto, PopularTagsParams},
    extract::ApiQuery,
};
use crate::{
    error::{AppResult, ErrorBody},
    state::AppState,
};

/// The most used tags among challenges that have not ended, most used first.
#[utoipa::path(
    get, path = "/api/tags/popular", tag = "challenges", params(PopularTagsParams),
    responses((status = 200, body = [PopularTagDto]), (status = 400, body = ErrorBody))
)]
pub async fn popular(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<PopularTagsParams>,
) -> AppResult<Json<Vec<PopularTagDto>>> {
    let limit = page_limit(params.limit.as_deref(), 10, 50)?;
    let tags = state.store.popular_tags(state.now(), limit).await?;
    Ok(Json(tags.into_iter().map(PopularTagDto::from).collect()))
}
