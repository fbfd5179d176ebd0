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

/// An error of the auth server (`kauth.kakao.com`), e.g.
/// `{"error":"invalid_grant","error_description":"…","error_code":"KOE320"}`.
#[derive(Debug, Serialize)]
struct OAuthError {
    #[serde(skip)]
    status: StatusCode,
    /// Sent as `WWW-Authenticate` when a client that tried HTTP Basic fails to authenticate
    /// (RFC 6749 §5.2).
    #[serde(skip)]
    basic_challenge: bool,
    error: &'static str,
    error_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            basic_challenge: false,
            error,
            error_description: description.into(),
            error_code: None,
        }
    }

    fn code(mut self, error_code: &'static str) -> Self {
        self.error_code = Some(error_code);
        self
    }

    /// 400 `invalid_request`: a parameter is missing, repeated or malformed.
    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 `invalid_client`: unknown client or wrong client secret.
    fn invalid_client(description: impl Into<String>, error_code: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description).code(error_code)
    }

    /// 400 `invalid_grant`: the code is unknown, used, expired or for another redirect URI.
    fn invalid_grant(description: impl Into<String>, error_code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description).code(error_code)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        tracing::debug!(error = self.error, description = %self.error_description, "fake Kakao rejected a request");
        let mut response = (self.status, axum::Json(&self)).into_response();
        if self.basic_challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"fake-kakao\""),
            );
        }
        response
    }
}

/// An error of the API server (`kapi.kakao.com`), e.g.
/// `{"msg":"this access token does not exist","code":-401}`.
fn api_error(status: StatusCode, msg: &str, code: i32) -> Response {
    (status, axum::Json(json!({ "msg": msg, "code": code }))).into_response()
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Parses `application/x-www-form-urlencoded` parameters (a query string or a form body).
/// A parameter given twice is an error, as RFC 6749 §3.1 requires.
fn parse_params(input: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(input) {
        match params.entry(name.into_owned()) {
            Entry::Vacant(slot) => {
                slot.insert(value.into_owned());
            }
            Entry::Occupied(slot) => {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} is included more than once",
                    slot.key()
                )));
            }
        }
    }
    Ok(params)
}

/// The value of a required parameter, or `invalid_request` naming it.
fn required<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

/// A random alphanumeric string, used for codes and tokens.
fn random_secret() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
}

/// Percent-encodes a query component, with spaces as `%20` like Kakao (not `+`).
fn encode_query_component(value: &str) -> String {
    // byte_serialize encodes a literal '+' as %2B, so every '+' left in its output is a space.
    form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `base` with `params` appended to its query (keeping any query it already has).
fn with_query(mut base: Url, params: &[(&str, &str)]) -> Url {
    let mut query = base.query().unwrap_or_default().to_owned();
    for (name, value) in params {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&encode_query_component(value));
    }
    base.set_query(Some(&query));
    base
}

/// A 302 redirect to `location`.
fn redirect(location: &Url) -> Response {
    match HeaderValue::from_str(location.as_str()) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        // A serialized Url is always ASCII without control characters; answer rather than panic.
        Err(_) => OAuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "redirect location is not a valid header value",
        )
        .into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /oauth/authorize
// ---------------------------------------------------------------------------------------------

/// The consent step, auto-granted: checks the client and redirect URI, then redirects back with
/// a fresh code (or `access_denied` when the test set [`NextOutcome::Deny`]).
///
/// Errors about the client or the redirect URI are answered here as 400 JSON and never
/// redirected (RFC 6749 §4.1.2.1: the redirect URI cannot be trusted). Errors after that, such
/// as an unsupported `response_type`, are redirected back with `error=…` as the RFC requires.
async fn authorize(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    match authorize_inner(&shared, query.as_deref().unwrap_or_default()) {
        Ok(location) => redirect(&location),
        Err(error) => error.into_response(),
    }
}

/// Validates an authorization request; `Ok` is where to redirect the browser (with a code or
/// a redirectable error), `Err` is answered directly.
fn authorize_inner(shared: &Shared, query: &str) -> Result<Url, OAuthError> {
    let config = &shared.config;
    let params = parse_params(query.as_bytes())?;
    let client_id = required(&params, "client_id")?;
    if client_id != config.client_id {
        return Err(
            OAuthError::invalid_request(format!("invalid client_id: {client_id}")).code("KOE101"),
        );
    }
    let redirect_uri = required(&params, "redirect_uri")?;
    if redirect_uri != config.redirect_uri {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri mismatch: {redirect_uri} is not the registered redirect URI"
        ))
        .code("KOE006"));
    }
    let target = Url::parse(redirect_uri).map_err(|error| {
        OAuthError::invalid_request(format!("registered redirect_uri is not a URL: {error}"))
    })?;
    // `state` is optional at Kakao; when present it is echoed unchanged.
    let state = params.get("state").map(String::as_str);
    let mut reply: Vec<(&str, &str)> = Vec::new();

    let response_type = params.get("response_type").map(String::as_str);
    if response_type != Some("code") {
        tracing::debug!(?response_type, "fake Kakao: unsupported response_type");
        reply.push(("error", "unsupported_response_type"));
        reply.push(("error_description", "response_type must be code"));
        reply.extend(state.map(|s| ("state", s)));
        return Ok(with_query(target, &reply));
    }

    let outcome = shared.lock().next_outcome.clone();
    let user = match outcome {
        NextOutcome::Grant(user) => user,
        NextOutcome::Deny => {
            tracing::debug!("fake Kakao: denying authorization as the test asked");
            reply.push(("error", "access_denied"));
            reply.push(("error_description", "User denied access"));
            reply.extend(state.map(|s| ("state", s)));
            return Ok(with_query(target, &reply));
        }
    };
    let code = random_secret();
    tracing::debug!(user_id = user.id, "fake Kakao: issuing authorization code");
    shared.lock().codes.insert(
        code.clone(),
        IssuedCode {
            user,
            redirect_uri: redirect_uri.to_owned(),
            expires_at: Instant::now() + CODE_TTL,
        },
    );
    reply.push(("code", &code));
    reply.extend(state.map(|s| ("state", s)));
    Ok(with_query(target, &reply))
}

// ---------------------------------------------------------------------------------------------
// POST /oauth/token
// ---------------------------------------------------------------------------------------------

/// A successful token answer, in Kakao's shape (note the lower-case `"bearer"`).
#[derive(Debug, Serialize)]
struct TokenResponse {
    token_type: &'static str,
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    refresh_token_expires_in: u64,
    scope: &'static str,
}

/// Client credentials from an `Authorization: Basic` header.
struct BasicCredentials {
    client_id: String,
    client_secret: String,
}

/// Reads `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
/// `Ok(None)` when there is no Basic header; malformed headers are `invalid_client`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        let mut error =
            OAuthError::invalid_client("malformed Basic authorization header", "KOE010");
        error.basic_challenge = true;
        error
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some(BasicCredentials {
        client_id: unescape(id),
        client_secret: unescape(secret),
    }))
}

/// Exchanges an authorization code for tokens.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    match token_inner(&shared, &headers, &body) {
        Ok(tokens) => {
            let mut response = (StatusCode::OK, axum::Json(tokens)).into_response();
            // RFC 6749 §5.1: token responses must not be cached.
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => error.into_response(),
    }
}

fn token_inner(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let config = &shared.config;

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type.split(';').next().is_some_and(|mime| {
        mime.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let params = parse_params(body)?;

    let grant_type = required(&params, "grant_type")?;
    if grant_type != "authorization_code" {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("unsupported grant_type: {grant_type}"),
        ));
    }

    // Client authentication: form body (Kakao's way) or HTTP Basic, but not both at once.
    let basic = basic_credentials(headers)?;
    let (client_id, client_secret, used_basic) = match &basic {
        Some(basic) => {
            if params.contains_key("client_secret") {
                return Err(OAuthError::invalid_request(
                    "client credentials sent both in the Authorization header and the body",
                ));
            }
            if params
                .get("client_id")
                .is_some_and(|id| *id != basic.client_id)
            {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Authorization header",
                ));
            }
            (
                basic.client_id.as_str(),
                Some(basic.client_secret.as_str()),
                true,
            )
        }
        None => (
            required(&params, "client_id")?,
            params.get("client_secret").map(String::as_str),
            false,
        ),
    };
    let challenge = |mut error: OAuthError| {
        error.basic_challenge = used_basic;
        error
    };
    if client_id != config.client_id {
        return Err(challenge(OAuthError::invalid_client(
            format!("invalid client_id: {client_id}"),
            "KOE101",
        )));
    }
    if let Some(expected) = &config.client_secret {
        match client_secret {
            Some(given) if given == expected => {}
            Some(_) => {
                return Err(challenge(OAuthError::invalid_client(
                    "Bad client credentials",
                    "KOE010",
                )));
            }
            None => {
                return Err(challenge(OAuthError::invalid_client(
                    "client_secret is required",
                    "KOE010",
                )));
            }
        }
    }

    let code = required(&params, "code")?;
    let redirect_uri = required(&params, "redirect_uri")?;
    let mut inner = shared.lock();
    // Removing the code makes it single use: any exchange attempt that gets this far (an
    // authenticated client naming the code) burns it, successful or not.
    let Some(issued) = inner.codes.remove(code) else {
        return Err(OAuthError::invalid_grant(
            format!("authorization code not found for code={code}"),
            "KOE320",
        ));
    };
    if Instant::now() >= issued.expires_at {
        return Err(OAuthError::invalid_grant(
            format!("authorization code expired for code={code}"),
            "KOE320",
        ));
    }
    if redirect_uri != issued.redirect_uri {
        return Err(OAuthError::invalid_grant(
            format!(
                "redirect_uri mismatch: {redirect_uri} is not the redirect URI the code was issued for"
            ),
            "KOE006",
        ));
    }

    let access_token = random_secret();
    let refresh_token = random_secret();
    tracing::debug!(user_id = issued.user.id, "fake Kakao: issuing access token");
    inner
        .access_tokens
        .insert(access_token.clone(), issued.user);
    inner.token_exchanges += 1;
    Ok(TokenResponse {
        token_type: "bearer",
        access_token,
        expires_in: ACCESS_TOKEN_EXPIRES_IN,
        refresh_token,
        refresh_token_expires_in: REFRESH_TOKEN_EXPIRES_IN,
        scope: GRANTED_SCOPE,
    })
}

// ---------------------------------------------------------------------------------------------
// GET|POST /v2/user/me
// ---------------------------------------------------------------------------------------------

/// The bearer token of an `Authorization: Bearer <token>` header, if any.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|token| !token.is_empty())
}

/// The profile of the user the access token was issued for, in Kakao's shape.
async fn user_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let user = {
        let inner = shared.lock();
        if inner.fail_user_endpoint {
            drop(inner);
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error (simulated by the test)",
                -1,
            );
        }
        bearer_token(&headers).and_then(|token| inner.access_tokens.get(token).cloned())
    };
    match user {
        Some(user) => (StatusCode::OK, axum::Json(user_json(&user))).into_response(),
        None => api_error(
            StatusCode::UNAUTHORIZED,
            "this access token does not exist",
            -401,
        ),
    }
}

/// Renders `/v2/user/me` for a user; image and email fields only when the user has them.
fn user_json(user: &KakaoUser) -> Value {
    let mut properties = Map::new();
    properties.insert("nickname".into(), json!(user.nickname));

    let mut profile = Map::new();
    profile.insert("nickname".into(), json!(user.nickname));

    let mut account = Map::new();
    account.insert("profile_nickname_needs_agreement".into(), json!(false));

    if let Some(image) = &user.profile_image_url {
        properties.insert("profile_image".into(), json!(image));
        properties.insert("thumbnail_image".into(), json!(image));
        profile.insert("thumbnail_image_url".into(), json!(image));
        profile.insert("profile_image_url".into(), json!(image));
        profile.insert("is_default_image".into(), json!(false));
        account.insert("profile_image_needs_agreement".into(), json!(false));
    }
    account.insert("profile".into(), Value::Object(profile));
    if let Some(email) = &user.email {
        account.insert("has_email".into(), json!(true));
        account.insert("email_needs_agreement".into(), json!(false));
        account.insert("is_email_valid".into(), json!(true));
        account.insert("is_email_verified".into(), json!(true));
        account.insert("email".into(), json!(email));
    }

    json!({
        "id": user.id,
        "connected_at": CONNECTED_AT,
        "properties": properties,
        "kakao_account": account,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_encode_spaces_as_percent_20() {
        assert_eq!(
            encode_query_component("User denied access"),
            "User%20denied%20access"
        );
        assert_eq!(encode_query_component("a+b&c"), "a%2Bb%26c");
    }

    #[test]
    fn with_query_keeps_an_existing_query() {
        let base = Url::parse("http://localhost/cb?x=1").expect("a literal URL");
        let url = with_query(base, &[("code", "abc"), ("state", "s t")]);
        assert_eq!(url.as_str(), "http://localhost/cb?x=1&code=abc&state=s%20t");
    }

    #[test]
    fn repeated_parameters_are_rejected() {
        assert!(parse_params(b"code=a&code=b").is_err());
        assert!(parse_params(b"code=a&state=b").is_ok());
    }

    #[test]
    fn user_json_omits_missing_image_and_email() {
        let value = user_json(&KakaoUser::default_user());
        assert_eq!(value["id"], 1001);
        assert_eq!(value["properties"]["nickname"], "카카오친구");
        assert!(value["properties"].get("profile_image").is_none());
        assert!(
            value["kakao_account"]["profile"]
                .get("profile_image_url")
                .is_none()
        );
        assert!(value["kakao_account"].get("email").is_none());
    }
}
