//! The request rate limit as middleware (the limiter itself is `crate::limits`). The client
//! address is the peer's, or with `--trust-forwarded-for` the last `X-Forwarded-For` entry,
//! which the balancer in front of the nodes sets.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::AppError, limits::ClientAddress, state::AppState};

/// The client's address: the peer's, or behind a trusted balancer the last hop it recorded.
pub fn client_ip(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    client_ip_from(req.headers(), peer, trust_forwarded_for)
}

/// [`client_ip`] from the request's headers and peer address.
pub fn client_ip_from(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    // The balancer appends the address it saw last; anything before it the client may have
    // written itself. An unreadable last entry falls back to the peer address.
    if trust_forwarded_for
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return Some(ip);
    }
    peer.map(|addr| addr.ip())
}

/// Records the client address on `/api` requests (as [`ClientAddress`], for the WebSocket
/// socket caps) and refuses those over the limit with 429 `RATE_LIMITED` and `Retry-After`.
pub async fn limit_api_requests(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let ip = client_ip(&req, state.settings.trust_forwarded_for);
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientAddress(ip));
    }
    if let Some(limiter) = &state.rate_limiter
        && let Some(ip) = ip
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
