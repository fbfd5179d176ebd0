//! Sign-in and sign-out: Kakao's authorization-code flow, the development login, logout.

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use jiff::SignedDuration;
use serde::Deserialize;
use ssgwan_domain::user;
use ssgwan_store::{Conflict, NewUser, StoreError, User, UserUpdate};

use super::{
    dto::{DevLoginRequest, LoginResponse, ProvidersDto},
    extract::ApiJson,
};
use crate::{
    auth::{
        OAUTH_STATE_COOKIE, SESSION_COOKIE, SessionKey, cookie, hash_token, new_token,
        request_token, set_cookie,
    },
    error::{AppError, AppResult, ErrorBody},
    state::AppState,
};

/// How long a started Kakao login may take before its state expires.
const OAUTH_STATE_TTL: SignedDuration = SignedDuration::from_mins(10);

/// Starts a session for `user_id`: the token for bearer use and the cookie for browsers.
async fn start_session(state: &AppState, user_id: i64) -> AppResult<(String, HeaderMapWithCookie)> {
    let now = state.now();
    // A suspended account signs in nowhere (`ACCOUNT_SUSPENDED`, with the end).
    crate::moderation::refuse_suspended(&*state.store, user_id, now).await?;
    let token = new_token();
    let expires_at = now
        .saturating_add(state.settings.session_ttl)
        .map_err(|e| AppError::Internal(e.into()))?;
    state
        .store
        .create_session(&hash_token(&token), user_id, now, expires_at)
        .await?;
    let cookie = set_cookie(
        SESSION_COOKIE,
        &token,
        "/",
        state.settings.session_ttl.as_secs(),
        state.settings.secure_cookies,
    );
    Ok((token, HeaderMapWithCookie(cookie)))
}

struct HeaderMapWithCookie(header::HeaderValue);

/// Which sign-in methods this server offers.
#[utoipa::path(get, path = "/api/auth/providers", tag = "auth", responses((status = 200, body = ProvidersDto)))]
pub async fn providers(State(state): State<AppState>) -> Json<ProvidersDto> {
    Json(ProvidersDto {
        kakao: state.kakao.is_some(),
        dev_login: state.settings.dev_login,
    })
}

/// Development login: signs in as the user with this nickname, creating it if new.
/// Answers 404 unless the server runs with `--dev-login`.
#[utoipa::path(
    post, path = "/api/auth/dev-login", tag = "auth", request_body = DevLoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; the session cookie is set as well"),
        (status = 400, body = ErrorBody), (status = 403, description = "`ACCOUNT_SUSPENDED`", body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)
    )
)]
pub async fn dev_login(
    State(state): State<AppState>,
    body: Result<ApiJson<DevLoginRequest>, AppError>,
) -> AppResult<Response> {
    if !state.settings.dev_login {
        return Err(AppError::NotFound);
    }
    let ApiJson(request) = body?;
    let nickname = user::nickname(&request.nickname)?;
    let found = match state.store.user_by_nickname(&nickname).await? {
        Some(user) => user,
        None => match state
            .store
            .create_user(
                NewUser {
                    kakao_id: None,
                    nickname: nickname.clone(),
                    profile_image: None,
                },
                state.now(),
            )
            .await
        {
            Ok(user) => user,
            // Someone took the name between our look-up and insert: sign in as them, like the look-up would have.
            Err(StoreError::Conflict(Conflict::NicknameTaken)) => state
                .store
                .user_by_nickname(&nickname)
                .await?
                .ok_or(AppError::Conflict(Conflict::NicknameTaken))?,
            Err(other) => return Err(other.into()),
        },
    };
    let (token, cookie) = start_session(&state, found.id).await?;
    tracing::info!(user_id = found.id, "dev login");
    Ok((
        [(header::SET_COOKIE, cookie.0)],
        Json(LoginResponse {
            token,
            user: found.into(),
        }),
    )
        .into_response())
}

/// Ends the caller's session (if any) and clears the cookie. Always 204.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if let Some(token) = request_token(&headers) {
        let session = SessionKey::of(&token);
        let token_hash = session.hex();
        let user = state.store.session_user(&token_hash, state.now()).await?;
        state.store.delete_session(&token_hash).await?;
        state.session_cache.remove(&session);
        // The sockets opened with this session close (the user's other sessions keep theirs).
        if let Some((user, _expires)) = user {
            state.sockets.sign_out(user.id, &token_hash).await;
        }
    }
    let clear = set_cookie(SESSION_COOKIE, "", "/", 0, state.settings.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// Starts Kakao login: a random single-use `state`, kept hashed on the server and in a
/// short-lived HttpOnly cookie that binds it to this browser, then a redirect to Kakao.
#[utoipa::path(get, path = "/api/auth/kakao", tag = "auth", responses((status = 302, description = "To Kakao's consent page, or to /login?error=kakao_unavailable")))]
pub async fn kakao_start(State(state): State<AppState>) -> AppResult<Response> {
    let Some(kakao) = state.kakao.clone() else {
        return Ok(found("/login?error=kakao_unavailable"));
    };
    let oauth_state = new_token();
    let expires_at = state
        .now()
        .saturating_add(OAUTH_STATE_TTL)
        .map_err(|e| AppError::Internal(e.into()))?;
    state
        .store
        .save_oauth_state(&hash_token(&oauth_state), expires_at)
        .await?;
    let cookie = set_cookie(
        OAUTH_STATE_COOKIE,
        &oauth_state,
        "/api/auth/kakao",
        OAUTH_STATE_TTL.as_secs(),
        state.settings.secure_cookies,
    );
    let target = kakao.authorize_url(oauth_state);
    let mut response = found(target.as_str());
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where Kakao sends the browser back. Every failure ends at `/login?error=<code>` with no session.
#[utoipa::path(get, path = "/api/auth/kakao/callback", tag = "auth", params(CallbackParams), responses((status = 302, description = "To / when signed in, else /login?error=…")))]
pub async fn kakao_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<CallbackParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let clear_state = set_cookie(
        OAUTH_STATE_COOKIE,
        "",
        "/api/auth/kakao",
        0,
        state.settings.secure_cookies,
    );
    let fail = |code: &str| {
        metrics::counter!("ssgwan_logins_total", "method" => "kakao", "outcome" => code.to_owned())
            .increment(1);
        let mut response = found(&format!("/login?error={code}"));
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear_state.clone());
        response
    };
    let Ok(Query(params)) = params else {
        return fail("invalid_request");
    };
    let Some(kakao) = state.kakao.clone() else {
        return fail("kakao_unavailable");
    };

    // The state must match this browser's cookie and be consumed exactly once on the server.
    let cookie_state = cookie(&headers, OAUTH_STATE_COOKIE);
    let state_ok = match (&params.state, &cookie_state) {
        (Some(given), Some(expected))
            if given.len() == expected.len()
                && constant_time_eq(given.as_bytes(), expected.as_bytes()) =>
        {
            matches!(
                state
                    .store
                    .take_oauth_state(&hash_token(given), state.now())
                    .await,
                Ok(true)
            )
        }
        _ => false,
    };
    if !state_ok {
        return fail("invalid_state");
    }
    if params.error.is_some() {
        return fail("access_denied");
    }
    let Some(code) = params.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return fail("invalid_request");
    };
    let profile = match kakao.login(code).await {
        Ok(profile) => profile,
        Err(err) => {
            tracing::warn!(error = %err, "kakao login failed");
            return fail("kakao_failed");
        }
    };
    let user = match upsert_kakao_user(
        &state,
        profile.id,
        &profile.nickname(),
        profile.profile_image(),
    )
    .await
    {
        Ok(user) => user,
        Err(err) => {
            tracing::error!(error = %err, "storing kakao user failed");
            return fail("server_error");
        }
    };
    match start_session(&state, user.id).await {
        Ok((_token, cookie)) => {
            metrics::counter!("ssgwan_logins_total", "method" => "kakao", "outcome" => "ok")
                .increment(1);
            tracing::info!(user_id = user.id, "kakao login");
            let mut response = found("/");
            response.headers_mut().append(header::SET_COOKIE, cookie.0);
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear_state);
            response
        }
        Err(AppError::Safety(_)) => fail("account_suspended"),
        Err(_) => fail("server_error"),
    }
}

/// Finds the user by Kakao id or creates one with the Kakao nickname, made unique if taken.
async fn upsert_kakao_user(
    state: &AppState,
    kakao_id: i64,
    nickname: &str,
    image: Option<String>,
) -> AppResult<User> {
    if let Some(existing) = state.store.user_by_kakao_id(kakao_id).await? {
        // Keep what the user chose; fill in Kakao's picture only where they have none.
        if existing.profile_image.is_none() && image.is_some() {
            return Ok(state
                .store
                .update_user(
                    existing.id,
                    UserUpdate {
                        profile_image: Some(image),
                        ..Default::default()
                    },
                    state.now(),
                )
                .await?);
        }
        return Ok(existing);
    }
    for attempt in 0..20u32 {
        let candidate = user::nickname_candidate(
            nickname,
            if attempt < 10 {
                attempt
            } else {
                rand::random::<u32>() % 1_000_000
            },
        );
        match state
            .store
            .create_user(
                NewUser {
                    kakao_id: Some(kakao_id),
                    nickname: candidate,
                    profile_image: image.clone(),
                },
                state.now(),
            )
            .await
        {
            Ok(user) => return Ok(user),
            Err(StoreError::Conflict(Conflict::NicknameTaken)) => {
                // The same Kakao account signing in twice at once also lands here.
                if let Some(existing) = state.store.user_by_kakao_id(kakao_id).await? {
                    return Ok(existing);
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(AppError::Conflict(Conflict::NicknameTaken))
}

/// `302 Found`, the classic OAuth redirect (axum's `Redirect::to` answers 303).
fn found(location: &str) -> Response {
    match header::HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => AppError::Internal(anyhow::anyhow!("unencodable redirect")).into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
