//! Store errors: not found, a rule conflict the caller maps to an API code, or a backend failure.

use ssgwan_domain::participation::Refusal;
use thiserror::Error;

/// A rule the database refused to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    NicknameTaken,
    ChallengeFull,
    ChallengeEnded,
    AlreadyJoined,
    NotParticipant,
    CancellationNotAllowed,
    CreatorCannotCancel,
    AlreadyStarted,
    CapacityBelowParticipants,
    /// An image reference names a file the user did not upload (or that is gone).
    UploadNotOwned,
    /// The user's uploads today reached the daily quota.
    UploadQuotaExceeded,
    /// The user created as many challenges today as a day allows.
    ChallengeLimitReached,
    /// A host removed the user from this challenge: they cannot join it again.
    RemovedFromChallenge,
    /// The challenge has as many co-hosts as allowed.
    CohostLimitReached,
}

/// What a [`StoreError::NotFound`] did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    User,
    Challenge,
}

#[derive(Debug, Error)]
pub enum StoreError {
    /// The operation names a row that does not exist.
    #[error("{0:?} not found")]
    NotFound(Entity),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(#[from] sqlx::Error),
    /// A service the data depends on (the shared ranking boards in Redis) does not answer;
    /// trying again later will do.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl Conflict {
    /// The conflict a domain refusal is reported as; `None` for [`Refusal::NotCreator`], which
    /// is about who asks (the edge answers it), not about the data.
    pub fn from_refusal(refusal: Refusal) -> Option<Self> {
        Some(match refusal {
            Refusal::NotCreator => return None,
            Refusal::AlreadyStarted => Self::AlreadyStarted,
            Refusal::CapacityBelowParticipants => Self::CapacityBelowParticipants,
            Refusal::ChallengeEnded => Self::ChallengeEnded,
            Refusal::ChallengeFull => Self::ChallengeFull,
            Refusal::AlreadyJoined => Self::AlreadyJoined,
            Refusal::NotParticipant => Self::NotParticipant,
            Refusal::CancellationNotAllowed => Self::CancellationNotAllowed,
            Refusal::CreatorCannotCancel => Self::CreatorCannotCancel,
        })
    }
}

impl StoreError {
    /// Whether the error is the database's unique constraint refusing a duplicate.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
