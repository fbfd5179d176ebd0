//! The server's background tasks (the attendance actor, the completion job, the scoring
//! consumer, the presence reporter, the board watch), owned in one place: each is spawned here
//! with a stop signal, and [`Background::shutdown`] signals them all and waits until every one
//! has finished its last work (the attendance actor writes what it counted), so nothing
//! acknowledged is lost on a graceful stop.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
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

/// A handle on a periodic job (the completion job, the reminders, the file sweep): `pass` runs
/// every `interval` on a [`Background`] task, and at once when asked through
/// [`PeriodicJob::run_now`] (tests move the clock, then call it). Passes never overlap.
pub struct PeriodicJob<T> {
    requests: mpsc::Sender<oneshot::Sender<T>>,
}

impl<T> Clone for PeriodicJob<T> {
    fn clone(&self) -> Self {
        Self {
            requests: self.requests.clone(),
        }
    }
}

impl<T: Default + Send + 'static> PeriodicJob<T> {
    /// Starts the job on `background`; it stops when the server does. The first periodic pass
    /// runs at once, unless `skip_first`.
    pub fn start<F, Fut>(
        background: &Background,
        name: &'static str,
        interval: Duration,
        skip_first: bool,
        mut pass: F,
    ) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send,
    {
        let (requests, mut asked) = mpsc::channel::<oneshot::Sender<T>>(16);
        let stop = background.stopping();
        background.spawn(name, async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            if skip_first {
                ticker.tick().await;
            }
            loop {
                // Biased: a due periodic pass runs before a request, so `run_now` returns
                // after every pass that was due when it was called.
                let reply = tokio::select! {
                    biased;
                    () = stop.cancelled() => break,
                    _ = ticker.tick() => None,
                    Some(reply) = asked.recv() => Some(reply),
                };
                let outcome = pass().await;
                if let Some(reply) = reply {
                    let _ = reply.send(outcome);
                }
            }
        });
        Self { requests }
    }

    /// Runs one pass now (after any pass in progress) and returns what it did; the default
    /// when the job has stopped.
    pub async fn run_now(&self) -> T {
        let (reply, outcome) = oneshot::channel();
        if self.requests.send(reply).await.is_err() {
            return T::default();
        }
        outcome.await.unwrap_or_default()
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
