//! Store errors: not found, a rule conflict the caller maps to an API code, or a backend failure.

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
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
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

impl StoreError {
    /// Whether the error is the database's unique constraint refusing a duplicate.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
