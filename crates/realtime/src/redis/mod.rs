//! The Redis implementations, for several `ssgwan serve` nodes acting as one: ranking boards
//! ([`RedisBoards`]), rooms with presence and fan-out ([`RedisRooms`]), rate limits
//! ([`RedisRateLimiter`]) and leases ([`RedisLeases`]). They share one [`RedisClient`].
//!
//! Every operation is bounded by the client's timeout (1 s by default) and fails with
//! [`RealtimeError::Unavailable`] when Redis does not answer in time, so nothing hangs while
//! Redis is down; the connection is re-established by itself on the next operations. Changes
//! that must be atomic across nodes are Lua scripts. Every key and channel starts with the
//! client's prefix (`ssgwan` by default); the layout is in docs/architecture.md.

mod boards;
mod leases;
mod limits;
mod mailbox;
mod rooms;

use std::{sync::Arc, time::Duration};

use ::redis::{
    Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError, Script, ScriptInvocation,
    ServerErrorKind,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use crate::{RealtimeError, RealtimeResult};

pub use boards::RedisBoards;
pub use leases::RedisLeases;
pub use limits::RedisRateLimiter;
pub use mailbox::RedisMailbox;
pub use rooms::{PresenceEvent, PresenceEvents, RedisRooms, RedisRoomsOptions};

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Start of every key and channel name, so that several deployments (or tests) can share
    /// one Redis.
    pub prefix: String,
    /// The longest one operation may take before it fails with `Unavailable`.
    pub timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "ssgwan".into(),
            timeout: Duration::from_secs(1),
        }
    }
}

/// A shared, self-reconnecting connection to Redis (cheap to clone).
#[derive(Clone)]
pub struct RedisClient {
    client: ::redis::Client,
    connection: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisClient")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisClient {
    /// A client for `url` (`redis://[:password@]host:port/db`; `rediss://` for TLS is not built
    /// in). Call it inside a Tokio runtime. It does not connect yet: the first operation does,
    /// and [`ping`](Self::ping) checks the way, so a node can start while Redis is still down.
    pub fn open(url: &str, options: RedisOptions) -> RealtimeResult<Self> {
        let client = ::redis::Client::open(url)
            .map_err(|e| RealtimeError::Config(format!("Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| RealtimeError::Config(format!("Redis connection: {e}")))?;
        Ok(Self {
            client,
            connection,
            prefix: options.prefix.into(),
            timeout: options.timeout,
        })
    }

    /// Whether Redis answers within the timeout (for readiness checks).
    pub async fn ping(&self) -> RealtimeResult<()> {
        let answer: String = self.query(&::redis::cmd("PING")).await?;
        if answer == "PONG" {
            Ok(())
        } else {
            Err(RealtimeError::Unexpected(format!("PING answered {answer}")))
        }
    }

    /// The key prefix, without the trailing colon.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The timeout of one operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `prefix:rest`.
    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// Runs one command within the timeout.
    async fn query<T: FromRedisValue>(&self, command: &Cmd) -> RealtimeResult<T> {
        let mut connection = self.connection();
        self.bounded(command.query_async(&mut connection)).await
    }

    /// Runs one pipeline within the timeout.
    async fn query_pipe<T: FromRedisValue>(&self, pipe: &Pipeline) -> RealtimeResult<T> {
        let mut connection = self.connection();
        self.bounded(pipe.query_async(&mut connection)).await
    }

    /// Runs one script within the timeout.
    async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> RealtimeResult<T> {
        let mut connection = self.connection();
        self.bounded(invocation.invoke_async(&mut connection)).await
    }

    /// Runs one Redis operation within the timeout.
    async fn bounded<T>(
        &self,
        operation: impl Future<Output = Result<T, RedisError>>,
    ) -> RealtimeResult<T> {
        within(self.timeout, operation).await
    }
}

/// A script of a family whose scripts all start with the same `prelude` (their helpers).
fn with_prelude(prelude: &str, body: &str) -> Script {
    Script::new(&format!("{prelude}{body}"))
}

/// Runs `operation` within `timeout`, mapping Redis errors to ours.
async fn within<T>(
    timeout: Duration,
    operation: impl Future<Output = Result<T, RedisError>>,
) -> RealtimeResult<T> {
    match tokio::time::timeout(timeout, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(map_error(&err)),
        Err(_) => Err(RealtimeError::Unavailable(format!(
            "no answer from Redis within {timeout:?}"
        ))),
    }
}

/// Connection trouble (and a Redis that is still loading) is `Unavailable`; an answer we cannot
/// use is `Unexpected`.
fn map_error(err: &RedisError) -> RealtimeError {
    match err.kind() {
        ErrorKind::Server(ServerErrorKind::ResponseError | ServerErrorKind::ExecAbort)
        | ErrorKind::Parse
        | ErrorKind::UnexpectedReturnType
        | ErrorKind::Extension => {
            if err.code() == Some("OUT_OF_RANGE") {
                RealtimeError::OutOfRange(err.detail().unwrap_or("").to_owned())
            } else {
                RealtimeError::Unexpected(err.to_string())
            }
        }
        _ => RealtimeError::Unavailable(err.to_string()),
    }
}
