//! `spawn_app()`: the real server on 127.0.0.1:0 with a fresh SQLite database in a temporary
//! directory and a manual clock, plus a small typed client.

use std::sync::Arc;

use clap::Parser;
use jiff::Timestamp;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use ssgwan_domain::ManualClock;
use ssgwan_server::config::{Cli, Command, ServeArgs};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// 2026-03-02 00:00 UTC: a Monday, 09:00 in Seoul.
pub const EPOCH: &str = "2026-03-02T00:00:00Z";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    /// Holds the temporary data directory for the lifetime of the test.
    pub _dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Serve arguments as the command line would give them, for a test server.
pub fn test_args(dir: &TempDir, extra: &[&str]) -> ServeArgs {
    let data_dir = dir.path().to_str().expect("utf-8 temp dir").to_owned();
    let mut argv = vec![
        "ssgwan",
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--web-dir",
        "/nonexistent",
        "--log-format",
        "pretty",
    ];
    // Tests sign in dozens of users from one address; limits have their own test.
    if !extra.contains(&"--rate-limit-per-second") {
        argv.extend_from_slice(&["--rate-limit-per-second", "0"]);
    }
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv)
        .expect("valid test arguments")
        .command
    {
        Command::Serve(args) => *args,
        Command::Migrate(_) => unreachable!("serve was asked for"),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&["--dev-login"]).await
}

pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = test_args(&dir, extra);
    spawn_app_from(dir, args).await
}

pub async fn spawn_app_from(dir: TempDir, args: ServeArgs) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let clock = Arc::new(ManualClock::new(EPOCH.parse::<Timestamp>().expect("epoch")));
    let (tx, rx) = oneshot::channel::<()>();
    let server_clock = clock.clone();
    let server = tokio::spawn(async move {
        ssgwan_server::launch(&args, listener, server_clock, async move {
            let _ = rx.await;
        })
        .await
    });
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let app = TestApp {
        base,
        client,
        clock,
        _dir: dir,
        shutdown: Some(tx),
        server: Some(server),
    };
    // Ready when /readyz answers (migrations done).
    for _ in 0..200 {
        if let Ok(r) = app.client.get(format!("{}/readyz", app.base)).send().await
            && r.status() == StatusCode::OK
        {
            return app;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("test server did not become ready");
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a JSON request as `token` (or anonymously) and returns status and parsed body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        read(response).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Signs in with the development login and returns the bearer token.
    pub async fn login(&self, nickname: &str) -> String {
        let (status, body) = self
            .post("/api/auth/dev-login", None, json!({ "nickname": nickname }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates a challenge from `valid_challenge()` with `overrides` applied; returns its id.
    pub async fn create_challenge(&self, token: &str, overrides: Value) -> i64 {
        let (status, body) = self
            .post(
                "/api/challenges",
                Some(token),
                merge(valid_challenge(), overrides),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("id")
    }

    pub fn set_now(&self, instant: &str) {
        self.clock.set(instant.parse().expect("instant"));
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A challenge that validates at [`EPOCH`]: two weeks from 2026-03-09, 06:00–07:00 Seoul.
pub fn valid_challenge() -> Value {
    json!({
        "title": "새벽 공부 Morning Study",
        "description": "매일 아침 한 시간 집중",
        "category": "STUDY",
        "capacity": 10,
        "startDate": "2026-03-09",
        "endDate": "2026-03-22",
        "daysOfWeek": ["MON", "TUE", "WED", "THU", "FRI"],
        "sessionStart": "06:00",
        "sessionEnd": "07:00",
        "timezone": "Asia/Seoul",
        "minMinutes": 30,
        "successRate": 80
    })
}

/// `base` with the keys of `overrides` replaced (a `null` override removes the key).
pub fn merge(mut base: Value, overrides: Value) -> Value {
    if let (Some(map), Some(over)) = (base.as_object_mut(), overrides.as_object()) {
        for (k, v) in over {
            if v.is_null() {
                map.remove(k);
            } else {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

/// Asserts an error response: status, code and (when given) the field.
#[track_caller]
pub fn assert_error(
    actual: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let (s, body) = actual;
    assert_eq!(*s, status, "status for {body}");
    assert_eq!(body["code"], code, "code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    if let Some(field) = field {
        assert_eq!(body["field"], field, "field in {body}");
    }
}
