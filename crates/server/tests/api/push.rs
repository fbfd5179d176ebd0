//! Web Push: subscriptions checked before they are stored, and pushes received by a push
//! service of the tests' own (`tests/common/push_service.py`, Python's `cryptography` and
//! `http_ece`) that checks the VAPID token and decrypts the payload with its own keys.

use std::{io::BufRead, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, spawn_app_from, spawn_app_with, test_args};

/// The push service, killed when dropped.
pub struct PushService {
    child: std::process::Child,
    pub base: String,
    pub p256dh: String,
    pub auth: String,
    client: reqwest::Client,
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PushService {
    /// `None` (with a note) when the Python tools are not installed.
    pub fn start() -> Option<PushService> {
        let Ok(python) = std::env::var("SSGWAN_TEST_PYTHON") else {
            eprintln!(
                "skipped: SSGWAN_TEST_PYTHON is not set (scripts/lib.sh ensure_python_tools sets it)"
            );
            return None;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/push_service.py");
        let mut child = std::process::Command::new(python)
            .arg(script)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("push service starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("push service says where it listens");
        let hello: Value = serde_json::from_str(&line).expect("JSON hello");
        Some(PushService {
            child,
            base: format!("http://127.0.0.1:{}", hello["port"]),
            p256dh: hello["p256dh"].as_str().expect("p256dh").to_owned(),
            auth: hello["auth"].as_str().expect("auth").to_owned(),
            client: reqwest::Client::new(),
        })
    }

    pub fn subscription(&self, path: &str) -> Value {
        json!({ "endpoint": format!("{}{path}", self.base), "expirationTime": null,
                "keys": { "p256dh": self.p256dh, "auth": self.auth } })
    }

    async fn list(&self, what: &str) -> Vec<Value> {
        let body: Value = self
            .client
            .get(format!("{}/{what}", self.base))
            .send()
            .await
            .expect("push service answers")
            .json()
            .await
            .expect("JSON");
        body.as_array().cloned().unwrap_or_default()
    }

    /// What arrived so far (pushes that failed a check fail the test).
    pub async fn received_now(&self) -> Vec<Value> {
        let rejected = self.list("rejected").await;
        assert!(
            rejected.is_empty(),
            "pushes failed the checks: {rejected:?}"
        );
        self.list("received").await
    }

    /// What arrived, once `count` pushes have (or after 10 s); pushes that failed a check fail
    /// the test.
    pub async fn received(&self, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let rejected = self.list("rejected").await;
            assert!(
                rejected.is_empty(),
                "pushes failed the checks: {rejected:?}"
            );
            let got = self.list("received").await;
            if got.len() >= count || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/me/push-subscriptions", Some(token), body)
        .await
}

/// Seoul 06:00 on Monday 2026-03-09 is 21:00 UTC on the 8th; ten minutes before.
const REMINDER_DUE: &str = "2026-03-08T20:50:00Z";

#[tokio::test]
async fn a_reminder_is_pushed_once_encrypted_and_signed_and_gone_subscriptions_are_deleted() {
    let Some(service) = PushService::start() else {
        return;
    };
    let app = spawn_app_with(&["--dev-login", "--push-allow-loopback-http"]).await;
    let host = app.login("host").await;
    let gone = app.login("gone").await;
    let flaky = app.login("flaky").await;
    // Reminders only, so no other notification is pushed in between.
    for token in [&host, &gone, &flaky] {
        app.call(
            Method::PUT,
            "/api/me/notification-settings",
            Some(token),
            Some(json!({ "kinds": ["SESSION_REMINDER"], "minutesBefore": 10 })),
        )
        .await;
    }
    let id = app.create_challenge(&host, json!({})).await;
    for token in [&gone, &flaky] {
        app.post(
            &format!("/api/challenges/{id}/participants"),
            Some(token),
            json!({}),
        )
        .await;
    }
    let (status, key) = app.get("/api/push/vapid-public-key", None).await;
    assert_eq!(status, StatusCode::OK);
    let vapid_key = key["publicKey"].as_str().expect("key").to_owned();

    assert_eq!(
        subscribe(&app, &host, service.subscription("/push/ok/host"))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        subscribe(&app, &host, service.subscription("/push/ok/host"))
            .await
            .0,
        StatusCode::OK,
        "again: renewed"
    );
    assert_eq!(
        subscribe(&app, &gone, service.subscription("/push/gone/1"))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        subscribe(&app, &flaky, service.subscription("/push/flaky/1"))
            .await
            .0,
        StatusCode::CREATED
    );

    app.set_now(REMINDER_DUE);
    assert_eq!(app.reminders.run_now().await, 3);
    let got = service.received(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let host_push = got
        .iter()
        .find(|p| p["path"] == "/push/ok/host")
        .expect("the host's push");
    assert_eq!(
        host_push["vapidKey"],
        vapid_key.as_str(),
        "signed with the advertised key"
    );
    assert_eq!(host_push["claims"]["sub"], "http://localhost:8080");
    assert_eq!(host_push["payload"]["title"], "새벽 공부 Morning Study");
    assert_eq!(host_push["payload"]["body"], "10분 뒤에 세션이 시작됩니다.");
    assert_eq!(host_push["payload"]["kind"], "SESSION_REMINDER");
    assert_eq!(
        host_push["payload"]["url"],
        format!("http://localhost:8080/challenges/{id}/live")
    );
    assert_eq!(host_push["urgency"], "high");
    assert_eq!(host_push["ttl"], 600, "worth nothing after the start");
    // The flaky service's 429 was retried: one push arrived.
    assert_eq!(
        got.iter().filter(|p| p["path"] == "/push/flaky/1").count(),
        1
    );
    // Once: a second pass sends nothing.
    app.set_now("2026-03-08T20:51:00Z");
    assert_eq!(app.reminders.run_now().await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(service.received_now().await.len(), 2);

    // 410: the subscription was deleted (deleting it again finds nothing; a new one is new).
    let gone_sub = service.subscription("/push/gone/1");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = app
            .call(
                Method::DELETE,
                "/api/me/push-subscriptions",
                Some(&gone),
                Some(json!({ "endpoint": gone_sub["endpoint"] })),
            )
            .await;
        if answer.0 == StatusCode::NOT_FOUND || std::time::Instant::now() > deadline {
            assert_error(&answer, StatusCode::NOT_FOUND, "NOT_FOUND", None);
            break;
        }
        // Not deleted yet: put it back and look again.
        subscribe(&app, &gone, gone_sub.clone()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn bad_subscriptions_and_other_users_endpoints_are_refused_and_nothing_is_stored() {
    let Some(service) = PushService::start() else {
        return;
    };
    let strict = spawn_app_with(&["--dev-login"]).await;
    let me = strict.login("me").await;
    // Without the test flag, http endpoints are refused even on loopback.
    assert_error(
        &subscribe(&strict, &me, service.subscription("/push/ok/1")).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_FAILED",
        Some("endpoint"),
    );

    let app = spawn_app_with(&["--dev-login", "--push-allow-loopback-http"]).await;
    let me = app.login("me").await;
    let other = app.login("other").await;
    let good = service.subscription("/push/ok/mine");
    let with = |path: &[&str], value: Value| {
        let mut body = good.clone();
        let mut at = &mut body;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        body
    };
    for (body, field) in [
        (
            with(&["endpoint"], json!("http://push.example.com/x")),
            "endpoint",
        ),
        (with(&["endpoint"], json!("not a url")), "endpoint"),
        (
            with(
                &["endpoint"],
                json!(format!("https://push.example.com/{}", "a".repeat(800))),
            ),
            "endpoint",
        ),
        (with(&["keys", "p256dh"], json!("AAAA")), "keys.p256dh"),
        (
            with(&["keys", "p256dh"], json!("A".repeat(5000))),
            "keys.p256dh",
        ),
        (
            with(&["keys", "auth"], json!("A".repeat(5000))),
            "keys.auth",
        ),
        (with(&["keys", "auth"], json!("%%%")), "keys.auth"),
    ] {
        assert_error(
            &subscribe(&app, &me, body).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            Some(field),
        );
    }
    assert_eq!(
        subscribe(&app, &me, good.clone()).await.0,
        StatusCode::CREATED
    );
    // Someone else presenting my endpoint is refused, and it stays mine.
    assert_error(
        &subscribe(&app, &other, good.clone()).await,
        StatusCode::CONFLICT,
        "PUSH_SUBSCRIPTION_TAKEN",
        Some("endpoint"),
    );
    let endpoint = json!({ "endpoint": good["endpoint"] });
    let path = "/api/me/push-subscriptions";
    let (status, _) = app
        .call(Method::DELETE, path, Some(&other), Some(endpoint.clone()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        subscribe(&app, &me, good.clone()).await.0,
        StatusCode::OK,
        "still mine"
    );
    let (status, _) = app
        .call(Method::DELETE, path, Some(&me), Some(endpoint.clone()))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(Method::DELETE, path, Some(&me), Some(endpoint))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(
        &app.post("/api/me/push-subscriptions", None, good).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn quiet_hours_hold_pushes_but_keep_the_notification() {
    let Some(service) = PushService::start() else {
        return;
    };
    let app = spawn_app_with(&["--dev-login", "--push-allow-loopback-http"]).await;
    let host = app.login("host").await;
    // A 09:00 Seoul session: its reminder at 08:50 falls in quiet hours 08:00–08:55.
    app.create_challenge(
        &host,
        json!({ "sessionStart": "09:00", "sessionEnd": "10:00" }),
    )
    .await;
    subscribe(&app, &host, service.subscription("/push/ok/quiet")).await;
    let settings = json!({ "kinds": ["SESSION_REMINDER"], "minutesBefore": 10, "quietStart": "08:00", "quietEnd": "08:55" });
    let (status, body) = app
        .call(
            Method::PUT,
            "/api/me/notification-settings",
            Some(&host),
            Some(settings),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.set_now("2026-03-08T23:50:00Z");
    assert_eq!(
        app.reminders.run_now().await,
        1,
        "stored and shown in the app"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(service.received_now().await.len(), 0, "not pushed");
}

#[tokio::test]
async fn two_nodes_push_one_reminder() {
    let Some(service) = PushService::start() else {
        return;
    };
    let shared = tempfile::tempdir().expect("shared dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        shared.path().join("shared.db").display()
    );
    // Both nodes sign with the same VAPID key, as a cluster must.
    let vapid = "IQ9Ur0ykXoHS9gzfYX0aBjy9lvdrjx_PFUXmie9YRcY";
    let start = || async {
        let dir = tempfile::tempdir().expect("dir");
        let args = test_args(
            &dir,
            &[
                "--dev-login",
                "--push-allow-loopback-http",
                "--database-url",
                &url,
                "--vapid-private-key",
                vapid,
                "--reminder-interval-ms",
                "3600000",
            ],
        );
        spawn_app_from(dir, args).await
    };
    let a = start().await;
    let b = start().await;
    assert_eq!(
        a.get("/api/push/vapid-public-key", None).await.1,
        b.get("/api/push/vapid-public-key", None).await.1
    );
    let host = a.login("host").await;
    a.create_challenge(&host, json!({})).await;
    subscribe(&b, &host, service.subscription("/push/ok/cluster")).await;
    a.set_now(REMINDER_DUE);
    b.set_now(REMINDER_DUE);
    let (x, y) = tokio::join!(a.reminders.run_now(), b.reminders.run_now());
    assert_eq!(x + y, 1);
    let (x, y) = tokio::join!(a.reminders.run_now(), b.reminders.run_now());
    assert_eq!(x + y, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = service.received_now().await;
    assert_eq!(
        got.iter()
            .filter(|p| p["payload"]["kind"] == "SESSION_REMINDER")
            .count(),
        1,
        "{got:?}"
    );
}
