//! Rate limits and leases: one suite for the in-process and the Redis implementations, plus
//! what only several nodes can show (counts and leases shared between them, Redis outages).

mod common;

use std::time::{Duration, Instant};

use ssgwan_realtime::{
    Leases, LocalLeases, LocalRateLimiter, RateDecision, RateLimiter, RealtimeError, RedisLeases,
    RedisRateLimiter, camera_lease,
};

use common::{RedisServer, eventually, on_local_and_redis, wait_for};

const WINDOW: Duration = Duration::from_millis(400);
const TTL: Duration = Duration::from_millis(300);

async fn a_window_admits_its_limit_then_refuses_until_it_closes(limiter: impl RateLimiter) {
    let opened = Instant::now();
    for remaining in [2, 1, 0] {
        assert_eq!(
            limiter.check("user:1").await.expect("check"),
            RateDecision::Allowed { remaining }
        );
    }
    match limiter.check("user:1").await.expect("check") {
        RateDecision::Limited { retry_after } => {
            assert!(retry_after <= WINDOW);
            assert!(retry_after + opened.elapsed() + Duration::from_millis(50) >= WINDOW);
        }
        allowed => panic!("over the limit but {allowed:?}"),
    }
    assert!(
        limiter.check("user:2").await.expect("check").is_allowed(),
        "keys are separate"
    );
    // Refused until the window closes; the first hit after it opens a new one.
    let after = wait_for(Duration::from_secs(5), || async {
        match limiter.check("user:1").await.expect("check") {
            RateDecision::Limited { .. } => None,
            allowed => Some(allowed),
        }
    })
    .await;
    assert_eq!(
        after,
        Some(RateDecision::Allowed { remaining: 2 }),
        "a new window"
    );
}

async fn one_owner_at_a_time_until_release_or_expiry(leases: impl Leases) {
    let lease = camera_lease(7, 42);
    assert_eq!(lease, "camera:7:42");
    assert!(leases.claim(&lease, "node-a", TTL).await.expect("claim"));
    assert!(!leases.claim(&lease, "node-b", TTL).await.expect("claim"));
    assert_eq!(
        leases.holder(&lease).await.expect("holder").as_deref(),
        Some("node-a")
    );
    // Renewals keep it past its first ttl.
    for _ in 0..3 {
        tokio::time::sleep(TTL / 2).await;
        assert!(leases.claim(&lease, "node-a", TTL).await.expect("renew"));
    }
    assert!(
        !leases
            .claim_camera(7, 42, "node-b", TTL)
            .await
            .expect("claim")
    );
    assert!(!leases.release(&lease, "node-b").await.expect("release"));
    assert!(leases.release(&lease, "node-a").await.expect("release"));
    assert_eq!(leases.holder(&lease).await.expect("holder"), None);
    assert!(
        leases
            .claim_camera(7, 42, "node-b", TTL)
            .await
            .expect("claim")
    );
    assert!(
        leases
            .claim_camera(7, 43, "node-a", TTL)
            .await
            .expect("claim"),
        "another user's lease is separate"
    );
    // The holder dies: the lease lapses and someone else takes over.
    assert!(
        eventually(Duration::from_secs(5), || async {
            leases.holder(&lease).await.expect("holder").is_none()
        })
        .await,
        "the lease lapses"
    );
    assert!(!leases.release(&lease, "node-b").await.expect("release"));
    assert!(leases.claim(&lease, "node-a", TTL).await.expect("claim"));
}

on_local_and_redis! {
    local: super::LocalRateLimiter::new(3, super::WINDOW),
    redis(server): (super::RedisRateLimiter::new(server.client("t"), "chat", 3, super::WINDOW), ()),
    cases: [a_window_admits_its_limit_then_refuses_until_it_closes];
    local: super::LocalLeases::new(),
    redis(server): (super::RedisLeases::new(server.client("t")), ()),
    cases: [one_owner_at_a_time_until_release_or_expiry];
}

#[tokio::test]
async fn nodes_share_one_count_per_key() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = RedisRateLimiter::new(server.client("t"), "chat", 4, Duration::from_secs(10));
    let b = RedisRateLimiter::new(server.client("t"), "chat", 4, Duration::from_secs(10));
    let http = RedisRateLimiter::new(server.client("t"), "http", 4, Duration::from_secs(10));
    for limiter in [&a, &b, &a, &b] {
        assert!(limiter.check("7").await.expect("check").is_allowed());
    }
    assert!(!a.check("7").await.expect("check").is_allowed());
    assert!(!b.check("7").await.expect("check").is_allowed());
    assert!(
        http.check("7").await.expect("check").is_allowed(),
        "limits with different names count apart"
    );
    // Many hits at once from both nodes: exactly the limit gets through.
    let burst = RedisRateLimiter::new(server.client("t"), "burst", 25, Duration::from_secs(10));
    let other = RedisRateLimiter::new(server.client("t"), "burst", 25, Duration::from_secs(10));
    let hits = (0..100).map(|i| {
        let limiter = if i % 2 == 0 { &burst } else { &other };
        limiter.check("x")
    });
    let allowed = futures_util::future::join_all(hits)
        .await
        .into_iter()
        .filter(|d| d.as_ref().expect("check").is_allowed())
        .count();
    assert_eq!(allowed, 25);
}

#[tokio::test]
async fn one_lease_holder_among_racing_nodes() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let nodes: Vec<RedisLeases> = (0..8)
        .map(|_| RedisLeases::new(server.client("t")))
        .collect();
    let claims = nodes.iter().enumerate().map(|(i, leases)| async move {
        leases
            .claim_camera(1, 1, &format!("node-{i}"), Duration::from_secs(5))
            .await
            .expect("claim")
    });
    let held = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .filter(|held| *held)
        .count();
    assert_eq!(held, 1);
    // The local equivalent agrees.
    let local = LocalLeases::new();
    assert!(local.claim("x", "a", TTL).await.expect("claim"));
    assert!(!local.claim("x", "b", TTL).await.expect("claim"));
}

#[tokio::test]
async fn limiter_and_leases_fail_fast_while_redis_is_down_and_recover() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let limiter = RedisRateLimiter::new(server.client("t"), "chat", 3, WINDOW);
    let leases = RedisLeases::new(server.client("t"));
    assert!(limiter.check("k").await.expect("check").is_allowed());
    server.stop();
    let started = Instant::now();
    assert!(matches!(
        limiter.check("k").await,
        Err(RealtimeError::Unavailable(_))
    ));
    assert!(matches!(
        leases.claim("l", "a", TTL).await,
        Err(RealtimeError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
    server.restart();
    assert!(
        common::eventually(Duration::from_secs(10), || async {
            limiter.check("k").await.is_ok()
        })
        .await
    );
    assert!(leases.claim("l", "a", TTL).await.expect("claim"));
    // The in-process limiter never fails.
    let local = LocalRateLimiter::new(1, WINDOW);
    assert!(local.check("k").await.expect("check").is_allowed());
}
