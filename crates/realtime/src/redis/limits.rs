//! [`RateLimiter`] in Redis: one counter per key and window, `INCR` and `PEXPIRE` in one script
//! so every node counts into the same window.

use std::{sync::LazyLock, time::Duration};

use ::redis::Script;
use async_trait::async_trait;

use super::RedisClient;
use crate::{RateDecision, RateLimiter, RealtimeError, RealtimeResult};

/// KEYS[1] the counter, ARGV[1] the window in ms. Returns {count, ms until the window closes}.
static HIT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/limits/hit.lua")));

/// Fixed windows counted in Redis, with the answers of
/// [`LocalRateLimiter`](crate::LocalRateLimiter).
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    redis: RedisClient,
    /// `prefix:limit:<name>:`
    base: String,
    limit: u32,
    window: Duration,
}

impl RedisRateLimiter {
    /// At most `limit` hits per `window` for each key. `name` keeps the counters of different
    /// limits (chat, HTTP) apart.
    pub fn new(redis: RedisClient, name: &str, limit: u32, window: Duration) -> Self {
        let base = redis.key(&format!("limit:{name}:"));
        Self {
            redis,
            base,
            limit,
            window,
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str) -> RealtimeResult<RateDecision> {
        let window_ms = u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let (count, ttl_ms): (i64, i64) = self
            .redis
            .invoke(HIT.key(format!("{}{key}", self.base)).arg(window_ms))
            .await?;
        let count = u32::try_from(count)
            .map_err(|_| RealtimeError::Unexpected(format!("rate counter {count}")))?;
        Ok(if count <= self.limit {
            RateDecision::Allowed {
                remaining: self.limit - count,
            }
        } else {
            RateDecision::Limited {
                retry_after: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
            }
        })
    }
}
