//! Several real `ssgwan serve` processes on one database and one Redis, each started like an
//! operator would start it, plus the throwaway servers they share: a fresh database on the
//! PostgreSQL or MariaDB server the test command starts (`ssgwan_testkit::databases`), and a
//! `redis-server` of the test's own on a free port (so tests
//! running at once never share pub/sub channels, and a test may stop and restart it).

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

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
        let mut redis = Redis {
            port: free_port(),
            child: None,
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// (Re)starts it on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server; scripts/test.sh does)");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server did not start");
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

/// One `ssgwan serve` process.
pub struct Node {
    pub base: String,
    child: Child,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Node {
    /// Starts a node on `database` with `extra` flags and waits until it is ready.
    pub async fn start(database: &str, extra: &[String]) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let log = dir.path().join("server.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ssgwan"));
        for (key, _) in std::env::vars() {
            if key.starts_with("SSGWAN_") {
                command.env_remove(key);
            }
        }
        command
            .args(["serve", "--dev-login", "--rate-limit-per-second", "0"])
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--web-dir", "/nonexistent", "--log-format", "json"])
            .args(["--database-url", database])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        let child = command.spawn().expect("ssgwan starts");
        let node = Node {
            base: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
            log,
        };
        let client = Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(node.url("/readyz")).send().await
                && r.status() == StatusCode::OK
            {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("node did not become ready:\n{}", node.log_text());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
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
    child: Child,
}

impl S3 {
    pub async fn start() -> Option<S3> {
        let Ok(binary) = std::env::var("SSGWAN_TEST_S3S_FS") else {
            eprintln!("SSGWAN_TEST_S3S_FS is not set: the S3 part is skipped");
            return None;
        };
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("uploads")).expect("bucket directory");
        let port = free_port();
        let secret = format!("secret-{}", std::process::id());
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "CLUSTERTEST", "--secret-key", &secret])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        // Owned by the guard at once, so it is stopped however this ends.
        let mut s3 = S3 {
            flags: Vec::new(),
            _root: root,
            child,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                s3.flags = [
                    "--s3-bucket",
                    "uploads",
                    "--s3-endpoint",
                    &format!("http://127.0.0.1:{port}"),
                    "--s3-access-key-id",
                    "CLUSTERTEST",
                    "--s3-secret-access-key",
                    &secret,
                ]
                .map(str::to_owned)
                .to_vec();
                return Some(s3);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("s3s-fs did not start");
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
