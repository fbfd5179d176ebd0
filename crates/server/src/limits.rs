//! Rate limits, both of them: requests per client address (HTTP) and chat messages per user
//! (WebSocket), so one client cannot starve the others.
//!
//! On one node a limit is in process (governor's smooth token bucket for requests, a window
//! for chat). With Redis it is one count shared by every node (a fixed window in Redis): behind a
//! load balancer a client's requests spread over the nodes and still meet one limit. If Redis
//! does not answer, requests pass (limits fail open: an outage must not take HTTP down with it).

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

pub type IpRateLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// The request limit: in process on one node, shared through Redis on several.
#[derive(Clone)]
pub enum RequestLimiter {
    Local(Arc<IpRateLimiter>),
    Shared(Arc<dyn ssgwan_realtime::RateLimiter>),
}

impl RequestLimiter {
    /// `None` when limits are off (`per_second` 0). Shared limits count `per_second × 10 +
    /// burst` requests per 10-second window: the same sustained rate and room for a burst.
    pub fn new(
        per_second: u32,
        burst: u32,
        redis: Option<&ssgwan_realtime::RedisClient>,
    ) -> Option<RequestLimiter> {
        match redis {
            None => ip_rate_limiter(per_second, burst).map(RequestLimiter::Local),
            Some(redis) => (per_second > 0).then(|| {
                let limit = per_second.saturating_mul(10).saturating_add(burst);
                RequestLimiter::Shared(Arc::new(ssgwan_realtime::RedisRateLimiter::new(
                    redis.clone(),
                    "http",
                    limit,
                    Duration::from_secs(10),
                )))
            }),
        }
    }

    /// `Some(wait)` when `ip` is over the limit.
    pub async fn over_limit(&self, ip: IpAddr) -> Option<Duration> {
        match self {
            RequestLimiter::Local(limiter) => limiter.check_key(&ip).err().map(|not_until| {
                not_until.wait_time_from(governor::clock::DefaultClock::default().now())
            }),
            RequestLimiter::Shared(limiter) => match limiter.check(&ip.to_string()).await {
                Ok(ssgwan_realtime::RateDecision::Limited { retry_after }) => Some(retry_after),
                Ok(ssgwan_realtime::RateDecision::Allowed { .. }) => None,
                Err(err) => {
                    tracing::warn!(error = %err, "rate limit not checked (shared store down)");
                    None
                }
            },
        }
    }
}

/// A limiter allowing `per_second` sustained and `burst` at once per address; `None` when
/// `per_second` is 0 (limits off).
pub fn ip_rate_limiter(per_second: u32, burst: u32) -> Option<Arc<IpRateLimiter>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
    let limiter = Arc::new(IpRateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ));
    // Forget idle addresses so the table does not grow with every client ever seen.
    let weak = Arc::downgrade(&limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(limiter) = weak.upgrade() else { break };
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    });
    Some(limiter)
}

/// A per-user chat limit of `per_10s` messages per 10 seconds, shared by the nodes through
/// Redis when there is one; `None` when 0 (limits off, for load tests).
pub fn chat_limiter(
    per_10s: u32,
    redis: Option<&ssgwan_realtime::RedisClient>,
) -> Option<Arc<dyn ssgwan_realtime::RateLimiter>> {
    if per_10s == 0 {
        return None;
    }
    let window = Duration::from_secs(10);
    Some(match redis {
        Some(redis) => Arc::new(ssgwan_realtime::RedisRateLimiter::new(
            redis.clone(),
            "chat",
            per_10s,
            window,
        )),
        None => Arc::new(ssgwan_realtime::LocalRateLimiter::new(per_10s, window)),
    })
}
