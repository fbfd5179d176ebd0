//! The ranking API: top of a board and the caller's own position, even outside the top.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{Invalid, Reason, stats::Period};
use utoipa::ToSchema;

use super::extract::{ApiQuery, MaybeUser};
use crate::{
    error::{AppResult, ErrorBody},
    ranking::Entry,
    state::AppState,
};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingParams {
    /// `all` (default), `week` (from Monday) or `month`, in the server's timezone.
    #[param(pattern = "^(all|week|month)$")]
    pub period: Option<String>,
    /// 1–100, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankingEntry {
    pub rank: u64,
    pub user_id: i64,
    pub nickname: String,
    pub profile_image: Option<String>,
    pub completed_count: i64,
    pub total_score: i64,
}

impl From<Entry> for RankingEntry {
    fn from(e: Entry) -> Self {
        Self {
            rank: e.ranked.rank,
            user_id: e.profile.id,
            nickname: e.profile.nickname,
            profile_image: e.profile.profile_image,
            completed_count: e.ranked.standing.completed,
            total_score: e.ranked.standing.score,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankingPage {
    pub period: String,
    pub entries: Vec<RankingEntry>,
    /// The caller's own entry (also when outside the top); `null` when anonymous or unranked.
    pub me: Option<RankingEntry>,
}

/// A ranking board: score, then completed challenges, then who reached the score first.
#[utoipa::path(get, path = "/api/rankings", tag = "rankings", params(RankingParams), responses((status = 200, body = RankingPage), (status = 400, body = ErrorBody)))]
pub async fn rankings(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiQuery(params): ApiQuery<RankingParams>,
) -> AppResult<Response> {
    let period = match params.period.as_deref() {
        None => Period::All,
        Some(p) => Period::parse(p).ok_or(Invalid::new(
            "period",
            Reason::Format {
                expected: "all|week|month",
            },
        ))?,
    };
    let limit = match params.limit.as_deref() {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or(Invalid::new("limit", Reason::Range { min: 1, max: 100 }))?,
    };
    let entries = state
        .ranking
        .top_json(period, limit, RankingEntry::from)
        .await?;
    let me = match &viewer {
        Some(user) => state
            .ranking
            .position(period, user.id)
            .await?
            .map(RankingEntry::from),
        None => None,
    };
    // The entries are shared, pre-serialized JSON; the page is assembled around them.
    let me = serde_json::to_string(&me).map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let body = format!(
        r#"{{"period":"{}","entries":{entries},"me":{me}}}"#,
        period.as_str()
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
