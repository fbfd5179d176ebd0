//! [`Leases`] in Redis: one key per lease holding its owner, with a millisecond expiry. Taking
//! a free lease is `SET NX PX`; renewing and releasing check the owner first, in one script, so
//! a node can never renew or release a lease that lapsed and went to someone else.

use std::{sync::LazyLock, time::Duration};

use ::redis::Script;
use async_trait::async_trait;

use super::RedisClient;
use crate::{Leases, RealtimeResult};

/// KEYS[1] the lease, ARGV owner and ttl ms. Returns 1 when the owner holds it afterwards.
static CLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/leases/claim.lua")));

/// KEYS[1] the lease, ARGV[1] the owner. Returns 1 when it was released.
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/leases/release.lua")));

/// Leases in Redis, shared by every node.
#[derive(Debug, Clone)]
pub struct RedisLeases {
    redis: RedisClient,
}

impl RedisLeases {
    pub fn new(redis: RedisClient) -> Self {
        Self { redis }
    }

    fn key(&self, name: &str) -> String {
        self.redis.key(&format!("lease:{name}"))
    }
}

#[async_trait]
impl Leases for RedisLeases {
    async fn claim(&self, name: &str, owner: &str, ttl: Duration) -> RealtimeResult<bool> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let held: i64 = self
            .redis
            .invoke(CLAIM.key(self.key(name)).arg(owner).arg(ttl_ms))
            .await?;
        Ok(held == 1)
    }

    async fn release(&self, name: &str, owner: &str) -> RealtimeResult<bool> {
        let released: i64 = self
            .redis
            .invoke(RELEASE.key(self.key(name)).arg(owner))
            .await?;
        Ok(released == 1)
    }

    async fn holder(&self, name: &str) -> RealtimeResult<Option<String>> {
        self.redis
            .query(::redis::cmd("GET").arg(self.key(name)))
            .await
    }
}
