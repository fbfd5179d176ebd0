//! The operator API (`/api/admin`, operators only: `OPERATOR_ONLY`): the report queue with
//! context, decisions on reports, and the audit log (read only: nothing edits or deletes it).

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{Invalid, Reason, moderation::OperatorAction};
use utoipa::ToSchema;

use super::{
    challenges::page_limit,
    extract::{ApiJson, ApiQuery, CurrentUser, PathId},
    reports::ReportDto,
};
use crate::{
    error::{AppResult, ErrorBody},
    moderation::{self, Decision},
    state::AppState,
    wire::MessageDto,
};

/// Messages shown on each side of a reported message.
const CONTEXT_MESSAGES: i64 = 5;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// `OPEN` (default), `DISMISSED`, `ACTIONED` or `ALL`.
    #[param(value_type = Option<String>, pattern = "^(OPEN|DISMISSED|ACTIONED|ALL)$")]
    pub status: Option<String>,
    /// 1–100, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// A report in the queue, with what it is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedReport {
    #[serde(flatten)]
    pub report: ReportDto,
    pub reporter_id: i64,
    /// Message reports: the reported message with up to 5 messages on each side (deleted
    /// ones included, as the room saw them), oldest first.
    pub context: Vec<MessageDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportQueue {
    /// Newest first.
    pub items: Vec<QueuedReport>,
}

/// The report queue, newest first, with the messages around each reported message.
#[utoipa::path(
    get, path = "/api/admin/reports", tag = "moderation", params(QueueParams),
    responses((status = 200, body = ReportQueue), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`OPERATOR_ONLY`", body = ErrorBody))
)]
pub async fn reports(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> AppResult<Json<ReportQueue>> {
    moderation::require_operator(&state, current.user.id).await?;
    let status = match params.status.as_deref() {
        None | Some("OPEN") => Some("OPEN"),
        Some("ALL") => None,
        Some(s @ ("DISMISSED" | "ACTIONED")) => Some(s),
        Some(_) => {
            return Err(Invalid::new(
                "status",
                Reason::Format {
                    expected: "OPEN|DISMISSED|ACTIONED|ALL",
                },
            )
            .into());
        }
    };
    let limit = page_limit(params.limit.as_deref(), 50, 100)?;
    let mut items = Vec::new();
    for report in state.store.reports(status, None, limit).await? {
        let context = match (report.challenge_id, report.message_seq) {
            (Some(room), Some(seq)) => {
                let mut around = state
                    .store
                    .messages_before(room, Some(seq), CONTEXT_MESSAGES)
                    .await?;
                around.extend(
                    state
                        .store
                        .messages_after(room, seq - 1, CONTEXT_MESSAGES + 1)
                        .await?,
                );
                around.into_iter().map(MessageDto::from).collect()
            }
            _ => Vec::new(),
        };
        items.push(QueuedReport {
            reporter_id: report.reporter_id,
            report: report.into(),
            context,
        });
    }
    Ok(Json(ReportQueue { items }))
}

/// Body of `POST /api/admin/reports/{id}/decision`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionRequest {
    /// `dismiss`, `warn` (a notification to the subject), `suspend` (for `days`, or for good
    /// without) or `deleteChallenge` (challenge reports only).
    #[schema(pattern = "^(dismiss|warn|suspend|deleteChallenge)$")]
    pub action: String,
    /// Why: 1–1,000 characters, kept in the audit log (and told to a warned user).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f-\x9f]*\S[^\x00-\x09\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
    /// Suspensions: 1–3650 days; absent or `null`: for good.
    #[schema(minimum = 1, maximum = 3650)]
    pub days: Option<i64>,
}

/// Decides an open report (operators only). The first decision stands: deciding a closed
/// report again changes nothing and answers the report as it is. Suspending closes the
/// subject's sessions and sockets at once on every node; their login is then refused with
/// `ACCOUNT_SUSPENDED`. Every decision is written to the audit log.
#[utoipa::path(
    post, path = "/api/admin/reports/{id}/decision", tag = "moderation", params(("id" = i64, Path, minimum = 1)),
    request_body = DecisionRequest,
    responses((status = 200, body = ReportDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`OPERATOR_ONLY`", body = ErrorBody), (status = 404, description = "`REPORT_NOT_FOUND`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody))
)]
pub async fn decide(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> AppResult<Json<ReportDto>> {
    moderation::require_operator(&state, current.user.id).await?;
    let action = OperatorAction::parse(&body.action).ok_or(Invalid::new(
        "action",
        Reason::Format {
            expected: "dismiss|warn|suspend|deleteChallenge",
        },
    ))?;
    let decision = Decision {
        action,
        reason: body.reason,
        days: body.days,
    };
    let report = moderation::decide(&state, current.user.id, id, decision).await?;
    Ok(Json(report.into()))
}

/// One line of the audit log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditDto {
    pub id: i64,
    /// The operator; `null` for the command line (`ssgwan admin`).
    pub actor_id: Option<i64>,
    pub action: String,
    /// e.g. `user:5`, `challenge:7`, `report:3`.
    pub target: String,
    pub reason: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    /// Newest first.
    pub items: Vec<AuditDto>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// 1–100, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// The audit log, newest first (operators only). There is no API to change it.
#[utoipa::path(
    get, path = "/api/admin/audit", tag = "moderation", params(AuditParams),
    responses((status = 200, body = AuditLog), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`OPERATOR_ONLY`", body = ErrorBody))
)]
pub async fn audit(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> AppResult<Json<AuditLog>> {
    moderation::require_operator(&state, current.user.id).await?;
    let limit = page_limit(params.limit.as_deref(), 50, 100)?;
    let items = state
        .store
        .audit_log(None, limit)
        .await?
        .into_iter()
        .map(|r| AuditDto {
            id: r.id,
            actor_id: r.entry.actor_id,
            action: r.entry.action,
            target: r.entry.target,
            reason: r.entry.reason,
            created_at: r.created_at.to_string(),
        })
        .collect();
    Ok(Json(AuditLog { items }))
}
