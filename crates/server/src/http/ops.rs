//! Liveness, readiness and metrics for operators and load balancers.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::dto::HealthDto;
use crate::{error::AppError, state::AppState};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = HealthDto)))]
pub async fn healthz() -> Json<HealthDto> {
    Json(HealthDto {
        status: "ok",
        database: None,
        redis: None,
    })
}

/// Ready to serve: the database answers within two seconds, and so does Redis (its pub/sub
/// connection included) when the nodes share one.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = HealthDto), (status = 503, body = HealthDto)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let limit = Duration::from_secs(2);
    let database = async {
        matches!(
            tokio::time::timeout(limit, state.store.ping()).await,
            Ok(Ok(()))
        )
    };
    let redis = async {
        match &state.redis {
            None => None,
            Some(_) => Some(matches!(
                tokio::time::timeout(limit, state.rooms.ping()).await,
                Ok(Ok(()))
            )),
        }
    };
    let (database_ok, redis_ok) = tokio::join!(database, redis);
    let ready = database_ok && redis_ok != Some(false);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(HealthDto {
            status: word(ready),
            database: Some(word(database_ok)),
            redis: redis_ok.map(word),
        }),
    )
}

/// Prometheus text exposition; with `--metrics-token` set, only for `Authorization: Bearer
/// <token>`.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(("bearer" = []), ()), responses((status = 200, content_type = "text/plain", body = String), (status = 401, description = "A metrics token is configured and this request does not carry it")))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings.metrics_token
        && !bearer_matches(&headers, token)
    {
        return (
            [(header::WWW_AUTHENTICATE, "Bearer")],
            AppError::Unauthorized,
        )
            .into_response();
    }
    // The store counts its own statements (one relaxed add each) and the count is written
    // here, per server rather than through the process-wide recorder, so that several servers
    // in one process (tests) each report exactly their own.
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# HELP ssgwan_db_queries_total Statements sent to the database.\n\
         # TYPE ssgwan_db_queries_total counter\n\
         ssgwan_db_queries_total {}\n",
        state.store.round_trips()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Whether the request carries `token` as its bearer token. The digests are compared, so the
/// time taken says nothing about how much of the token was right.
fn bearer_matches(headers: &HeaderMap, token: &SecretString) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.expose_secret().as_bytes())
}
