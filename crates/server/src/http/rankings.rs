//! The ranking API: top of a board and the caller's own position, even outside the top, each
//! entry with the user's level (from the all-time score) and their last seven days' points.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{
    Invalid, Reason,
    stats::{Period, RECENT_DAYS},
};
use ssgwan_store::StoreResult;
use utoipa::ToSchema;

use super::{
    challenges::page_limit,
    extract::{ApiQuery, MaybeUser},
};
use crate::{
    error::{AppResult, ErrorBody},
    scoring::{Activity, Entry, Scoring},
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
    /// `full` (default) or `basic`: `basic` leaves out `level`, `nextLevelScore` and
    /// `recentScores` (for clients that show the table only; the benchmark compares the two).
    #[param(pattern = "^(full|basic)$")]
    pub fields: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankingEntry {
    pub rank: u64,
    pub user_id: i64,
    pub nickname: String,
    pub profile_image: Option<String>,
    pub completed_count: i64,
    /// Points in the board's period.
    pub total_score: i64,
    /// Level from the user's all-time score, whatever the board's period (level 1 at 0; from
    /// level L to L + 1 costs 100 + 20·(L − 1) points). Absent with `fields=basic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub level: Option<u32>,
    /// The all-time score at which the next level is reached. Absent with `fields=basic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_level_score: Option<i64>,
    /// Points earned on each of the last 7 days in the server's timezone, oldest first (today
    /// last), zero-filled. Absent with `fields=basic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<i64>>, min_items = 7, max_items = 7)]
    pub recent_scores: Option<[i64; RECENT_DAYS]>,
}

impl RankingEntry {
    /// The entry, with level and sparkline when `activity` is given.
    fn new(e: Entry, activity: Option<Activity>) -> Self {
        Self {
            rank: e.ranked.rank,
            user_id: e.profile.id,
            nickname: e.profile.nickname,
            profile_image: e.profile.profile_image,
            completed_count: e.ranked.standing.completed,
            total_score: e.ranked.standing.score,
            level: activity.map(|a| a.level()),
            next_level_score: activity.map(|a| a.next_level_score()),
            recent_scores: activity.map(|a| a.recent_scores),
        }
    }
}

/// Entries of a page; with `detailed`, levels and sparklines for all of them from one query.
async fn render(
    scoring: &Scoring,
    entries: Vec<Entry>,
    detailed: bool,
) -> StoreResult<Vec<RankingEntry>> {
    if !detailed {
        return Ok(entries
            .into_iter()
            .map(|e| RankingEntry::new(e, None))
            .collect());
    }
    let users: Vec<i64> = entries.iter().map(|e| e.profile.id).collect();
    let activity = scoring.activity(&users).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let of_user = activity.get(&e.profile.id).copied().unwrap_or_default();
            RankingEntry::new(e, Some(of_user))
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankingPage {
    pub period: String,
    pub entries: Vec<RankingEntry>,
    /// The caller's own entry (also when outside the top); `null` when anonymous or unranked.
    pub me: Option<RankingEntry>,
}

/// A ranking board: score, then completed challenges, then who reached the score first. Each
/// entry carries the user's level and 7-day sparkline unless `fields=basic`.
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
    // From 1 to 100, so the conversion cannot fail.
    let limit = usize::try_from(page_limit(params.limit.as_deref(), 100, 100)?).unwrap_or(100);
    let detailed = match params.fields.as_deref() {
        None | Some("full") => true,
        Some("basic") => false,
        Some(_) => {
            return Err(Invalid::new(
                "fields",
                Reason::Format {
                    expected: "full|basic",
                },
            )
            .into());
        }
    };
    let scoring = &state.scoring;
    let entries = scoring
        .top_json(period, limit, detailed, |entries| {
            render(scoring, entries, detailed)
        })
        .await?;
    let me = match &viewer {
        Some(user) => match scoring.position(period, user.id).await? {
            Some(entry) if detailed => {
                let activity = scoring.user_activity(user.id).await?;
                Some(RankingEntry::new(entry, Some(activity)))
            }
            Some(entry) => Some(RankingEntry::new(entry, None)),
            None => None,
        },
        None => None,
    };
    // The entries are shared, pre-serialized JSON; the page is assembled around them.
    let me = serde_json::to_string(&me).map_err(|e| crate::error::AppError::Internal(e.into()))?;
    // Sized once: the entries are most of the body (with levels and sparklines, ~20 KB).
    let mut body = String::with_capacity(entries.len() + me.len() + 48);
    body.push_str(r#"{"period":""#);
    body.push_str(period.as_str());
    body.push_str(r#"","entries":"#);
    body.push_str(&entries);
    body.push_str(r#","me":"#);
    body.push_str(&me);
    body.push('}');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
