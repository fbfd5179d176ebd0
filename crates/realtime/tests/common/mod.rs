//! A throwaway `redis-server` per test: on a free loopback port, no persistence, killed on drop.
//! Without `redis-server` on PATH the Redis tests fail with a clear message, unless
//! `SSGWAN_SKIP_REDIS_TESTS=1` (then they pass without running).

#![allow(dead_code)]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ssgwan_realtime::{RedisClient, RedisOptions};

pub mod rooms;

/// Declares each `case` twice as a test: `local::case` runs `case($local)`; `redis::case` starts
/// a throwaway Redis server as `$server` and runs `case(under_test)`, where `$redis` gives
/// `(under_test, kept)` (`kept`, a receiver say, lives until the case ends). Several groups of
/// cases, each with its implementations, are separated by `;`.
#[allow(unused_macros)]
macro_rules! on_local_and_redis {
    ($(local: $local:expr, redis($server:ident): $redis:expr, cases: [$($case:ident),* $(,)?];)+) => {
        mod local {
            $($(
                #[tokio::test]
                async fn $case() {
                    super::$case($local).await;
                }
            )*)+
        }
        mod redis {
            $($(
                #[tokio::test]
                async fn $case() {
                    let Some($server) = super::RedisServer::start() else { return };
                    let (under_test, _kept) = $redis;
                    super::$case(under_test).await;
                }
            )*)+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_local_and_redis;

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A fresh server, or `None` when Redis tests are skipped.
    pub fn start() -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            if std::env::var("SSGWAN_SKIP_REDIS_TESTS").as_deref() == Ok("1") {
                eprintln!("skipped: redis-server is not installed (SSGWAN_SKIP_REDIS_TESTS=1)");
                return None;
            }
            panic!(
                "redis-server is not on PATH: install it (apt-get install redis-server) \
                 or set SSGWAN_SKIP_REDIS_TESTS=1 to skip the Redis tests"
            );
        }
        for _ in 0..10 {
            let port = free_port();
            let mut server = RedisServer { port, child: None };
            if server.spawn() {
                return Some(server);
            }
        }
        panic!("could not start redis-server on a free port");
    }

    /// Starts redis-server on this server's port; false when it did not come up.
    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                self.child = None;
                return false;
            }
            if ping(self.port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        false
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A client with its own key prefix and a short timeout.
    pub fn client(&self, prefix: &str) -> RedisClient {
        RedisClient::open(
            &self.url(),
            RedisOptions {
                prefix: prefix.into(),
                timeout: Duration::from_millis(500),
            },
        )
        .expect("redis client")
    }

    /// Sends one command on a plain connection; returns the first line of the answer.
    pub fn command(&self, args: &[&str]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).expect("write");
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while stream.read_exact(&mut byte).is_ok() && byte[0] != b'\n' {
            answer.push(byte[0]);
        }
        String::from_utf8_lossy(&answer).trim_end().to_owned()
    }

    /// Kills the server (its data is gone: it keeps none).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again, empty, on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.spawn() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not restart on port {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

/// Polls `check` until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(within, || {
        let held = check();
        async move { held.await.then_some(()) }
    })
    .await
    .is_some()
}

/// Polls `probe` until it finds something or `within` passes; returns what it found.
pub async fn wait_for<T, F, Fut>(within: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
