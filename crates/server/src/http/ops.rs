//! Liveness, readiness and metrics for operators and load balancers.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};

use super::dto::HealthDto;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = HealthDto)))]
pub async fn healthz() -> Json<HealthDto> {
    Json(HealthDto {
        status: "ok",
        database: None,
    })
}

/// Ready to serve: the database answers within two seconds.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = HealthDto), (status = 503, body = HealthDto)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database_ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(HealthDto {
            status: word(database_ok),
            database: Some(word(database_ok)),
        }),
    )
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
