//! Test support for Ssgwan: a fake, Kakao-shaped OAuth 2.0 authorization server, and throwaway
//! databases on the test command's PostgreSQL and MariaDB servers ([`databases`]).
//!
//! # Why this exists
//!
//! Ssgwan signs users in with Kakao's authorization-code flow. Mocking the OAuth client inside
//! the server would test nothing of what actually breaks in production: the redirect query, the
//! form-encoded token request, client authentication, the JSON the server has to parse. So
//! integration tests start [`FakeKakao`] on a free loopback port, point the server's
//! `--kakao-auth-url`, `--kakao-token-url` and `--kakao-user-url` at it, and the server under
//! test goes through a real redirect, code exchange and user fetch over HTTP.
//!
//! # What it speaks
//!
//! The wire format of Kakao's public REST API docs, for the three endpoints a login needs:
//!
//! * `GET /oauth/authorize` — no login form: it grants (or, when told to, denies) at once and
//!   302-redirects to the registered `redirect_uri` with `code` (or `error`) and `state`.
//! * `POST /oauth/token` — `grant_type=authorization_code`, form-encoded; the client
//!   authenticates in the body (as Kakao expects) or with HTTP Basic (as RFC 6749 allows).
//!   Codes are single use and expire after ten minutes.
//! * `GET` (or `POST`) `/v2/user/me` — the profile of the user the bearer token was issued for.
//!
//! Errors use Kakao's JSON shapes (`{"error", "error_description", "error_code"}` on the auth
//! server, `{"msg", "code"}` on the API server). Bad requests never panic the fake.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() {
//! use ssgwan_testkit::{FakeKakao, FakeKakaoConfig, KakaoUser, NextOutcome};
//!
//! let kakao = FakeKakao::start(FakeKakaoConfig {
//!     client_id: "test-client".into(),
//!     client_secret: Some("test-secret".into()),
//!     redirect_uri: "http://127.0.0.1:8080/api/auth/kakao/callback".into(),
//! })
//! .await;
//! kakao.set_next_outcome(NextOutcome::Grant(KakaoUser {
//!     id: 42,
//!     nickname: "ssgwan".into(),
//!     profile_image_url: None,
//!     email: Some("ssgwan@example.com".into()),
//! }));
//! // Configure the server under test with kakao.auth_url(), kakao.token_url(), kakao.user_url().
//! # }
//! ```

pub mod databases;
mod endpoints;
mod wire;

use endpoints::{authorize, token, user_me};

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use rand::Rng as _;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;
use url::form_urlencoded;

/// How long an authorization code may wait before it is exchanged (Kakao: 10 minutes).
const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// `expires_in` of issued access tokens, in seconds (Kakao: about 6 hours).
const ACCESS_TOKEN_EXPIRES_IN: u64 = 21_599;
/// `refresh_token_expires_in` of issued refresh tokens, in seconds (Kakao: about 2 months).
const REFRESH_TOKEN_EXPIRES_IN: u64 = 5_183_999;
/// The scopes every grant reports, like a Kakao app with the two default profile items.
const GRANTED_SCOPE: &str = "profile_nickname,profile_image";
/// `connected_at` reported for every user: fixed, so tests can compare answers.
const CONNECTED_AT: &str = "2026-11-25T00:00:00Z";
/// Length of random codes and tokens (alphanumeric characters).
const SECRET_LEN: usize = 40;

/// How the fake is registered, like an app in Kakao's developer console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeKakaoConfig {
    /// The REST API key the server under test sends as `client_id`.
    pub client_id: String,
    /// The client secret; when `Some`, the token endpoint requires it (Kakao's "client secret"
    /// option), when `None` any secret sent is ignored.
    pub client_secret: Option<String>,
    /// The one registered redirect URI; `redirect_uri` parameters must equal it exactly.
    pub redirect_uri: String,
}

/// A Kakao account, as `/v2/user/me` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KakaoUser {
    /// Kakao's numeric user id (the stable identifier a service keys accounts on).
    pub id: i64,
    /// The profile nickname.
    pub nickname: String,
    /// The profile image; when `None` the image fields are left out of the answer.
    pub profile_image_url: Option<String>,
    /// The account email; when `None` it is left out of the answer.
    pub email: Option<String>,
}

impl KakaoUser {
    /// The user granted when a test has not said otherwise: id 1001, nickname "카카오친구".
    pub fn default_user() -> Self {
        Self {
            id: 1001,
            nickname: "카카오친구".to_owned(),
            profile_image_url: None,
            email: None,
        }
    }
}

/// What the next `GET /oauth/authorize` does. Sticky: it applies to every later authorization
/// request until it is changed with [`FakeKakao::set_next_outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextOutcome {
    /// The user consents: redirect with a code issued for this user.
    Grant(KakaoUser),
    /// The user cancels on the consent screen: redirect with `error=access_denied`.
    Deny,
}

impl Default for NextOutcome {
    fn default() -> Self {
        Self::Grant(KakaoUser::default_user())
    }
}

/// A running fake Kakao server on a loopback port.
///
/// Dropping it stops the server: it stops accepting connections, open connections are told to
/// close, and the spawned server task is aborted.
#[derive(Debug)]
pub struct FakeKakao {
    base_url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl FakeKakao {
    /// Starts the fake on `127.0.0.1` with a port chosen by the OS.
    ///
    /// # Panics
    ///
    /// If the loopback interface cannot be bound at all, which a test cannot work around.
    pub async fn start(config: FakeKakaoConfig) -> FakeKakao {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("binding 127.0.0.1:0 (an OS-chosen loopback port) cannot fail")
    }

    /// Starts the fake on a given address (used by the `fake-kakao` binary for a fixed port).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound, e.g. because the port is taken.
    pub async fn start_on(config: FakeKakaoConfig, addr: SocketAddr) -> std::io::Result<FakeKakao> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        let shared = Arc::new(Shared {
            config,
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route("/v2/user/me", get(user_me).post(user_me))
            .with_state(Arc::clone(&shared));
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                // Resolves on an explicit send or when the sender is dropped with the FakeKakao.
                let _ = shutdown_rx.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "fake Kakao server stopped with an error");
            }
        });
        tracing::debug!(%base_url, "fake Kakao server listening");
        Ok(FakeKakao {
            base_url,
            shared,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// The server's origin, e.g. `http://127.0.0.1:43123` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The authorization endpoint, `<base>/oauth/authorize`.
    pub fn auth_url(&self) -> String {
        format!("{}/oauth/authorize", self.base_url)
    }

    /// The token endpoint, `<base>/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url)
    }

    /// The user endpoint, `<base>/v2/user/me`.
    pub fn user_url(&self) -> String {
        format!("{}/v2/user/me", self.base_url)
    }

    /// Sets what `/oauth/authorize` does from now on (see [`NextOutcome`]).
    pub fn set_next_outcome(&self, outcome: NextOutcome) {
        self.shared.lock().next_outcome = outcome;
    }

    /// When `true`, `/v2/user/me` answers 500 to every request, to test a failing Kakao.
    pub fn set_fail_user_endpoint(&self, fail: bool) {
        self.shared.lock().fail_user_endpoint = fail;
    }

    /// How many token exchanges succeeded so far.
    pub fn token_exchanges(&self) -> usize {
        self.shared.lock().token_exchanges
    }
}

impl Drop for FakeKakao {
    fn drop(&mut self) {
        // Graceful shutdown first: it is what tells already-open keep-alive connections (which
        // axum serves on their own tasks) to close. Aborting the task then frees the port at once.
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

/// State shared by the handlers and the [`FakeKakao`] handle.
#[derive(Debug)]
struct Shared {
    config: FakeKakaoConfig,
    inner: Mutex<Inner>,
}

impl Shared {
    /// Locks the mutable state. A handler cannot panic while holding the lock, but should one
    /// ever, the data is still consistent (every update is a single assignment or insert), so
    /// poisoning is ignored rather than turned into more panics.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct Inner {
    next_outcome: NextOutcome,
    fail_user_endpoint: bool,
    /// Authorization codes not yet exchanged, by code.
    codes: HashMap<String, IssuedCode>,
    /// Issued access tokens and the user each was issued for.
    access_tokens: HashMap<String, KakaoUser>,
    token_exchanges: usize,
}

/// What an authorization code was issued for.
#[derive(Debug)]
struct IssuedCode {
    user: KakaoUser,
    redirect_uri: String,
    expires_at: Instant,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------
