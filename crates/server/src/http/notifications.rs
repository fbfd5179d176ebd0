//! The caller's notifications (newest first, a page at a time, with the unread count), marking
//! them read, and their notification settings.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use ssgwan_domain::notification::{KindSet, Settings};
use ssgwan_store::NotificationSettingsRecord;
use utoipa::{IntoParams, ToSchema};

use super::{
    challenges::page_limit,
    extract::{ApiJson, ApiQuery, CurrentUser},
};
use crate::{
    error::{AppResult, ErrorBody},
    state::AppState,
    wire::NotificationDto,
};

/// Query of `GET /api/me/notifications`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Page size, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub items: Vec<NotificationDto>,
    pub next_cursor: Option<String>,
    /// Unread notifications in all (not only on this page).
    pub unread_count: i64,
}

/// The caller's notifications, newest first.
#[utoipa::path(
    get, path = "/api/me/notifications", tag = "notifications", params(NotificationParams),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(params): ApiQuery<NotificationParams>,
) -> AppResult<Json<NotificationPage>> {
    let limit = page_limit(params.limit.as_deref(), 20, 100)?;
    let before = match params.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            Some(c)
                .filter(|c| (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse::<i64>().ok())
                .ok_or(ssgwan_domain::Invalid::new(
                    "cursor",
                    ssgwan_domain::Reason::Format {
                        expected: "the nextCursor of a previous page",
                    },
                ))?,
        ),
    };
    let mut rows = state
        .store
        .notifications(current.user.id, before, limit + 1)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| rows.last().map(|n| n.id.to_string()))
        .flatten();
    let unread_count = state.store.unread_notifications(current.user.id).await?;
    Ok(Json(NotificationPage {
        items: rows.into_iter().map(NotificationDto::from).collect(),
        next_cursor,
        unread_count,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadRequest {
    /// Every notification with this id or a smaller one becomes read.
    #[schema(minimum = 1)]
    pub up_to: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadResponse {
    /// How many became read now.
    pub marked: u64,
    pub unread_count: i64,
}

/// Marks the caller's notifications up to an id read.
#[utoipa::path(
    post, path = "/api/me/notifications/read", tag = "notifications", request_body = ReadRequest,
    responses((status = 200, body = ReadResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(request): ApiJson<ReadRequest>,
) -> AppResult<Json<ReadResponse>> {
    if request.up_to < 1 {
        return Err(ssgwan_domain::Invalid::new(
            "upTo",
            ssgwan_domain::Reason::Range {
                min: 1,
                max: i64::MAX,
            },
        )
        .into());
    }
    let marked = state
        .store
        .mark_notifications_read(current.user.id, request.up_to, state.now())
        .await?;
    let unread_count = state.store.unread_notifications(current.user.id).await?;
    Ok(Json(ReadResponse {
        marked,
        unread_count,
    }))
}

/// A notification kind, for the OpenAPI document (the server reads them as strings).
#[derive(ToSchema)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
enum NotificationKindName {
    SESSION_REMINDER,
    SESSION_ACHIEVED,
    CHALLENGE_COMPLETED,
    CHALLENGE_FAILED,
    RANK_UP,
    NOTICE_CHANGED,
    NEW_MEMBER,
}

/// What the caller wants to be notified of.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationSettingsDto {
    /// The kinds wanted (the others are neither stored nor pushed).
    #[schema(value_type = Vec<NotificationKindName>)]
    pub kinds: Vec<String>,
    /// How long before a session its reminder comes.
    #[schema(minimum = 1, maximum = 120)]
    pub minutes_before: i64,
    /// Quiet hours (`HH:MM`, both or neither): no push then, except reminders of sessions
    /// that are themselves then.
    #[serde(default)]
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub quiet_start: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub quiet_end: Option<String>,
    /// The quiet hours' timezone (IANA name); default the server's.
    #[serde(default)]
    #[schema(example = "Asia/Seoul", max_length = 64)]
    pub timezone: Option<String>,
}

fn settings_dto(settings: &Settings, timezone: Option<String>) -> NotificationSettingsDto {
    let quiet = settings.quiet_times();
    NotificationSettingsDto {
        kinds: settings
            .kinds
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        minutes_before: settings.minutes_before,
        quiet_start: quiet.as_ref().map(|q| q.0.clone()),
        quiet_end: quiet.map(|q| q.1),
        timezone,
    }
}

/// The caller's notification settings (the defaults until they save some).
#[utoipa::path(
    get, path = "/api/me/notification-settings", tag = "notifications",
    responses((status = 200, body = NotificationSettingsDto), (status = 401, body = ErrorBody))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<NotificationSettingsDto>> {
    let stored = state.store.notification_settings(current.user.id).await?;
    let settings = state.notifier.settings(current.user.id).await?;
    Ok(Json(settings_dto(
        &settings,
        stored.and_then(|s| s.timezone),
    )))
}

/// Replaces the caller's notification settings.
#[utoipa::path(
    put, path = "/api/me/notification-settings", tag = "notifications", request_body = NotificationSettingsDto,
    responses((status = 200, body = NotificationSettingsDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(request): ApiJson<NotificationSettingsDto>,
) -> AppResult<Json<NotificationSettingsDto>> {
    let kinds = KindSet::from_names(&request.kinds).ok_or(ssgwan_domain::Invalid::new(
        "kinds",
        ssgwan_domain::Reason::Format {
            expected: "notification kinds such as SESSION_REMINDER",
        },
    ))?;
    let settings = Settings::parse(
        kinds,
        request.minutes_before,
        request.quiet_start.as_deref(),
        request.quiet_end.as_deref(),
        request.timezone.as_deref(),
        state.notifier.timezone(),
    )?;
    let quiet = settings.quiet_times();
    let record = NotificationSettingsRecord {
        kinds: settings.kinds.bits(),
        minutes_before: settings.minutes_before,
        quiet_start: quiet.as_ref().map(|q| q.0.clone()),
        quiet_end: quiet.as_ref().map(|q| q.1.clone()),
        timezone: request.timezone.clone(),
    };
    state
        .store
        .set_notification_settings(current.user.id, &record, state.now())
        .await?;
    Ok(Json(settings_dto(&settings, record.timezone)))
}
