//! Kakao login end to end against a Kakao-shaped OAuth server on a free port: real redirects,
//! a real code exchange and a real user fetch over HTTP.

use reqwest::{StatusCode, header};
use ssgwan_testkit::{FakeKakao, FakeKakaoConfig, KakaoUser, NextOutcome};

use crate::support::{TestApp, spawn_app_from, test_args};

const CLIENT_ID: &str = "test-rest-api-key";
const SECRET: &str = "test-client-secret";

/// A server and a fake Kakao that know each other.
async fn setup(secret_on_server: Option<&str>) -> (TestApp, FakeKakao) {
    let dir = tempfile::tempdir().expect("dir");
    // The redirect URI must be known to Kakao before the server's port is: use a fixed public URL
    // and talk to the server on its real address.
    let public_url = "http://localhost:8080";
    let kakao = FakeKakao::start(FakeKakaoConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Some(SECRET.into()),
        redirect_uri: format!("{public_url}/api/auth/kakao/callback"),
    })
    .await;
    let (auth, token, user) = (kakao.auth_url(), kakao.token_url(), kakao.user_url());
    let mut extra = vec![
        "--public-url",
        public_url,
        "--kakao-client-id",
        CLIENT_ID,
        "--kakao-auth-url",
        &auth,
        "--kakao-token-url",
        &token,
        "--kakao-user-url",
        &user,
    ];
    if let Some(secret) = secret_on_server {
        extra.extend(["--kakao-client-secret", secret]);
    }
    let args = test_args(&dir, &extra);
    (spawn_app_from(dir, args).await, kakao)
}

/// What the browser holds after one round trip: where it ended and the cookies it was given.
struct Outcome {
    location: String,
    session_cookie: Option<String>,
}

fn cookie_pair(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Step 1: the server sends the browser to Kakao with a state, and sets the state cookie.
async fn start(app: &TestApp) -> (String, String) {
    let response = app
        .client
        .get(app.url("/api/auth/kakao"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FOUND);
    let state_cookie = cookie_pair(&response, "ssgwan_oauth_state").expect("state cookie");
    (location(&response), state_cookie)
}

/// Step 2: Kakao (auto-consent) sends the browser back with a code or an error.
async fn consent(app: &TestApp, authorize: &str) -> String {
    let response = app.client.get(authorize).send().await.expect("sent");
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "{}",
        response.text().await.unwrap_or_default()
    );
    location(&response)
}

/// Step 3: the callback, sent to the server's real address with the browser's state cookie.
async fn callback(app: &TestApp, redirect: &str, state_cookie: Option<&str>) -> Outcome {
    let path = redirect
        .strip_prefix("http://localhost:8080")
        .expect("redirect to the public URL");
    let mut request = app.client.get(app.url(path));
    if let Some(cookie) = state_cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::FOUND);
    Outcome {
        location: location(&response),
        session_cookie: cookie_pair(&response, "ssgwan_session"),
    }
}

async fn full_login(app: &TestApp) -> Outcome {
    let (authorize, state_cookie) = start(app).await;
    let redirect = consent(app, &authorize).await;
    callback(app, &redirect, Some(&state_cookie)).await
}

async fn me(app: &TestApp, session_cookie: &str) -> serde_json::Value {
    let response = app
        .client
        .get(app.url("/api/me"))
        .header(header::COOKIE, session_cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn kakao_user(id: i64, nickname: &str) -> KakaoUser {
    KakaoUser {
        id,
        nickname: nickname.into(),
        profile_image_url: Some(format!("https://k.kakaocdn.net/{id}.jpg")),
        email: None,
    }
}

#[tokio::test]
async fn a_kakao_login_creates_the_user_and_a_second_login_finds_it() {
    let (app, kakao) = setup(Some(SECRET)).await;
    kakao.set_next_outcome(NextOutcome::Grant(kakao_user(42, "카카오민수")));
    let first = full_login(&app).await;
    assert_eq!(first.location, "/");
    let session = first.session_cookie.expect("session cookie");
    let profile = me(&app, &session).await;
    assert_eq!(profile["nickname"], "카카오민수");
    assert_eq!(profile["profileImage"], "https://k.kakaocdn.net/42.jpg");

    let second = full_login(&app).await;
    assert_eq!(
        me(&app, &second.session_cookie.expect("session")).await["id"],
        profile["id"]
    );
    assert_eq!(kakao.token_exchanges(), 2);
    let (_, providers) = app.get("/api/auth/providers", None).await;
    assert_eq!(providers["kakao"], true);
}

#[tokio::test]
async fn a_taken_nickname_is_made_unique() {
    let (app, kakao) = setup(Some(SECRET)).await;
    kakao.set_next_outcome(NextOutcome::Grant(kakao_user(1, "같은이름")));
    let a = full_login(&app).await.session_cookie.expect("session");
    kakao.set_next_outcome(NextOutcome::Grant(kakao_user(2, "같은이름")));
    let b = full_login(&app).await.session_cookie.expect("session");
    let (a, b) = (me(&app, &a).await, me(&app, &b).await);
    assert_ne!(a["id"], b["id"]);
    assert_eq!(a["nickname"], "같은이름");
    assert_eq!(b["nickname"], "같은이름1");
}

#[tokio::test]
async fn a_refused_or_lookalike_kakao_name_still_signs_in() {
    let (app, kakao) = setup(Some(SECRET)).await;
    let mut names = Vec::new();
    for (id, kakao_name) in [
        (10, "admin"),
        (11, "\u{3164}\u{3164}"),
        (12, "\u{200b}\u{200b}"),
        (13, "\u{202e}nimda"),
        (14, "\u{430}dmin"),
        (15, "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}"),
        (16, "e\u{301}\u{301}\u{301}\u{301}\u{301}\u{301}"),
    ] {
        kakao.set_next_outcome(NextOutcome::Grant(kakao_user(id, kakao_name)));
        let session = full_login(&app).await.session_cookie.expect("session");
        names.push(me(&app, &session).await["nickname"].clone());
    }
    assert_eq!(
        names,
        [
            "admin",
            "쓱관러",
            "쓱관러1",
            "nimda",
            "\u{430}dmin1",
            "admin2",
            "\u{e9}\u{301}",
        ]
    );
}

#[tokio::test]
async fn denied_consent_ends_at_login_with_an_error_and_no_session() {
    let (app, kakao) = setup(Some(SECRET)).await;
    kakao.set_next_outcome(NextOutcome::Deny);
    let outcome = full_login(&app).await;
    assert_eq!(outcome.location, "/login?error=access_denied");
    assert!(outcome.session_cookie.is_none());
    assert_eq!(kakao.token_exchanges(), 0);
}

#[tokio::test]
async fn a_forged_or_missing_state_is_refused() {
    let (app, _kakao) = setup(Some(SECRET)).await;
    let (authorize, state_cookie) = start(&app).await;
    let redirect = consent(&app, &authorize).await;
    // Another browser's state cookie, or none at all.
    let forged = callback(
        &app,
        &redirect,
        Some("ssgwan_oauth_state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await;
    assert_eq!(forged.location, "/login?error=invalid_state");
    let missing = callback(&app, &redirect, None).await;
    assert_eq!(missing.location, "/login?error=invalid_state");
    assert!(forged.session_cookie.is_none() && missing.session_cookie.is_none());
    // A state the server never issued, even with a matching cookie.
    let made_up = redirect.replace(
        &state_cookie["ssgwan_oauth_state=".len()..],
        "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
    );
    let made_up = callback(
        &app,
        &made_up,
        Some("ssgwan_oauth_state=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
    )
    .await;
    assert_eq!(made_up.location, "/login?error=invalid_state");
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let (app, _kakao) = setup(Some(SECRET)).await;
    let (authorize, state_cookie) = start(&app).await;
    let redirect = consent(&app, &authorize).await;
    let first = callback(&app, &redirect, Some(&state_cookie)).await;
    assert_eq!(first.location, "/");
    let replay = callback(&app, &redirect, Some(&state_cookie)).await;
    assert_eq!(replay.location, "/login?error=invalid_state");
    assert!(replay.session_cookie.is_none());
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let (app, _kakao) = setup(Some(SECRET)).await;
    let (authorize, state_cookie) = start(&app).await;
    let redirect = consent(&app, &authorize).await;
    app.clock.advance(jiff::SignedDuration::from_mins(11));
    assert_eq!(
        callback(&app, &redirect, Some(&state_cookie))
            .await
            .location,
        "/login?error=invalid_state"
    );
}

#[tokio::test]
async fn a_failing_kakao_ends_at_login_never_a_500() {
    // Wrong client secret: the token endpoint refuses the exchange.
    let (app, _kakao) = setup(Some("wrong-secret")).await;
    let outcome = full_login(&app).await;
    assert_eq!(outcome.location, "/login?error=kakao_failed");
    assert!(outcome.session_cookie.is_none());

    // The user endpoint fails after a good exchange.
    let (app, kakao) = setup(Some(SECRET)).await;
    kakao.set_fail_user_endpoint(true);
    let outcome = full_login(&app).await;
    assert_eq!(outcome.location, "/login?error=kakao_failed");
    assert!(outcome.session_cookie.is_none());
}

#[tokio::test]
async fn kakao_login_is_unavailable_when_not_configured() {
    let app = crate::support::spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/auth/kakao"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/login?error=kakao_unavailable");
    let response = app
        .client
        .get(app.url("/api/auth/kakao/callback?code=x&state=y"))
        .send()
        .await
        .expect("sent");
    assert_eq!(location(&response), "/login?error=kakao_unavailable");
}
