//! Challenges: create, read, search, edit and delete; join and cancel; participants; the
//! creator's notice.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use ssgwan_domain::{
    Category, ChallengeDraft, ChallengeStatus, Invalid, Reason, participation::edit_refusal,
};
use ssgwan_realtime::Revocation;
use ssgwan_store::{
    ChallengeCursor, ChallengeQuery, ChallengeRecord, ChallengeSort, Conflict, CreationLimit,
    MyChallengesState, StoreError,
};

use super::{
    dto::{
        ChallengeDto, ChallengeInput, ChallengeList, ChallengePage, ListParams, MyChallengesParams,
        NoticeRequest, ParticipantDto, ParticipantList,
    },
    extract::{ApiJson, ApiQuery, CurrentUser, MaybeUser, PathId},
};
use crate::{
    delivery,
    error::{AppError, AppResult, ErrorBody},
    events::DomainEvent,
    state::AppState,
    wire::ServerFrame,
};

pub(super) async fn load(
    state: &AppState,
    id: i64,
    viewer: Option<i64>,
) -> AppResult<ChallengeRecord> {
    state
        .store
        .challenge(id, viewer)
        .await?
        .ok_or(AppError::ChallengeNotFound)
}

/// A thumbnail that is not one of the creator's uploads, named by its field.
fn thumbnail_error(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(Conflict::UploadNotOwned) => {
            AppError::UnknownUpload { field: "thumbnail" }
        }
        other => other.into(),
    }
}

/// Creates a challenge; the creator joins it at once. The thumbnail must be one of the
/// creator's own uploads (400 `UPLOAD_NOT_FOUND`). Each user may create a limited number of
/// challenges per day in the server's timezone (429 `CHALLENGE_LIMIT_REACHED`).
#[utoipa::path(
    post, path = "/api/challenges", tag = "challenges", request_body = ChallengeInput,
    responses((status = 201, body = ChallengeDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, description = "Today's challenge creations are used up (`CHALLENGE_LIMIT_REACHED`), or too many requests (`RATE_LIMITED`)", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(input): ApiJson<ChallengeInput>,
) -> AppResult<impl IntoResponse> {
    let now = state.now();
    let spec = ChallengeDraft::from(input).validate(now)?;
    let joined_on = spec.schedule.local_date(now);
    let settings = &state.settings;
    let max = ssgwan_domain::moderation::daily_challenge_limit(
        current.user.created_at,
        now,
        u32::try_from(settings.challenge_daily_limit).unwrap_or(u32::MAX),
        u32::try_from(settings.new_account_challenge_daily_limit).unwrap_or(u32::MAX),
    );
    let limit = CreationLimit {
        max: i64::from(max),
        day_start: state.start_of_today(),
    };
    let id = state
        .store
        .create_challenge(current.user.id, &spec, joined_on, now, limit)
        .await
        .map_err(thumbnail_error)?;
    let record = load(&state, id, Some(current.user.id)).await?;
    tracing::info!(
        challenge_id = id,
        user_id = current.user.id,
        "challenge created"
    );
    Ok((StatusCode::CREATED, Json(ChallengeDto::new(record, now))))
}

/// Searches and lists challenges, a page at a time.
#[utoipa::path(
    get, path = "/api/challenges", tag = "challenges", params(ListParams),
    responses((status = 200, body = ChallengePage), (status = 400, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Json<ChallengePage>> {
    let query = list_query(&params)?;
    let now = state.now();
    // One extra row tells whether another page exists without a COUNT query.
    let mut probe = query.clone();
    probe.limit += 1;
    let mut records = state
        .store
        .list_challenges(&probe, viewer.as_ref().map(|u| u.id), now)
        .await?;
    let has_more = records.len() as i64 > query.limit;
    records.truncate(query.limit as usize);
    let next_cursor = if has_more {
        records.last().map(|r| encode_cursor(r.cursor(query.sort)))
    } else {
        None
    };
    let items = records
        .into_iter()
        .map(|r| ChallengeDto::new(r, now))
        .collect();
    Ok(Json(ChallengePage { items, next_cursor }))
}

fn list_query(params: &ListParams) -> Result<ChallengeQuery, AppError> {
    let text = match params.q.as_deref() {
        Some(q) if q.chars().count() > 100 => {
            return Err(Invalid::new("q", Reason::Length { min: 0, max: 100 }).into());
        }
        Some(q) if !q.trim().is_empty() => Some(q.trim().to_lowercase()),
        _ => None,
    };
    let tag = match params.tag.as_deref() {
        None | Some("") => None,
        Some(t) => Some(ssgwan_domain::tag::tag("tag", t)?),
    };
    let category = params
        .category
        .as_deref()
        .map(|c| {
            Category::parse(c).ok_or(Invalid::new(
                "category",
                Reason::Format {
                    expected: "STUDY|WORKOUT|MORNING|READING|HOBBY|ETC",
                },
            ))
        })
        .transpose()?;
    let status = params
        .status
        .as_deref()
        .map(|s| {
            ChallengeStatus::parse(s).ok_or(Invalid::new(
                "status",
                Reason::Format {
                    expected: "RECRUITING|IN_PROGRESS|ENDED",
                },
            ))
        })
        .transpose()?;
    let sort = match params.sort.as_deref() {
        None | Some("new") => ChallengeSort::New,
        Some("popular") => ChallengeSort::Popular,
        Some("startingSoon") => ChallengeSort::StartingSoon,
        Some(_) => {
            return Err(Invalid::new(
                "sort",
                Reason::Format {
                    expected: "new|popular|startingSoon",
                },
            )
            .into());
        }
    };
    let limit = page_limit(params.limit.as_deref(), 20, 100)?;
    let after = page_cursor(params.cursor.as_deref())?;
    Ok(ChallengeQuery {
        text,
        tag,
        category,
        status,
        sort,
        limit,
        after,
    })
}

/// A `limit` query value: `default` when absent, else 1..=`max`.
pub(super) fn page_limit(value: Option<&str>, default: i64, max: i64) -> Result<i64, Invalid> {
    match value {
        None => Ok(default),
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or(Invalid::new("limit", Reason::Range { min: 1, max })),
    }
}

/// A `cursor` query value, as [`encode_cursor`] made it.
pub(super) fn page_cursor(value: Option<&str>) -> Result<Option<ChallengeCursor>, Invalid> {
    value
        .map(|c| {
            decode_cursor(c).ok_or(Invalid::new(
                "cursor",
                Reason::Format {
                    expected: "the nextCursor of a previous page",
                },
            ))
        })
        .transpose()
}

/// Cursors are opaque to clients: `<key>.<id>`, the sort key and id of the last item seen.
/// A cursor from another sort is still a valid position, just not a meaningful one.
pub(super) fn encode_cursor(cursor: ChallengeCursor) -> String {
    format!("{}.{}", cursor.key, cursor.id)
}

fn decode_cursor(text: &str) -> Option<ChallengeCursor> {
    let (key, id) = text.split_once('.')?;
    let digits = |s: &str, signed: bool| {
        let body = if signed {
            s.strip_prefix('-').unwrap_or(s)
        } else {
            s
        };
        (1..=18).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit())
    };
    (digits(key, true) && digits(id, false))
        .then(|| {
            Some(ChallengeCursor {
                key: key.parse().ok()?,
                id: id.parse().ok()?,
            })
        })
        .flatten()
}

/// One challenge, with `joined` for the caller.
#[utoipa::path(
    get, path = "/api/challenges/{id}", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ChallengeDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    PathId(id): PathId,
) -> AppResult<Json<ChallengeDto>> {
    let record = load(&state, id, viewer.map(|u| u.id)).await?;
    Ok(Json(ChallengeDto::new(record, state.now())))
}

/// Edits a challenge: creator only, before it starts. Fields absent from the body stay as they are.
#[utoipa::path(
    patch, path = "/api/challenges/{id}", tag = "challenges", params(("id" = i64, Path, minimum = 1)), request_body = ChallengeInput,
    responses(
        (status = 200, body = ChallengeDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)
    )
)]
pub async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ChallengeInput>,
) -> AppResult<Json<ChallengeDto>> {
    let now = state.now();
    let record = load(&state, id, Some(current.user.id)).await?;
    if let Some(refusal) = edit_refusal(&record.facts(), current.user.id, now) {
        return Err(refusal.into());
    }
    let spec = record.spec.to_draft().overlay(input.into()).validate(now)?;
    // The database refuses a capacity below the places already held (409), also when a join
    // lands between our read and this write.
    state
        .store
        .update_challenge(id, &spec, now)
        .await
        .map_err(thumbnail_error)?;
    Ok(Json(ChallengeDto::new(
        load(&state, id, Some(current.user.id)).await?,
        now,
    )))
}

/// Sets or removes the notice: creator only, at any time (also after the start and the end,
/// unlike the other fields). Members of the live room get a `notice` frame when it changes.
#[utoipa::path(
    put, path = "/api/challenges/{id}/notice", tag = "challenges", params(("id" = i64, Path, minimum = 1)), request_body = NoticeRequest,
    responses(
        (status = 200, body = ChallengeDto, description = "The challenge with its new notice"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)
    )
)]
pub async fn set_notice(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    ApiJson(request): ApiJson<NoticeRequest>,
) -> AppResult<Json<ChallengeDto>> {
    let record = load(&state, id, Some(current.user.id)).await?;
    if record.creator.id != current.user.id {
        return Err(AppError::Forbidden);
    }
    let notice = ssgwan_domain::challenge::notice(request.notice.flatten().as_deref())?;
    let now = state.now();
    state.store.set_notice(id, notice.as_deref(), now).await?;
    if record.notice != notice {
        let frame = ServerFrame::Notice {
            room: id,
            notice: notice.clone(),
        };
        // The notice is stored either way; live delivery is best effort (clients also read
        // it from the challenge detail when they open the room).
        if let Err(err) = state.rooms.broadcast(id, frame.encode(), None).await {
            tracing::warn!(challenge_id = id, error = %err, "notice frame not delivered to every node");
        }
        let _ = state.events.send(DomainEvent::NoticeChanged {
            challenge_id: id,
            at: now,
        });
    }
    tracing::info!(challenge_id = id, user_id = current.user.id, "notice set");
    Ok(Json(ChallengeDto::new(
        load(&state, id, Some(current.user.id)).await?,
        now,
    )))
}

/// Deletes a challenge: creator only, before it starts.
#[utoipa::path(
    delete, path = "/api/challenges/{id}", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    let now = state.now();
    let record = load(&state, id, None).await?;
    if let Some(refusal) = edit_refusal(&record.facts(), current.user.id, now) {
        return Err(refusal.into());
    }
    // The database refuses too when the start passes between our read and this write.
    state.store.delete_challenge(id, now).await?;
    // The room closes for everyone in it.
    delivery::revoke_room(&*state.rooms, &state.media, id, None, Revocation::Deleted).await;
    tracing::info!(
        challenge_id = id,
        user_id = current.user.id,
        "challenge deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a challenge. Refused when it has ended, is full, or the caller already holds a place.
#[utoipa::path(
    post, path = "/api/challenges/{id}/participants", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 201, body = ChallengeDto, description = "Joined; the challenge as it is now"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn join(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> AppResult<impl IntoResponse> {
    let now = state.now();
    // The store answers with the challenge as the joiner now sees it (404 when there is none).
    let outcome = state.store.join_challenge(id, current.user.id, now).await;
    let label = match &outcome {
        Ok(_) => Some("won"),
        // No such challenge: not a join attempt.
        Err(ssgwan_store::StoreError::NotFound(_)) => None,
        Err(ssgwan_store::StoreError::Conflict(ssgwan_store::Conflict::ChallengeFull)) => {
            Some("full")
        }
        Err(ssgwan_store::StoreError::Conflict(_)) => Some("refused"),
        Err(_) => Some("error"),
    };
    if let Some(label) = label {
        metrics::counter!("ssgwan_joins_total", "outcome" => label).increment(1);
    }
    let challenge = outcome?;
    let _ = state.events.send(DomainEvent::MemberJoined {
        challenge_id: id,
        challenge_title: challenge.spec.title.clone(),
        creator_id: challenge.creator.id,
        user_id: current.user.id,
        nickname: current.user.nickname.clone(),
        at: now,
    });
    Ok((StatusCode::CREATED, Json(ChallengeDto::new(challenge, now))))
}

/// Gives the caller's place back; only before the challenge starts.
#[utoipa::path(
    delete, path = "/api/challenges/{id}/participants/me", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Cancelled"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn cancel(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    state
        .store
        .cancel_participation(id, current.user.id, state.now())
        .await?;
    delivery::revoke_room(
        &*state.rooms,
        &state.media,
        id,
        Some(current.user.id),
        Revocation::Cancelled,
    )
    .await;
    metrics::counter!("ssgwan_cancellations_total").increment(1);
    Ok(StatusCode::NO_CONTENT)
}

/// Everyone holding a place, with sessions achieved and scheduled so far.
#[utoipa::path(
    get, path = "/api/challenges/{id}/participants", tag = "challenges", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ParticipantList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn participants(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> AppResult<Json<ParticipantList>> {
    let record = load(&state, id, None).await?;
    let schedule = &record.spec.schedule;
    let today = schedule.local_date(state.now());
    let items = state
        .store
        .participants(id)
        .await?
        .into_iter()
        .map(|p| {
            let scheduled = schedule.count_sessions(p.joined_on, today);
            ParticipantDto::new(p, scheduled)
        })
        .collect();
    Ok(Json(ParticipantList { items }))
}

/// My page lists: challenges I am in (`active`), finished successfully (`completed`) or created.
#[utoipa::path(
    get, path = "/api/me/challenges", tag = "challenges", params(MyChallengesParams),
    responses((status = 200, body = ChallengeList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
pub async fn mine(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(params): ApiQuery<MyChallengesParams>,
) -> AppResult<Json<ChallengeList>> {
    let which = match params.state.as_deref() {
        None | Some("active") => MyChallengesState::Active,
        Some("completed") => MyChallengesState::Completed,
        Some("created") => MyChallengesState::Created,
        Some(_) => {
            return Err(Invalid::new(
                "state",
                Reason::Format {
                    expected: "active|completed|created",
                },
            )
            .into());
        }
    };
    let now = state.now();
    let items = state
        .store
        .my_challenges(current.user.id, which)
        .await?
        .into_iter()
        .map(|r| ChallengeDto::new(r, now))
        .collect();
    Ok(Json(ChallengeList { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let cursor = ChallengeCursor { key: -5, id: 42 };
        assert_eq!(decode_cursor(&encode_cursor(cursor)), Some(cursor));
        for junk in [
            "",
            "1",
            "1.",
            ".1",
            "a.b",
            "1.-2",
            "1.2.3",
            "1234567890123456789.1",
            "+1.2",
            "1.2 ",
        ] {
            assert_eq!(decode_cursor(junk), None, "{junk}");
        }
    }
}
