//! Rate limits shared by every node: "at most `limit` hits per `window` for one key" (a user id,
//! an address). A fixed window: the first hit of a key opens a window of `window`; hits in it
//! beyond `limit` are refused with the time until it closes. In process ([`LocalRateLimiter`])
//! or in Redis ([`RedisRateLimiter`](crate::RedisRateLimiter)), with the same answers.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;

use crate::RealtimeResult;

/// The answer to one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Counted; `remaining` more hits fit in the current window.
    Allowed { remaining: u32 },
    /// Over the limit; the window closes after `retry_after`.
    Limited { retry_after: Duration },
}

impl RateDecision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, RateDecision::Allowed { .. })
    }
}

/// "At most N hits per window" for each key.
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one hit for `key` and says whether it is within the limit.
    async fn check(&self, key: &str) -> RealtimeResult<RateDecision>;
}

/// Fixed windows in this process's memory.
#[derive(Debug)]
pub struct LocalRateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Keys kept before closed windows are swept out.
const SWEEP_ABOVE: usize = 10_000;

impl LocalRateLimiter {
    /// At most `limit` hits per `window` for each key.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn check_at(&self, key: &str, now: Instant) -> RateDecision {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (opened, _)| now.duration_since(*opened) < self.window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 <= self.limit {
            RateDecision::Allowed {
                remaining: self.limit - entry.1,
            }
        } else {
            RateDecision::Limited {
                retry_after: self.window.saturating_sub(now.duration_since(entry.0)),
            }
        }
    }
}

#[async_trait]
impl RateLimiter for LocalRateLimiter {
    async fn check(&self, key: &str) -> RealtimeResult<RateDecision> {
        Ok(self.check_at(key, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_closes() {
        let limiter = LocalRateLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(
            limiter.check_at("a", t0),
            RateDecision::Allowed { remaining: 1 }
        );
        assert_eq!(
            limiter.check_at("a", t0),
            RateDecision::Allowed { remaining: 0 }
        );
        assert_eq!(
            limiter.check_at("a", t0 + Duration::from_secs(4)),
            RateDecision::Limited {
                retry_after: Duration::from_secs(6)
            }
        );
        assert!(limiter.check_at("b", t0).is_allowed(), "keys are separate");
        assert!(
            limiter
                .check_at("a", t0 + Duration::from_secs(10))
                .is_allowed()
        );
    }
}
