//! The file sweep: deletes uploaded files that no row refers to, so the store holds only what
//! profiles and challenges show (plus recent uploads).
//!
//! Every `interval` each node tries to claim the sweep in the database (`job_claims`); the one
//! whose conditional update moves the claim forward runs it, so a cluster sweeps once per
//! interval whatever its size. A pass (1) deletes the upload records made and last used before
//! the grace period whose file no profile image or thumbnail names, then (2) lists the file
//! store (a directory or an S3 bucket) and deletes every object written before the grace period
//! that nothing refers to any more (no upload record, no profile image, no thumbnail). A fresh
//! upload is kept for the whole grace period, used or not, so the upload a user is about to set
//! as their picture survives.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use jiff::SignedDuration;
use ssgwan_domain::Clock;
use ssgwan_store::{StoreResult, UploadStore};

use crate::{
    files::Files,
    tasks::{Background, PeriodicJob},
};

/// The claim's name in `job_claims`.
const JOB: &str = "file-sweep";

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Upload records deleted.
    pub records: u64,
    /// Objects deleted from the file store.
    pub files: u64,
    /// Whether this node held the claim (false: another node swept in this interval).
    pub claimed: bool,
}

/// One pass, when this node wins the claim for the interval.
pub async fn sweep_once(
    store: &dyn UploadStore,
    files: &Files,
    clock: &dyn Clock,
    holder: &str,
    interval: SignedDuration,
    grace: SignedDuration,
) -> StoreResult<Swept> {
    let now = clock.now();
    // A claim a little shorter than the interval: the next tick of whichever node comes first
    // may claim again.
    let until = now
        .checked_add(
            interval
                .checked_sub(SignedDuration::from_secs(1))
                .unwrap_or(interval),
        )
        .unwrap_or(now);
    if !store.claim_job(JOB, holder, now, until).await? {
        return Ok(Swept::default());
    }
    let cutoff = now.checked_sub(grace).unwrap_or(now);
    let records = store.forget_unused_uploads(cutoff).await?;
    let mut deleted = 0;
    let mut listed = files.list();
    while let Some(next) = listed.next().await {
        let (key, written) = match next {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "listing the file store failed; the rest is swept next time");
                break;
            }
        };
        if written >= cutoff || store.file_referenced(key.as_str()).await? {
            continue;
        }
        match files.delete(&key).await {
            Ok(()) => deleted += 1,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), key = key.as_str(), "deleting an unused file failed")
            }
        }
    }
    if records > 0 || deleted > 0 {
        tracing::info!(records, files = deleted, "swept unused uploads");
    }
    metrics::counter!("ssgwan_files_swept_total").increment(deleted);
    Ok(Swept {
        records,
        files: deleted,
        claimed: true,
    })
}

/// The sweep job: it runs every `interval`, and at once when asked through
/// [`PeriodicJob::run_now`] (which says what the pass removed).
pub type FileSweep = PeriodicJob<Swept>;

/// Starts the sweep on `background`; it stops when the server does. `holder` names this node
/// in the claim.
pub fn start_job(
    background: &Background,
    store: Arc<dyn UploadStore>,
    files: Files,
    clock: Arc<dyn Clock>,
    holder: String,
    interval: Duration,
    grace: Duration,
) -> FileSweep {
    let claim = SignedDuration::try_from(interval).unwrap_or(SignedDuration::MAX);
    let grace = SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX);
    // The first tick is immediate: skipped, a node just started has nothing to sweep that the
    // previous interval's holder did not.
    PeriodicJob::start(background, "file sweep", interval, true, move || {
        let (store, files, clock, holder) =
            (store.clone(), files.clone(), clock.clone(), holder.clone());
        async move {
            sweep_once(&*store, &files, &*clock, &holder, claim, grace)
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "sweeping unused files failed");
                    Swept::default()
                })
        }
    })
}
