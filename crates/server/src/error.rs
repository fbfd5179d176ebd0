//! The one error type at the edge. Every variant has a stable `code`, a status and a message
//! in Korean and English; [`IntoResponse`] renders `{"code","message","field"?}` in the
//! request's language.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use ssgwan_domain::{Invalid, Reason, participation::Refusal};
use ssgwan_store::{Conflict, Entity, StoreError};
use utoipa::ToSchema;

use crate::i18n::Lang;

/// The error body of every failed request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `CHALLENGE_FULL`.
    pub code: &'static str,
    /// Human-readable message in the language of `Accept-Language` (Korean by default).
    pub message: String,
    /// The offending input field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// A cookie-signed change or WebSocket upgrade that did not come from an allowed origin.
    #[error("origin not allowed")]
    OriginNotAllowed,
    #[error("route not found")]
    NotFound,
    #[error("user not found")]
    UserNotFound,
    #[error("challenge not found")]
    ChallengeNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// An upload that is not a PNG, JPEG or WebP image in a `multipart/form-data` `file` part.
    #[error("unsupported upload")]
    UnsupportedUpload,
    #[error("payload too large")]
    PayloadTooLarge,
    /// An image reference (`field`) that names no upload of the caller's.
    #[error("{field} is not one of your uploads")]
    UnknownUpload { field: &'static str },
    #[error("invalid input: {0}")]
    Invalid(Invalid),
    /// A query, path or body value of the wrong type, named by its path (`capacity`, `limit`).
    #[error("invalid value for {field}")]
    BadValue {
        field: String,
        expected: &'static str,
    },
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A push subscription endpoint another user holds.
    #[error("push subscription taken")]
    PushSubscriptionTaken,
    #[error("rate limited")]
    RateLimited,
    #[error("upgrade required")]
    UpgradeRequired,
    /// A shared service (Redis) does not answer: the live features wait for it to return.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
    /// A moderation refusal (see the `moderation` module).
    #[error("refused: {0:?}")]
    Safety(crate::safety::SafetyError),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Forbidden => "FORBIDDEN",
            Self::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
            Self::NotFound => "NOT_FOUND",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::ChallengeNotFound => "CHALLENGE_NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::MalformedJson(_) => "MALFORMED_JSON",
            Self::UnsupportedMediaType | Self::UnsupportedUpload => "UNSUPPORTED_MEDIA_TYPE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnknownUpload { .. } => "UPLOAD_NOT_FOUND",
            Self::Invalid(_) | Self::BadValue { .. } => "VALIDATION_FAILED",
            Self::Conflict(c) => match c {
                Conflict::NicknameTaken => "NICKNAME_TAKEN",
                Conflict::ChallengeFull => "CHALLENGE_FULL",
                Conflict::ChallengeEnded => "CHALLENGE_ENDED",
                Conflict::AlreadyJoined => "ALREADY_JOINED",
                Conflict::NotParticipant => "NOT_PARTICIPANT",
                Conflict::CancellationNotAllowed => "CANCELLATION_NOT_ALLOWED",
                Conflict::CreatorCannotCancel => "CREATOR_CANNOT_CANCEL",
                Conflict::AlreadyStarted => "CHALLENGE_ALREADY_STARTED",
                Conflict::CapacityBelowParticipants => "CAPACITY_BELOW_PARTICIPANTS",
                Conflict::UploadNotOwned => "UPLOAD_NOT_FOUND",
                Conflict::UploadQuotaExceeded => "UPLOAD_QUOTA_EXCEEDED",
                Conflict::ChallengeLimitReached => "CHALLENGE_LIMIT_REACHED",
                Conflict::RemovedFromChallenge => "REMOVED_FROM_CHALLENGE",
                Conflict::CohostLimitReached => "COHOST_LIMIT_REACHED",
            },
            Self::Safety(err) => err.code(),
            Self::PushSubscriptionTaken => "PUSH_SUBSCRIPTION_TAKEN",
            Self::RateLimited => "RATE_LIMITED",
            Self::UpgradeRequired => "UPGRADE_REQUIRED",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::NotFound | Self::UserNotFound | Self::ChallengeNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedJson(_)
            | Self::Invalid(_)
            | Self::BadValue { .. }
            | Self::UnknownUpload { .. }
            | Self::Conflict(Conflict::UploadNotOwned) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType | Self::UnsupportedUpload => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(Conflict::NotParticipant) => StatusCode::NOT_FOUND,
            Self::Conflict(Conflict::RemovedFromChallenge) => StatusCode::FORBIDDEN,
            Self::Safety(err) => {
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::FORBIDDEN)
            }
            Self::Conflict(Conflict::UploadQuotaExceeded | Conflict::ChallengeLimitReached) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Conflict(_) | Self::PushSubscriptionTaken => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::UpgradeRequired => StatusCode::UPGRADE_REQUIRED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn field(&self) -> Option<String> {
        match self {
            Self::Invalid(invalid) => Some(invalid.field.to_owned()),
            Self::BadValue { field, .. } => Some(field.clone()),
            Self::Conflict(Conflict::CapacityBelowParticipants) => Some("capacity".to_owned()),
            Self::Conflict(Conflict::NicknameTaken) => Some("nickname".to_owned()),
            Self::UnsupportedUpload => Some("file".to_owned()),
            Self::PushSubscriptionTaken => Some("endpoint".to_owned()),
            Self::UnknownUpload { field } => Some((*field).to_owned()),
            _ => None,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let fixed = |ko: &'static str, en: &'static str| lang.pick(ko, en).to_owned();
        match self {
            Self::Unauthorized => fixed("로그인이 필요합니다.", "You need to sign in."),
            Self::Forbidden => fixed(
                "이 작업을 할 권한이 없습니다.",
                "You are not allowed to do that.",
            ),
            Self::OriginNotAllowed => fixed(
                "쓱관 페이지에서 보낸 요청이 아니어서 거절했습니다 (Origin이 허용되지 않음).",
                "Refused: this request did not come from Ssgwan's own pages (origin not allowed).",
            ),
            Self::NotFound => fixed(
                "요청한 주소를 찾을 수 없습니다.",
                "There is nothing at this address.",
            ),
            Self::UserNotFound => fixed("사용자를 찾을 수 없습니다.", "No such user."),
            Self::ChallengeNotFound => fixed("챌린지를 찾을 수 없습니다.", "No such challenge."),
            Self::MethodNotAllowed => fixed(
                "이 주소에서 허용되지 않는 요청 방식입니다.",
                "This method is not allowed at this address.",
            ),
            Self::MalformedJson(_) => fixed(
                "요청 본문이 올바른 JSON이 아닙니다.",
                "The request body is not valid JSON.",
            ),
            Self::UnsupportedMediaType => fixed(
                "요청 본문은 application/json 이어야 합니다.",
                "The request body must be application/json.",
            ),
            Self::UnsupportedUpload => fixed(
                "PNG, JPEG, WebP 이미지만 올릴 수 있습니다 (multipart/form-data의 file 항목).",
                "Upload a PNG, JPEG or WebP image as the file part of a multipart/form-data body.",
            ),
            Self::PayloadTooLarge => {
                fixed("요청 본문이 너무 큽니다.", "The request body is too large.")
            }
            Self::UnknownUpload { .. } | Self::Conflict(Conflict::UploadNotOwned) => fixed(
                "직접 올린 이미지만 쓸 수 있습니다. 이미지를 다시 올려 주세요.",
                "Only images you uploaded yourself can be used; please upload the image again.",
            ),
            Self::Invalid(invalid) => validation_message(invalid, lang),
            Self::BadValue { field, expected } => match lang {
                Lang::Ko => format!("{field} 값이 올바르지 않습니다 (필요한 형식: {expected})."),
                Lang::En => format!("{field} has an invalid value (expected {expected})."),
            },
            Self::Conflict(c) => match c {
                Conflict::NicknameTaken => fixed(
                    "이미 사용 중인 닉네임입니다.",
                    "That nickname is already taken.",
                ),
                Conflict::ChallengeFull => {
                    fixed("정원이 가득 찬 챌린지입니다.", "This challenge is full.")
                }
                Conflict::ChallengeEnded => {
                    fixed("이미 종료된 챌린지입니다.", "This challenge has ended.")
                }
                Conflict::AlreadyJoined => fixed(
                    "이미 참여 중인 챌린지입니다.",
                    "You have already joined this challenge.",
                ),
                Conflict::NotParticipant => fixed(
                    "참여 중인 챌린지가 아닙니다.",
                    "You have not joined this challenge.",
                ),
                Conflict::CancellationNotAllowed => fixed(
                    "시작된 챌린지는 참여를 취소할 수 없습니다.",
                    "You cannot cancel once the challenge has started.",
                ),
                Conflict::CreatorCannotCancel => fixed(
                    "개설자는 참여를 취소할 수 없습니다. 시작 전이라면 챌린지를 삭제할 수 있습니다.",
                    "The creator cannot cancel; delete the challenge before it starts instead.",
                ),
                Conflict::AlreadyStarted => fixed(
                    "시작된 챌린지는 수정하거나 삭제할 수 없습니다.",
                    "A challenge cannot be edited or deleted once it has started.",
                ),
                Conflict::CapacityBelowParticipants => fixed(
                    "정원은 현재 참여 인원보다 적을 수 없습니다.",
                    "Capacity cannot be lower than the number of participants.",
                ),
                Conflict::UploadNotOwned => fixed(
                    "직접 올린 이미지만 쓸 수 있습니다. 이미지를 다시 올려 주세요.",
                    "Only images you uploaded yourself can be used; please upload the image again.",
                ),
                Conflict::UploadQuotaExceeded => fixed(
                    "오늘 올릴 수 있는 이미지 한도를 다 썼습니다. 내일 다시 시도해 주세요.",
                    "You have reached today's upload limit; please try again tomorrow.",
                ),
                Conflict::ChallengeLimitReached => fixed(
                    "오늘 만들 수 있는 챌린지 수를 모두 채웠습니다. 내일 다시 만들어 주세요.",
                    "You have created as many challenges as a day allows; please try again tomorrow.",
                ),
                Conflict::RemovedFromChallenge => fixed(
                    "호스트가 이 챌린지에서 내보내서 다시 참여할 수 없습니다.",
                    "A host removed you from this challenge; you cannot join it again.",
                ),
                Conflict::CohostLimitReached => fixed(
                    "공동 호스트는 최대 3명까지 지정할 수 있습니다.",
                    "A challenge can have at most 3 co-hosts.",
                ),
            },
            Self::Safety(err) => err.message(lang),
            Self::Unavailable(_) => fixed(
                "실시간 기능이 잠시 멈췄습니다. 잠시 후 다시 시도해 주세요.",
                "Live features are briefly unavailable. Please try again in a moment.",
            ),
            Self::UpgradeRequired => fixed(
                "WebSocket 연결 요청이어야 합니다.",
                "This address takes WebSocket connections only.",
            ),
            Self::PushSubscriptionTaken => fixed(
                "이 브라우저의 알림 구독은 다른 계정에 연결되어 있습니다. 그 계정에서 먼저 알림을 끄세요.",
                "This browser's push subscription belongs to another account; turn notifications off there first.",
            ),
            Self::RateLimited => fixed(
                "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
                "Too many requests; please try again shortly.",
            ),
            Self::Internal(_) => fixed(
                "서버에서 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
                "Something went wrong on our side; please try again.",
            ),
        }
    }

    /// One error of every kind: the error registry (`tests/error_registry.rs`) derives the list
    /// of codes from it, checks it against the web app's and checks every code is produced by
    /// some test.
    pub fn examples() -> Vec<AppError> {
        use Conflict::*;
        let mut all = vec![
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::OriginNotAllowed,
            AppError::NotFound,
            AppError::UserNotFound,
            AppError::ChallengeNotFound,
            AppError::MethodNotAllowed,
            AppError::MalformedJson(String::new()),
            AppError::UnsupportedMediaType,
            AppError::UnsupportedUpload,
            AppError::PayloadTooLarge,
            AppError::UnknownUpload { field: "field" },
            AppError::Invalid(Invalid::new("field", Reason::Required)),
            AppError::BadValue {
                field: "field".into(),
                expected: "a number",
            },
            AppError::PushSubscriptionTaken,
            AppError::RateLimited,
            AppError::UpgradeRequired,
            AppError::Unavailable(String::new()),
            AppError::Internal(anyhow::anyhow!("example")),
        ];
        all.extend(
            [
                NicknameTaken,
                ChallengeFull,
                ChallengeEnded,
                AlreadyJoined,
                NotParticipant,
                CancellationNotAllowed,
                CreatorCannotCancel,
                AlreadyStarted,
                CapacityBelowParticipants,
                UploadNotOwned,
                UploadQuotaExceeded,
                ChallengeLimitReached,
                RemovedFromChallenge,
                CohostLimitReached,
            ]
            .map(AppError::Conflict),
        );
        all.extend(crate::safety::SafetyError::EXAMPLES.map(AppError::Safety));
        // A new variant does not compile here until it is added to the list above.
        for example in &all {
            match example {
                AppError::Unauthorized
                | AppError::Forbidden
                | AppError::OriginNotAllowed
                | AppError::NotFound
                | AppError::UserNotFound
                | AppError::ChallengeNotFound
                | AppError::MethodNotAllowed
                | AppError::MalformedJson(_)
                | AppError::UnsupportedMediaType
                | AppError::UnsupportedUpload
                | AppError::PayloadTooLarge
                | AppError::UnknownUpload { .. }
                | AppError::Invalid(_)
                | AppError::BadValue { .. }
                | AppError::PushSubscriptionTaken
                | AppError::RateLimited
                | AppError::UpgradeRequired
                | AppError::Unavailable(_)
                | AppError::Internal(_)
                | AppError::Safety(_)
                | AppError::Conflict(
                    NicknameTaken
                    | ChallengeFull
                    | ChallengeEnded
                    | AlreadyJoined
                    | NotParticipant
                    | CancellationNotAllowed
                    | CreatorCannotCancel
                    | AlreadyStarted
                    | CapacityBelowParticipants
                    | UploadNotOwned
                    | UploadQuotaExceeded
                    | ChallengeLimitReached
                    | RemovedFromChallenge
                    | CohostLimitReached,
                ) => {}
            }
        }
        all
    }

    /// The JSON body in the current request's language.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.message(Lang::current()),
            field: self.field(),
        }
    }
}

fn validation_message(invalid: &Invalid, lang: Lang) -> String {
    let f = invalid.field;
    match (lang, &invalid.reason) {
        (Lang::Ko, Reason::Required) => format!("{f} 값을 입력해 주세요."),
        (Lang::En, Reason::Required) => format!("{f} is required."),
        (Lang::Ko, Reason::Length { min, max }) => {
            format!("{f}은(는) {min}자 이상 {max}자 이하로 입력해 주세요.")
        }
        (Lang::En, Reason::Length { min, max }) => {
            format!("{f} must be {min} to {max} characters long.")
        }
        (Lang::Ko, Reason::Range { min, max }) => {
            format!("{f}은(는) {min} 이상 {max} 이하여야 합니다.")
        }
        (Lang::En, Reason::Range { min, max }) => format!("{f} must be between {min} and {max}."),
        (Lang::Ko, Reason::Format { expected }) => {
            format!("{f} 형식이 올바르지 않습니다 (필요한 형식: {expected}).")
        }
        (Lang::En, Reason::Format { expected }) => {
            format!("{f} is not in the right format (expected {expected}).")
        }
        (Lang::Ko, Reason::InPast) => format!("{f}은(는) 과거일 수 없습니다."),
        (Lang::En, Reason::InPast) => format!("{f} cannot be in the past."),
        (Lang::Ko, Reason::NotAfter { other }) => format!("{f}은(는) {other}보다 뒤여야 합니다."),
        (Lang::En, Reason::NotAfter { other }) => format!("{f} must come after {other}."),
        (Lang::Ko, Reason::TooFarAhead { max_days }) => {
            format!("{f}은(는) 오늘부터 {max_days}일 이내여야 합니다.")
        }
        (Lang::En, Reason::TooFarAhead { max_days }) => {
            format!("{f} must be within {max_days} days from today.")
        }
        (Lang::Ko, Reason::SpanTooLong { max_days }) => {
            format!("{f}: 기간은 최대 {max_days}일입니다.")
        }
        (Lang::En, Reason::SpanTooLong { max_days }) => {
            format!("{f}: a challenge lasts at most {max_days} days.")
        }
        (Lang::Ko, Reason::NoSessions) => {
            format!("{f}: 기간 안에 진행되는 요일이 하루도 없습니다.")
        }
        (Lang::En, Reason::NoSessions) => {
            format!("{f}: no session falls between the start and end dates.")
        }
        (Lang::Ko, Reason::Duplicate) => format!("{f}에 같은 값이 두 번 있습니다."),
        (Lang::En, Reason::Duplicate) => format!("{f} contains the same value twice."),
        (Lang::Ko, Reason::TooMany { max }) => {
            format!("{f}은(는) 최대 {max}개까지 입력할 수 있습니다.")
        }
        (Lang::En, Reason::TooMany { max }) => format!("{f} may have at most {max} items."),
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid)
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(c) => Self::Conflict(c),
            StoreError::NotFound(Entity::Challenge) => Self::ChallengeNotFound,
            StoreError::NotFound(Entity::User) => Self::UserNotFound,
            StoreError::Unavailable(what) => Self::Unavailable(what),
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        Conflict::from_refusal(refusal).map_or(Self::Forbidden, Self::Conflict)
    }
}

impl From<ssgwan_realtime::RealtimeError> for AppError {
    fn from(err: ssgwan_realtime::RealtimeError) -> Self {
        match err {
            ssgwan_realtime::RealtimeError::Unavailable(what) => Self::Unavailable(what),
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(err) => tracing::error!(error = %err, "request failed"),
            Self::Unavailable(what) => tracing::warn!(%what, "shared service unavailable"),
            _ => {}
        }
        (status, Json(self.body())).into_response()
    }
}

impl From<crate::safety::SafetyError> for AppError {
    fn from(err: crate::safety::SafetyError) -> Self {
        AppError::Safety(err)
    }
}

pub type AppResult<T> = Result<T, AppError>;
