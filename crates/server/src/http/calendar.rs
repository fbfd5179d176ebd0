//! Calendar feeds (iCalendar, RFC 5545): the user's secret feed address, its reset, the feed
//! itself for calendar applications (no cookie, the address is the credential), and one
//! challenge's sessions as a file to download.

use axum::{
    Json,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use ssgwan_store::{MyChallengesState, ParticipantStatus};
use utoipa::ToSchema;

use super::extract::{CurrentUser, MaybeUser, PathId};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    state::AppState,
};

/// The address of the caller's calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarUrl {
    /// `<public-url>/api/calendar/<token>.ics`: anyone with it can read the caller's schedule.
    pub url: String,
}

/// The address of the caller's calendar feed (made on first use).
#[utoipa::path(
    get, path = "/api/me/calendar", tag = "calendar",
    responses((status = 200, body = CalendarUrl), (status = 401, body = ErrorBody))
)]
pub async fn my_calendar(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<CalendarUrl>> {
    let url = state
        .feeds
        .feed_url(&*state.store, current.user.id, state.now())
        .await?;
    Ok(Json(CalendarUrl { url }))
}

/// A new address for the caller's feed; the previous one answers 404 from now on.
#[utoipa::path(
    post, path = "/api/me/calendar/reset", tag = "calendar",
    responses((status = 200, body = CalendarUrl), (status = 401, body = ErrorBody))
)]
pub async fn reset_calendar(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<CalendarUrl>> {
    let url = state
        .feeds
        .reset(&*state.store, current.user.id, state.now())
        .await?;
    tracing::info!(user_id = current.user.id, "calendar feed address reset");
    Ok(Json(CalendarUrl { url }))
}

fn calendar_response(body: String, file: Option<&str>) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response();
    if let Some(file) = file
        && let Ok(value) = format!("attachment; filename=\"{file}\"").parse()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The feed: every challenge the feed's owner holds an active place in, their own sessions
/// from the day they joined. `file` is `<token>.ics`; unknown and reset tokens get 404.
#[utoipa::path(
    get, path = "/api/calendar/{file}", tag = "calendar", security(()),
    params(("file" = String, Path, description = "`<token>.ics`", pattern = r"^[A-Za-z0-9_-]{43}\.ics$")),
    responses(
        (status = 200, content_type = "text/calendar", body = String, description = "iCalendar (RFC 5545)"),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn feed(
    State(state): State<AppState>,
    file: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> AppResult<Response> {
    // A name that is not even text is just another unknown feed.
    let file = file.map(|Path(f)| f).unwrap_or_default();
    let Some(owner) = state.feeds.owner(&*state.store, &file).await? else {
        return Err(AppError::NotFound);
    };
    let challenges = state
        .store
        .my_challenges(owner, MyChallengesState::Active)
        .await?;
    let mut events = Vec::with_capacity(challenges.len());
    for challenge in challenges {
        if let Some(membership) = state.store.membership(challenge.id, owner).await?
            && membership.status == ParticipantStatus::Active
        {
            events.push((challenge, membership.joined_at));
        }
    }
    let body = state.feeds.render("쓱관 Ssgwan", &events, state.now());
    Ok(calendar_response(body, None))
}

/// One challenge's sessions as an `.ics` file: the caller's own (from their join) when they
/// hold a place, else every session.
#[utoipa::path(
    get, path = "/api/challenges/{id}/calendar.ics", tag = "calendar", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, content_type = "text/calendar", body = String, description = "iCalendar (RFC 5545)"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)
    )
)]
pub async fn challenge_calendar(
    State(state): State<AppState>,
    viewer: MaybeUser,
    PathId(id): PathId,
) -> AppResult<Response> {
    let challenge = super::challenges::load(&state, id, None).await?;
    let mut joined_at = challenge.created_at;
    if let Some(user) = &viewer.0
        && let Some(membership) = state.store.membership(id, user.id).await?
        && membership.status != ParticipantStatus::Cancelled
    {
        joined_at = membership.joined_at;
    }
    let title = challenge.spec.title.clone();
    let body = state
        .feeds
        .render(&title, &[(challenge, joined_at)], state.now());
    Ok(calendar_response(
        body,
        Some(&format!("ssgwan-challenge-{id}.ics")),
    ))
}
