//! Image uploads (`POST /api/uploads`) and serving them (`GET /api/files/{key}`). What an
//! upload must be and how it is stripped lives in [`crate::files`]; here the multipart body is
//! read, with the file's size checked exactly, and results become responses.

use axum::{
    Json,
    body::Body,
    extract::{
        Multipart, Path, State,
        multipart::{MultipartError, MultipartRejection},
        rejection::PathRejection,
    },
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};
use serde::Serialize;
use ssgwan_domain::{Invalid, Reason};
use utoipa::ToSchema;

use super::extract::CurrentUser;
use crate::{
    error::{AppError, AppResult, ErrorBody},
    files::{FileKey, MAX_UPLOAD_BYTES, UploadError},
    state::AppState,
};

/// The upload route's body limit: the largest file plus room for the multipart framing.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// A stored upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadDto {
    /// The stored file's name: hex SHA-256 of its bytes and the extension.
    #[schema(pattern = "^[0-9a-f]{64}\\.(png|jpg|webp)$")]
    pub key: String,
    /// Where it is served; usable as a profile image or challenge thumbnail.
    #[schema(
        example = "/api/files/3fa0c6b1e2d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9c0.webp"
    )]
    pub url: String,
}

/// The multipart form of an upload (documentation only: the handler reads the parts itself).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart body in the OpenAPI document"
)]
pub struct UploadForm {
    /// A PNG, JPEG or WebP image (judged from its bytes), at most 10 MiB, 10,000 pixels a side
    /// and 40 megapixels. Metadata is removed.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored image's bytes (documentation only).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "describes file responses in the OpenAPI document")]
pub struct ImageFile(Vec<u8>);

/// Uploads an image: PNG, JPEG or WebP only (judged from the bytes), at most 10 MiB, 10,000
/// pixels a side and 40 megapixels. It is re-encoded without metadata and stored under the
/// SHA-256 of the result, so the same upload always gets the same key. The upload is recorded
/// as the caller's: only the caller may then use its URL as their profile image or a
/// thumbnail. Each user may upload a limited number of files and bytes per day (429
/// `UPLOAD_QUOTA_EXCEEDED`); a file no profile or challenge uses is deleted after a grace period.
#[utoipa::path(
    post, path = "/api/uploads", tag = "files",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = UploadDto),
        (status = 400, description = "No `file` part, or an image that does not decode or is too large in pixels (`VALIDATION_FAILED`, field `file`)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "The file is larger than 10 MiB (`PAYLOAD_TOO_LARGE`)", body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG or WebP image, or not multipart/form-data (`UNSUPPORTED_MEDIA_TYPE`)", body = ErrorBody),
        (status = 429, description = "Today's upload quota is used up (`UPLOAD_QUOTA_EXCEEDED`), or too many requests (`RATE_LIMITED`)", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    current: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<(StatusCode, Json<UploadDto>)> {
    let result = match multipart {
        Ok(multipart) => store_upload(&state, current.user.id, multipart).await,
        Err(_) => Err(AppError::UnsupportedUpload),
    };
    let outcome = match &result {
        Ok(_) => "stored",
        Err(AppError::Conflict(ssgwan_store::Conflict::UploadQuotaExceeded)) => "over_quota",
        Err(AppError::UnsupportedUpload) => "unsupported",
        Err(AppError::PayloadTooLarge) => "too_large",
        Err(AppError::Internal(_)) => "failed",
        Err(_) => "invalid",
    };
    metrics::counter!("ssgwan_uploads_total", "outcome" => outcome).increment(1);
    let key = result?;
    Ok((
        StatusCode::CREATED,
        Json(UploadDto {
            url: key.url(),
            key: key.as_str().to_owned(),
        }),
    ))
}

async fn store_upload(state: &AppState, user_id: i64, multipart: Multipart) -> AppResult<FileKey> {
    let quota = state.settings.upload_quota;
    let since = state.start_of_today();
    // A user over quota is refused before the decode costs anything; the count that decides is
    // taken again, under a lock, when the upload is recorded.
    let used = state.store.upload_usage(user_id, since).await?;
    if !quota.allows(used, 0) {
        return Err(ssgwan_store::StoreError::Conflict(
            ssgwan_store::Conflict::UploadQuotaExceeded,
        )
        .into());
    }
    let file = read_file_part(multipart).await?;
    let image = state
        .files
        .prepare_image(file)
        .await
        .map_err(upload_error)?;
    // Recorded before it is stored: a stored file always has its record, so the sweep never
    // takes a file for unused while its upload is in flight.
    state
        .store
        .record_upload(
            user_id,
            image.key.as_str(),
            image.size(),
            state.now(),
            since,
            quota,
        )
        .await?;
    state.files.put(&image).await.map_err(upload_error)?;
    Ok(image.key)
}

fn upload_error(err: UploadError) -> AppError {
    {
        match err {
            UploadError::Unsupported => AppError::UnsupportedUpload,
            UploadError::Undecodable(_) => Invalid::new(
                "file",
                Reason::Format {
                    expected: "a complete PNG, JPEG or WebP image",
                },
            )
            .into(),
            UploadError::TooManyPixels(_) => Invalid::new(
                "file",
                Reason::Format {
                    expected: "an image of at most 10,000 pixels a side and 40 megapixels",
                },
            )
            .into(),
            UploadError::Failed(err) => AppError::Internal(err),
        }
    }
}

/// The bytes of the `file` part (other parts are skipped), refused past [`MAX_UPLOAD_BYTES`].
async fn read_file_part(mut multipart: Multipart) -> AppResult<Bytes> {
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut file = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if file.len() + chunk.len() > MAX_UPLOAD_BYTES {
                return Err(AppError::PayloadTooLarge);
            }
            file.extend_from_slice(&chunk);
        }
        if file.is_empty() {
            break;
        }
        return Ok(file.freeze());
    }
    Err(Invalid::new("file", Reason::Required).into())
}

/// A body that breaks off or is not valid multipart; past the route's body limit it is 413.
fn malformed(err: MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadValue {
            field: "file".into(),
            expected: "a multipart/form-data body with a file part",
        }
    }
}

/// Serves an uploaded file from the configured store, cacheable forever (a key names its
/// content). `HEAD` asks the store for the size only.
#[utoipa::path(
    get, path = "/api/files/{key}", tag = "files",
    params(("key" = String, Path, pattern = "^[0-9a-f]{64}\\.(png|jpg|webp)$", description = "A key returned by POST /api/uploads")),
    responses(
        (status = 200, description = "The image", content(
            (ImageFile = "image/png"),
            (ImageFile = "image/jpeg"),
            (ImageFile = "image/webp"),
        )),
        (status = 404, description = "No such file (`NOT_FOUND`)", body = ErrorBody),
    ),
    security(())
)]
pub async fn file(
    State(state): State<AppState>,
    method: Method,
    key: Result<Path<String>, PathRejection>,
) -> AppResult<Response> {
    let key = key
        .ok()
        .and_then(|Path(key)| FileKey::parse(&key))
        .ok_or(AppError::NotFound)?;
    let (size, body) = if method == Method::HEAD {
        let size = state.files.size(&key).await?.ok_or(AppError::NotFound)?;
        (size, Body::empty())
    } else {
        let found = state.files.get(&key).await?.ok_or(AppError::NotFound)?;
        (found.size, Body::from_stream(found.body))
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(key.kind().content_type()),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
