//! Statistics: a user's totals and streaks, per-day series for a week or a month, and a
//! challenge's daily attendance rate. (The two `/stats/user` paths are the original's own.)

use std::collections::{BTreeMap, BTreeSet};

use axum::{Json, extract::State};
use jiff::{ToSpan, civil::Date};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{
    Invalid, Reason,
    attendance::ParticipantSchedule,
    schedule::parse_date,
    stats::{SessionTime, challenge_daily_rates, daily_series, percent, streaks},
};
use ssgwan_store::ParticipantStatus;
use utoipa::ToSchema;

use super::extract::{ApiQuery, PathId};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserStats {
    /// Challenges joined, not counting cancelled places.
    pub total_challenges: i64,
    pub completed_challenges: i64,
    /// Completed ÷ finished (completed or failed) challenges, percent with one decimal.
    pub completion_rate: f64,
    /// Consecutive days up to today (or yesterday, if today has none yet) with an achieved session.
    pub current_streak: i64,
    pub longest_streak: i64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayStats {
    #[schema(format = Date)]
    pub date: String,
    pub achieved_sessions: i64,
    pub scheduled_sessions: i64,
    /// Whole minutes on camera inside session windows.
    pub minutes: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeekParams {
    /// First of the seven days; default: this week's Monday.
    #[param(format = Date)]
    #[serde(rename = "startDate")]
    pub start_date: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    /// `YYYY-MM`; default: this month.
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

async fn existing_user(state: &AppState, id: i64) -> AppResult<()> {
    state
        .store
        .user(id)
        .await?
        .map(|_| ())
        .ok_or(AppError::UserNotFound)
}

/// A user's totals, completion rate and streaks.
#[utoipa::path(get, path = "/api/challenges/stats/user/{userId}", tag = "statistics", params(("userId" = i64, Path, minimum = 1)), responses((status = 200, body = UserStats), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn user_stats(
    State(state): State<AppState>,
    PathId(user): PathId,
) -> AppResult<Json<UserStats>> {
    existing_user(&state, user).await?;
    let participations = state.store.participations(user).await?;
    let completed = participations
        .iter()
        .filter(|p| p.status == ParticipantStatus::Completed)
        .count() as i64;
    let finished = participations
        .iter()
        .filter(|p| {
            matches!(
                p.status,
                ParticipantStatus::Completed | ParticipantStatus::Failed
            )
        })
        .count() as i64;
    let days: BTreeSet<Date> = state
        .store
        .achieved_sessions(user)
        .await?
        .into_iter()
        .filter_map(|a| a.achieved_at)
        .map(|at| state.calendar.day_of(at))
        .collect();
    let (current_streak, longest_streak) = streaks(&days, state.calendar.today());
    Ok(Json(UserStats {
        total_challenges: participations.len() as i64,
        completed_challenges: completed,
        completion_rate: percent(completed, finished),
        current_streak,
        longest_streak,
    }))
}

/// Per-day achieved and scheduled sessions and minutes on camera, zero-filled.
async fn series(state: &AppState, user: i64, from: Date, count: usize) -> AppResult<Vec<DayStats>> {
    let until = from
        .checked_add((count as i64 - 1).days())
        .map_err(|_| Invalid::new("startDate", Reason::Format { expected: "a date" }))?;
    let attendance = state.store.user_attendance(user, from, until).await?;
    let participations = state.store.participations(user).await?;
    let series = daily_series(
        from,
        count,
        attendance.iter().map(|record| SessionTime {
            date: record.date,
            seconds: record.seconds,
            achieved: record.achieved_at.is_some(),
        }),
        participations
            .iter()
            .map(|p| ParticipantSchedule::new(&p.challenge.spec.schedule, p.joined_at)),
    );
    Ok(series
        .into_iter()
        .map(|(date, day)| DayStats {
            date: date.to_string(),
            achieved_sessions: day.achieved_sessions,
            scheduled_sessions: day.scheduled_sessions,
            minutes: day.minutes,
        })
        .collect())
}

/// Seven consecutive days from `startDate`.
#[utoipa::path(get, path = "/api/challenges/stats/user/{userId}/weekly", tag = "statistics", params(("userId" = i64, Path, minimum = 1), WeekParams), responses((status = 200, body = [DayStats]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn weekly(
    State(state): State<AppState>,
    PathId(user): PathId,
    ApiQuery(params): ApiQuery<WeekParams>,
) -> AppResult<Json<Vec<DayStats>>> {
    let from = match params.start_date.as_deref() {
        None => ssgwan_domain::stats::Period::Week
            .start(state.calendar.today())
            .unwrap_or_else(|| state.calendar.today()),
        Some(d) => parse_date(d).ok_or(Invalid::new(
            "startDate",
            Reason::Format {
                expected: "YYYY-MM-DD",
            },
        ))?,
    };
    existing_user(&state, user).await?;
    Ok(Json(series(&state, user, from, 7).await?))
}

/// Every day of a month, for a heat map.
#[utoipa::path(get, path = "/api/challenges/stats/user/{userId}/monthly", tag = "statistics", params(("userId" = i64, Path, minimum = 1), MonthParams), responses((status = 200, body = [DayStats]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn monthly(
    State(state): State<AppState>,
    PathId(user): PathId,
    ApiQuery(params): ApiQuery<MonthParams>,
) -> AppResult<Json<Vec<DayStats>>> {
    let first = match params.month.as_deref() {
        None => state.calendar.today().first_of_month(),
        Some(m) => parse_date(&format!("{m}-01"))
            .filter(|_| m.len() == 7)
            .ok_or(Invalid::new(
                "month",
                Reason::Format {
                    expected: "YYYY-MM",
                },
            ))?,
    };
    existing_user(&state, user).await?;
    Ok(Json(
        series(
            &state,
            user,
            first,
            usize::from(first.days_in_month().unsigned_abs()),
        )
        .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeDay {
    #[schema(format = Date)]
    pub date: String,
    /// Participants for whom this session was scheduled.
    pub scheduled: i64,
    pub achieved: i64,
    /// Achieved ÷ scheduled, percent with one decimal.
    pub rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeStats {
    /// Each session day so far, oldest first.
    pub days: Vec<ChallengeDay>,
}

/// The challenge's daily attendance rate, for each session day up to today.
#[utoipa::path(get, path = "/api/challenges/{id}/stats", tag = "statistics", params(("id" = i64, Path, minimum = 1)), responses((status = 200, body = ChallengeStats), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn challenge_stats(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> AppResult<Json<ChallengeStats>> {
    let challenge = state
        .store
        .challenge(id, None)
        .await?
        .ok_or(AppError::ChallengeNotFound)?;
    let schedule = &challenge.spec.schedule;
    let today = schedule.local_date(state.now());
    let participants = state.store.participants(id).await?;
    let achieved: BTreeMap<Date, i64> = state
        .store
        .challenge_achievements(id)
        .await?
        .into_iter()
        .collect();
    let joined_at: Vec<_> = participants.iter().map(|p| p.joined_at).collect();
    let days = challenge_daily_rates(schedule, today, &joined_at, &achieved)
        .into_iter()
        .map(|day| ChallengeDay {
            date: day.date.to_string(),
            scheduled: day.scheduled,
            achieved: day.achieved,
            rate: day.rate,
        })
        .collect();
    Ok(Json(ChallengeStats { days }))
}
