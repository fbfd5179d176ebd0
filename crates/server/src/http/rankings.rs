//! The ranking API: top of a board and the caller's own position, even outside the top, each
//! entry with the user's level (from the all-time score) and their last seven days' points.

use axum::{
    body::Body,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
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
    scoring::{Activity, Entry, Scoring, TopPage},
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
    let page = scoring
        .top_page(
            period,
            limit,
            detailed,
            |entries| render(scoring, entries, detailed),
            |entries| frame(period, entries),
        )
        .await?;
    let Some(user) = &viewer else {
        // Anonymous: the shared bytes as they are.
        return Ok(json_response(Body::from(page.anonymous.clone())));
    };
    let me = scoring
        .me_tail(period, user.id, detailed, |entry| async move {
            Ok(if detailed {
                let activity = scoring.user_activity(user.id).await?;
                RankingEntry::new(entry, Some(activity))
            } else {
                RankingEntry::new(entry, None)
            })
        })
        .await?;
    Ok(json_response(Body::new(Spliced::new([
        page.before_me.clone(),
        me,
    ]))))
}

/// The page around its entries' JSON: `{"period":…,"entries":[…],"me":` then `null}` for an
/// anonymous reader (a signed-in read sends its own entry and `}` after `before_me`).
fn frame(period: Period, entries: &str) -> TopPage {
    let mut page = String::with_capacity(entries.len() + 48);
    page.push_str(r#"{"period":""#);
    page.push_str(period.as_str());
    page.push_str(r#"","entries":"#);
    page.push_str(entries);
    page.push_str(r#","me":"#);
    let before_me = Bytes::from(page.clone());
    page.push_str("null}");
    TopPage {
        before_me,
        anonymous: Bytes::from(page),
    }
}

fn json_response(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A body made of shared chunks sent one after the other without copying them together; its
/// exact length is known, so the response carries `Content-Length` as with a single buffer.
struct Spliced<const N: usize> {
    chunks: [Bytes; N],
    next: usize,
}

impl<const N: usize> Spliced<N> {
    fn new(chunks: [Bytes; N]) -> Self {
        Self { chunks, next: 0 }
    }

    fn remaining(&self) -> u64 {
        self.chunks[self.next.min(N)..]
            .iter()
            .map(|c| c.len() as u64)
            .sum()
    }
}

impl<const N: usize> http_body::Body for Spliced<N> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        while this.next < N {
            let chunk = std::mem::take(&mut this.chunks[this.next]);
            this.next += 1;
            if !chunk.is_empty() {
                return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(chunk))));
            }
        }
        std::task::Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining())
    }
}

#[cfg(test)]
mod tests {
    use http_body::Body as _;

    use super::*;

    #[test]
    fn a_spliced_body_sends_its_chunks_in_order_with_an_exact_length() {
        let mut body = Spliced::new([
            Bytes::from_static(b"{\"a\":"),
            Bytes::new(),
            Bytes::from_static(b"1}"),
        ]);
        assert_eq!(body.size_hint().exact(), Some(7));
        assert!(!body.is_end_stream());
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut sent = Vec::new();
        while let std::task::Poll::Ready(Some(frame)) =
            std::pin::Pin::new(&mut body).poll_frame(&mut cx)
        {
            let data = frame.expect("infallible").into_data().expect("data");
            sent.extend_from_slice(&data);
            assert_eq!(body.size_hint().exact(), Some(7 - sent.len() as u64));
        }
        assert_eq!(sent, b"{\"a\":1}");
        assert!(body.is_end_stream());
    }
}
