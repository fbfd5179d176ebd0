//! Request rate limits per client address, so one client cannot starve the others.
//!
//! On one node the limit is in process (governor's smooth token bucket). With Redis it is one
//! count shared by every node (a fixed window in Redis): behind a load balancer a client's
//! requests spread over the nodes and still meet one limit. If Redis does not answer, requests
//! pass (limits fail open: an outage must not take HTTP down with it). The client address is the
//! peer's, or with `--trust-forwarded-for` the last `X-Forwarded-For` entry, which the balancer
//! in front of the nodes sets.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

use crate::{error::AppError, state::AppState};

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
    async fn over_limit(&self, ip: IpAddr) -> Option<Duration> {
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

/// The client's address: the peer's, or behind a trusted balancer the last hop it recorded.
pub fn client_ip(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    // The balancer appends the address it saw last; anything before it the client may have
    // written itself. An unreadable last entry falls back to the peer address.
    if trust_forwarded_for
        && let Some(ip) = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return Some(ip);
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
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

/// Refuses `/api` requests over the limit with 429 `RATE_LIMITED` and `Retry-After`.
pub async fn limit_api_requests(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.rate_limiter
        && req.uri().path().starts_with("/api/")
        && let Some(ip) = client_ip(&req, state.settings.trust_forwarded_for)
        && let Some(wait) = limiter.over_limit(ip).await
    {
        metrics::counter!("ssgwan_rate_limited_total").increment(1);
        let mut response = AppError::RateLimited.into_response();
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return response;
    }
    next.run(req).await
}
