//! Several real `ssgwan serve` processes on one database and one Redis, each started like an
//! operator would start it, plus the throwaway servers they share: a fresh database on the
//! PostgreSQL or MariaDB server the test command starts (`ssgwan_testkit::databases`), and a
//! `redis-server` of the test's own on a free port (so tests
//! running at once never share pub/sub channels, and a test may stop and restart it).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::child::{ServerChild, line_containing, ssgwan, start_server, stdout_lines};

/// A port that was free a moment ago, for the servers that cannot report the port they bound
/// (Redis must come back on the same port after a restart anyway).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `redis-server` of this test's own.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
        // The port is chosen before redis binds it: another process may take it in between,
        // then redis exits at once and a new port is tried.
        for _ in 0..5 {
            let mut redis = Redis {
                port: free_port(),
                child: None,
            };
            if redis.try_start() {
                return redis;
            }
        }
        panic!("redis-server did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// (Re)starts it on the same port, empty.
    pub fn restart(&mut self) {
        assert!(self.try_start(), "redis-server did not restart");
    }

    /// Starts it and waits until it says it accepts connections.
    fn try_start(&mut self) -> bool {
        self.stop();
        let mut child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server; scripts/test.sh does)");
        let lines = stdout_lines(&mut child);
        self.child = Some(child);
        let ready = line_containing(
            &lines,
            "Ready to accept connections",
            Duration::from_secs(10),
        );
        // Keep draining its output.
        std::thread::spawn(move || while lines.recv().is_ok() {});
        ready.is_some()
    }

    /// Kills it (SIGKILL): everything it held is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One `ssgwan serve` process, on `127.0.0.1:0` (it reports the port it bound).
pub struct Node {
    pub base: String,
    server: ServerChild,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Starts a node on `database` with `extra` flags and waits until it is ready.
    pub async fn start(database: &str, extra: &[String]) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = ssgwan();
        command
            .args(["serve", "--dev-login", "--rate-limit-per-second", "0"])
            .args(["--challenge-daily-limit", "0"])
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--web-dir", "/nonexistent"])
            .args(["--database-url", database])
            .args(extra)
            .stderr(Stdio::null());
        // Listening: migrated, the boards checked, the socket bound.
        let server = start_server(command);
        let node = Node {
            base: server.base.clone(),
            server,
            _dir: dir,
        };
        // Ready also needs Redis to answer; the client connects lazily and says nothing when
        // it has, so this asks (with a generous deadline).
        let client = Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(node.url("/readyz")).send().await
                && r.status() == StatusCode::OK
            {
                return node;
            }
            assert!(
                Instant::now() < deadline,
                "node did not become ready:\n{}",
                node.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn log_text(&self) -> String {
        self.server.log_text()
    }

    /// SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// SIGTERM, and returns once the process has exited (successfully): by then it has
    /// written everything it counted.
    pub fn stop(&mut self) {
        self.server.terminate();
        let status = self.server.wait_exit(Duration::from_secs(30));
        assert!(
            status.success(),
            "exit status {status}:\n{}",
            self.log_text()
        );
    }
}

/// A small JSON client shared by the tests.
pub struct Api {
    pub client: Client,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }
}

impl Api {
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, node: &Node, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, node.url(path), token, None)
            .await
    }

    pub async fn post(
        &self,
        node: &Node,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, node.url(path), token, Some(body))
            .await
    }

    pub async fn login(&self, node: &Node, nickname: &str) -> (String, i64) {
        let (status, body) = self
            .post(
                node,
                "/api/auth/dev-login",
                None,
                json!({ "nickname": nickname }),
            )
            .await;
        assert!(status.is_success(), "dev login: {status} {body}");
        (
            body["token"].as_str().expect("token").to_owned(),
            body["user"]["id"].as_i64().expect("user id"),
        )
    }

    /// A challenge starting tomorrow (Seoul), daily 06:00–07:00 for a week.
    pub async fn create_challenge(&self, node: &Node, token: &str, capacity: i64) -> i64 {
        let tomorrow = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Seoul").expect("tz"))
            .date()
            .tomorrow()
            .expect("tomorrow");
        let end = tomorrow
            .checked_add(jiff::Span::new().days(6))
            .expect("end");
        let (status, body) = self
            .post(
                node,
                "/api/challenges",
                Some(token),
                json!({
                    "title": "두 노드 챌린지",
                    "description": "cluster test",
                    "category": "STUDY",
                    "capacity": capacity,
                    "startDate": tomorrow.to_string(),
                    "endDate": end.to_string(),
                    "sessionStart": "06:00",
                    "sessionEnd": "07:00",
                    "minMinutes": 10,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("id")
    }
}

/// A real s3s-fs server (it checks SigV4 signatures) with one bucket, when
/// `SSGWAN_TEST_S3S_FS` names the binary (scripts/test.sh installs it and sets it).
pub struct S3 {
    pub flags: Vec<String>,
    _root: tempfile::TempDir,
    _process: crate::child::S3sFs,
}

impl S3 {
    pub async fn start() -> Option<S3> {
        let Ok(binary) = std::env::var("SSGWAN_TEST_S3S_FS") else {
            eprintln!("SSGWAN_TEST_S3S_FS is not set: the S3 part is skipped");
            return None;
        };
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("uploads")).expect("bucket directory");
        let secret = format!("secret-{}", std::process::id());
        // Binds 127.0.0.1:0 and says where.
        let process = crate::child::start_s3s_fs(&binary, root.path(), "CLUSTERTEST", &secret);
        let flags = [
            "--s3-bucket",
            "uploads",
            "--s3-endpoint",
            &process.endpoint,
            "--s3-access-key-id",
            "CLUSTERTEST",
            "--s3-secret-access-key",
            &secret,
        ]
        .map(str::to_owned)
        .to_vec();
        Some(S3 {
            flags,
            _root: root,
            _process: process,
        })
    }
}

/// A small valid PNG.
pub fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 99]));
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("png");
    bytes
}
