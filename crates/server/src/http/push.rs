//! Web Push subscriptions: the server's VAPID public key for `pushManager.subscribe`, and
//! storing or removing the browser's `PushSubscription`. Bad subscriptions (not https, keys of
//! the wrong size) and endpoints another user holds are refused and nothing is stored.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use ssgwan_domain::{Invalid, Reason};
use utoipa::ToSchema;

use super::extract::{ApiJson, CurrentUser};
use crate::{
    error::{AppError, AppResult, ErrorBody},
    push::{BadSubscription, check_subscription},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VapidPublicKey {
    /// The uncompressed P-256 public key, base64url: `applicationServerKey`.
    pub public_key: String,
}

/// The key browsers subscribe with.
#[utoipa::path(
    get, path = "/api/push/vapid-public-key", tag = "notifications", security(()),
    responses((status = 200, body = VapidPublicKey))
)]
pub async fn vapid_public_key(State(state): State<AppState>) -> Json<VapidPublicKey> {
    Json(VapidPublicKey {
        public_key: state.vapid_public_key.clone(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url (65 bytes decoded).
    #[schema(max_length = 100)]
    pub p256dh: String,
    /// The authentication secret, base64url (16 bytes decoded).
    #[schema(max_length = 40)]
    pub auth: String,
}

/// A browser's `PushSubscription.toJSON()`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionInput {
    /// The push service URL (https).
    #[schema(max_length = 700, pattern = "^https://")]
    pub endpoint: String,
    /// Ignored (browsers send it, usually `null`).
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    pub expiration_time: Option<serde_json::Value>,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    #[schema(max_length = 700)]
    pub endpoint: String,
}

fn refusal(bad: BadSubscription) -> AppError {
    let (field, expected) = match bad {
        BadSubscription::Endpoint => ("endpoint", "an https:// URL of at most 700 characters"),
        BadSubscription::P256dh => ("keys.p256dh", "a base64url P-256 public key (65 bytes)"),
        BadSubscription::Auth => ("keys.auth", "a base64url 16-byte secret"),
    };
    Invalid::new(field, Reason::Format { expected }).into()
}

/// Stores the browser's subscription for the caller (201), or renews its keys (200).
#[utoipa::path(
    post, path = "/api/me/push-subscriptions", tag = "notifications", request_body = SubscriptionInput,
    responses(
        (status = 201, description = "Subscribed"), (status = 200, description = "Already subscribed; keys renewed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)
    )
)]
pub async fn subscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(input): ApiJson<SubscriptionInput>,
) -> AppResult<StatusCode> {
    let _ = input.expiration_time;
    let (endpoint, p256dh, auth) = (
        input.endpoint.trim(),
        input.keys.p256dh.trim(),
        input.keys.auth.trim(),
    );
    check_subscription(endpoint, p256dh, auth, state.push_allow_loopback_http).map_err(refusal)?;
    let had = state
        .store
        .push_subscriptions(current.user.id)
        .await?
        .iter()
        .any(|s| s.endpoint == endpoint);
    if !state
        .store
        .save_push_subscription(current.user.id, endpoint, p256dh, auth, state.now())
        .await?
    {
        return Err(AppError::PushSubscriptionTaken);
    }
    Ok(if had {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    })
}

/// Removes the caller's subscription with this endpoint; 404 when they have none.
#[utoipa::path(
    delete, path = "/api/me/push-subscriptions", tag = "notifications", request_body = EndpointInput,
    responses(
        (status = 204, description = "Unsubscribed"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)
    )
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(input): ApiJson<EndpointInput>,
) -> AppResult<StatusCode> {
    if state
        .store
        .delete_push_subscription(current.user.id, input.endpoint.trim())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}
