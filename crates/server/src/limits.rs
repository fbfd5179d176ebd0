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

/// The client address of a request (the peer's, or with `--trust-forwarded-for` the one the
/// balancer recorded), as the request limit saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The limits of the WebSocket gateway, from the configuration.
pub struct SocketLimits {
    /// Tokens of each connection's frame budget refilled per second (0: no budget).
    pub frames_per_second: u32,
    /// Tokens a connection may spend at once.
    pub frame_burst: u32,
    /// Sockets per user and per address on this node.
    pub caps: Arc<SocketCaps>,
}

impl SocketLimits {
    /// A fresh frame budget for one connection.
    pub fn frame_budget(&self) -> FrameBudget {
        FrameBudget::new(self.frames_per_second, self.frame_burst)
    }
}

/// What a connection may spend on frames: a token bucket of `burst` tokens refilled at
/// `per_second`, each frame costing by its kind (see `ws::frame_cost`). A frame over budget is
/// refused; a client that keeps sending refused frames (more than [`REFUSALS_BURST`] quickly)
/// is abusive and its connection is closed.
pub struct FrameBudget {
    bucket: Option<governor::DefaultDirectRateLimiter>,
    refusals: governor::DefaultDirectRateLimiter,
}

/// Refused frames a connection may send at once before it is closed…
pub const REFUSALS_BURST: u32 = 50;
/// …and per second after that.
pub const REFUSALS_PER_SECOND: u32 = 5;

/// The verdict on one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Within budget: handle it.
    Allowed,
    /// Over budget: refuse it (`TOO_MANY_FRAMES`).
    Refused,
    /// Over budget again and again: close the connection.
    Abusive,
}

impl FrameBudget {
    /// `per_second` 0 turns the budget off.
    pub fn new(per_second: u32, burst: u32) -> FrameBudget {
        let bucket = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            governor::RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
        });
        let refusals = governor::RateLimiter::direct(
            Quota::per_second(NonZeroU32::MIN.saturating_add(REFUSALS_PER_SECOND - 1))
                .allow_burst(NonZeroU32::MIN.saturating_add(REFUSALS_BURST - 1)),
        );
        FrameBudget { bucket, refusals }
    }

    /// Spends `cost` tokens on one frame.
    pub fn spend(&self, cost: u32) -> Spend {
        let Some(bucket) = &self.bucket else {
            return Spend::Allowed;
        };
        let cost = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
        match bucket.check_n(cost) {
            Ok(Ok(())) => Spend::Allowed,
            // Over budget (or costlier than the whole bucket, which a configuration allows).
            Ok(Err(_)) | Err(_) => match self.refusals.check() {
                Ok(()) => Spend::Refused,
                Err(_) => Spend::Abusive,
            },
        }
    }
}

/// Caps on the sockets open on this node: per user and per client address (0: no cap).
pub struct SocketCaps {
    per_user: usize,
    per_address: usize,
    open: std::sync::Mutex<OpenSockets>,
}

#[derive(Default)]
struct OpenSockets {
    users: std::collections::HashMap<i64, usize>,
    addresses: std::collections::HashMap<IpAddr, usize>,
}

/// Which cap a socket would have gone over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketCap {
    PerUser,
    PerAddress,
}

/// One open socket's place under the caps, given back when dropped.
pub struct SocketSlot {
    caps: Arc<SocketCaps>,
    user: i64,
    address: Option<IpAddr>,
}

impl SocketCaps {
    pub fn new(per_user: usize, per_address: usize) -> Arc<SocketCaps> {
        Arc::new(SocketCaps {
            per_user,
            per_address,
            open: Default::default(),
        })
    }

    /// A place for one more socket of `user` from `address`, or the cap it would go over.
    pub fn acquire(
        self: &Arc<Self>,
        user: i64,
        address: Option<IpAddr>,
    ) -> Result<SocketSlot, SocketCap> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let of_user = open.users.get(&user).copied().unwrap_or(0);
        if self.per_user > 0 && of_user >= self.per_user {
            return Err(SocketCap::PerUser);
        }
        if let Some(ip) = address {
            let of_address = open.addresses.get(&ip).copied().unwrap_or(0);
            if self.per_address > 0 && of_address >= self.per_address {
                return Err(SocketCap::PerAddress);
            }
            *open.addresses.entry(ip).or_default() += 1;
        }
        *open.users.entry(user).or_default() += 1;
        Ok(SocketSlot {
            caps: self.clone(),
            user,
            address,
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.caps.open.lock().unwrap_or_else(|e| e.into_inner());
        fn give_back<K: std::hash::Hash + Eq>(
            map: &mut std::collections::HashMap<K, usize>,
            key: K,
        ) {
            if let Some(n) = map.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
        give_back(&mut open.users, self.user);
        if let Some(ip) = self.address {
            give_back(&mut open.addresses, ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_caps_count_per_user_and_per_address_and_give_places_back() {
        let caps = SocketCaps::new(2, 3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let first = caps.acquire(1, Some(a)).expect("first");
        let _second = caps.acquire(1, Some(a)).expect("second");
        assert_eq!(caps.acquire(1, Some(a)).err(), Some(SocketCap::PerUser));
        let _third = caps.acquire(2, Some(a)).expect("another user");
        assert_eq!(caps.acquire(3, Some(a)).err(), Some(SocketCap::PerAddress));
        drop(first);
        assert!(
            caps.acquire(1, Some(a)).is_ok(),
            "a closed socket gives its place back"
        );
    }

    #[test]
    fn a_frame_budget_refuses_then_calls_a_flood_abusive() {
        let budget = FrameBudget::new(1, 10);
        assert_eq!(budget.spend(10), Spend::Allowed);
        let verdicts: Vec<Spend> = (0..REFUSALS_BURST + 1).map(|_| budget.spend(1)).collect();
        assert!(
            verdicts[..REFUSALS_BURST as usize]
                .iter()
                .all(|v| *v == Spend::Refused)
        );
        assert_eq!(verdicts.last(), Some(&Spend::Abusive));
        assert_eq!(FrameBudget::new(0, 0).spend(1_000), Spend::Allowed, "off");
    }
}
