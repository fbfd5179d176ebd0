//! Trying again after losing a race: deadlock victims (InnoDB, PostgreSQL serialization
//! failures) and chat numbers taken by a racing message.

use std::time::Duration;

/// A short random pause before retrying a write that lost a race, growing with the attempt
/// (up to 20 ms), so racing writers spread out instead of colliding again in lockstep.
pub(super) async fn backoff(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let cap_micros = (attempt.min(20) * 1_000).max(1);
    tokio::time::sleep(Duration::from_micros(u64::from(nanos % cap_micros))).await;
}

/// How often a statement InnoDB rolled back as a deadlock victim is tried again.
const MAX_DEADLOCK_RETRIES: u32 = 50;

/// A transaction the database rolled back to break a deadlock or a serialization conflict
/// (SQLSTATE 40001, or PostgreSQL's 40P01): safe to run again.
pub(super) fn is_deadlock(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// Runs `attempt` (one transaction) again, after a short random pause, while the database rolls
/// it back as a deadlock victim, up to [`MAX_DEADLOCK_RETRIES`] times; then its last error stands.
pub(super) async fn retrying_deadlocks<T, Fut>(
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, sqlx::Error>
where
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if is_deadlock(&e) && tries < MAX_DEADLOCK_RETRIES => {
                backoff(tries).await;
                tries += 1;
            }
            result => return result,
        }
    }
}
