//! Extractors of our own, so that every malformed request gets our error shape: a JSON body
//! (content type, size, syntax, and the field a type error is in), path ids, query strings,
//! and (from `crate::identity`, shared with the WebSocket gateway) the signed-in user.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::AppError;
pub use crate::identity::{CurrentUser, MaybeUser};

/// A JSON body parsed into `T`; only `application/json` (optionally with parameters) accepted.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::MalformedJson(e.body_text())
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, telling syntax errors (`MALFORMED_JSON`) from values of the wrong type
/// (`VALIDATION_FAILED` naming the field).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Syntax first, so a truncated body is MALFORMED_JSON even when its start has the wrong shape.
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| AppError::MalformedJson(e.to_string()))?;
    // Every body of this API is an object; serde would otherwise read a struct from an array.
    if !value.is_object() {
        return Err(AppError::BadValue {
            field: "body".into(),
            expected: "a JSON object",
        });
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => AppError::BadValue {
                field: path,
                expected: "a value of the documented type",
            },
            serde_json::error::Category::Data => AppError::BadValue {
                field: unknown_field(&inner.to_string()).unwrap_or_else(|| "body".into()),
                expected: "the documented fields",
            },
            _ => AppError::MalformedJson(inner.to_string()),
        }
    })
}

/// The field serde complained about at the top level ("unknown field `x`", "missing field `y`").
fn unknown_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// A numeric id from the path (`/api/challenges/{id}`).
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(PathId)
            .ok_or(AppError::BadValue {
                field: "id".into(),
                expected: "a positive integer id",
            })
    }
}

/// A query string parsed into `T` (whose fields are strings we validate ourselves).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| AppError::BadValue {
                field: unknown_field(&e.body_text()).unwrap_or_else(|| "query".into()),
                expected: "the documented query parameters",
            })
    }
}
