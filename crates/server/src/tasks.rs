//! The server's background tasks (the attendance actor, the completion job, the scoring
//! consumer, the presence reporter, the board watch), owned in one place: each is spawned here
//! with a stop signal, and [`Background::shutdown`] signals them all and waits until every one
//! has finished its last work (the attendance actor writes what it counted), so nothing
//! acknowledged is lost on a graceful stop.

use std::time::Duration;

use tokio_util::{
    sync::CancellationToken,
    task::{TaskTracker, task_tracker::TrackedFuture},
};

#[derive(Clone, Default)]
pub struct Background {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Background {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves when the server stops; every task selects on it.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs `task` until it returns (it should return soon after [`Self::stopping`] fires).
    pub fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(async move {
            task.await;
            tracing::debug!(task = name, "background task finished");
        });
    }

    /// `future`, counted among the tasks [`Self::shutdown`] waits for (for futures someone
    /// else spawns, like a WebSocket's after the upgrade).
    pub fn track<F: Future>(&self, future: F) -> TrackedFuture<F> {
        self.tracker.track_future(future)
    }

    /// Signals every task to stop and waits for them, at most `limit`; false when some did
    /// not finish in time.
    pub async fn shutdown(&self, limit: Duration) -> bool {
        self.stop.cancel();
        self.tracker.close();
        tokio::time::timeout(limit, self.tracker.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use super::*;

    #[tokio::test]
    async fn shutdown_waits_for_the_last_work_of_every_task() {
        let background = Background::new();
        let flushed = Arc::new(AtomicBool::new(false));
        let stop = background.stopping();
        let done = flushed.clone();
        background.spawn("flusher", async move {
            stop.cancelled().await;
            // Work after the signal, like the attendance actor's final write.
            tokio::task::yield_now().await;
            done.store(true, Ordering::SeqCst);
        });
        assert!(background.shutdown(Duration::from_secs(5)).await);
        assert!(flushed.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_signal_is_reported() {
        let background = Background::new();
        background.spawn("stubborn", std::future::pending());
        assert!(!background.shutdown(Duration::from_millis(20)).await);
    }
}
