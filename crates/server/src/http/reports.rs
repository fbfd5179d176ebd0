//! Reports (`POST /api/reports`) and blocks (`/api/me/blocks`). The rules and side effects
//! are in `crate::moderation`.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{Invalid, Reason, moderation::TargetType};
use ssgwan_store::{BlockRecord, ReportRecord};
use utoipa::ToSchema;

use super::{
    dto::UserSummaryDto,
    extract::{ApiJson, CurrentUser, PathId},
};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    moderation::{self, ReportInput, SafetyError},
    state::AppState,
};

/// Body of `POST /api/reports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportRequest {
    /// `user`, `message` or `challenge`.
    #[schema(pattern = "^(user|message|challenge)$")]
    pub target_type: String,
    /// The user's, the message's (its number in the room) or the challenge's id.
    #[schema(minimum = 1)]
    pub target_id: i64,
    /// The message's room; required for messages, ignored otherwise.
    #[schema(minimum = 1)]
    pub challenge_id: Option<i64>,
    /// One of `harassment`, `sexual`, `violence`, `spam`, `impersonation`, `other`.
    #[schema(pattern = "^(harassment|sexual|violence|spam|impersonation|other)$")]
    pub reason: String,
    /// Free text, at most 1,000 characters.
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x09\x0b-\x1f\x7f-\x9f]*$")]
    pub detail: Option<String>,
}

/// A report as its reporter (and operators) see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportDto {
    pub id: i64,
    pub target_type: String,
    /// The user the report is about (the member, the message's author, the challenge's creator).
    pub subject_id: Option<i64>,
    pub challenge_id: Option<i64>,
    pub message_id: Option<i64>,
    pub reason: String,
    pub detail: String,
    /// `OPEN`, `DISMISSED` or `ACTIONED`.
    pub status: String,
    pub created_at: String,
}

impl From<ReportRecord> for ReportDto {
    fn from(r: ReportRecord) -> Self {
        Self {
            id: r.id,
            target_type: r.target_type,
            subject_id: r.subject_id,
            challenge_id: r.challenge_id,
            message_id: r.message_seq,
            reason: r.reason,
            detail: r.detail,
            status: r.status,
            created_at: r.created_at.to_string(),
        }
    }
}

/// Reports a user, a chat message (of a room the reporter is or was in) or a challenge. One
/// report per reporter and target: a repeat answers 200 with the first report and changes
/// nothing. The reporter gets a receipt (a `REPORT_RECEIVED` notification).
#[utoipa::path(
    post, path = "/api/reports", tag = "moderation", request_body = ReportRequest,
    responses((status = 201, body = ReportDto, description = "Filed"), (status = 200, body = ReportDto, description = "Filed before: the first report"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`REPORT_NOT_ALLOWED` (not something the reporter can see), `SELF_TARGET`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn report(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(body): ApiJson<ReportRequest>,
) -> AppResult<impl IntoResponse> {
    let target_type = TargetType::parse(&body.target_type).ok_or(Invalid::new(
        "targetType",
        Reason::Format {
            expected: "user|message|challenge",
        },
    ))?;
    if body.target_id < 1 {
        return Err(AppError::BadValue {
            field: "targetId".into(),
            expected: "a positive integer id",
        });
    }
    let input = ReportInput {
        target_type,
        target_id: body.target_id,
        challenge_id: body.challenge_id,
        reason: body.reason,
        detail: body.detail,
    };
    let (record, fresh) = moderation::file_report(&state, current.user.id, input).await?;
    let status = if fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ReportDto::from(record))))
}

/// Someone the caller blocked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockDto {
    pub user: UserSummaryDto,
    pub created_at: String,
}

impl From<BlockRecord> for BlockDto {
    fn from(b: BlockRecord) -> Self {
        Self {
            user: b.user.into(),
            created_at: b.created_at.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockList {
    /// Newest first.
    pub items: Vec<BlockDto>,
}

/// Blocks a user: neither sees the other's chat in any room (enforced in the server's
/// fan-out and history), nor the other's challenges in lists. A repeat answers 204 again.
#[utoipa::path(
    put, path = "/api/me/blocks/{userId}", tag = "moderation", params(("userId" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Blocked (now or already)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`SELF_TARGET`", body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn block(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(user_id): PathId,
) -> AppResult<StatusCode> {
    if user_id == current.user.id {
        return Err(SafetyError::Host(ssgwan_domain::moderation::HostRefusal::SelfTarget).into());
    }
    if state
        .store
        .block(current.user.id, user_id, state.now())
        .await?
    {
        tracing::info!(user_id = current.user.id, blocked = user_id, "user blocked");
    }
    // Neither gets the other's video or audio in the rooms they share, from now on.
    crate::media_policy::push_shared(&state, current.user.id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a block. A repeat answers 204 again.
#[utoipa::path(
    delete, path = "/api/me/blocks/{userId}", tag = "moderation", params(("userId" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Not blocked (now or already)"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
pub async fn unblock(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(user_id): PathId,
) -> AppResult<StatusCode> {
    if state.store.unblock(current.user.id, user_id).await? {
        crate::media_policy::push_shared(&state, current.user.id, user_id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Everyone the caller blocked.
#[utoipa::path(
    get, path = "/api/me/blocks", tag = "moderation",
    responses((status = 200, body = BlockList), (status = 401, body = ErrorBody))
)]
pub async fn blocks(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<BlockList>> {
    let items = state.store.blocks(current.user.id).await?;
    Ok(Json(BlockList {
        items: items.into_iter().map(BlockDto::from).collect(),
    }))
}
