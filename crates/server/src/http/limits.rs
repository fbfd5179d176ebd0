//! Request rate limits per client address, so one client cannot starve the others.
//!
//! In-process: with several nodes each enforces its own share. Behind a load balancer every
//! request comes from the balancer's address, so limit there (or raise this limit).

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
        && let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>()
        && req.uri().path().starts_with("/api/")
        && let Err(not_until) = limiter.check_key(&addr.ip())
    {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
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
