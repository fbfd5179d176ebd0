//! Drives the fake Kakao server over real HTTP, the way the Ssgwan server and a browser do.

use std::collections::HashMap;

use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::Value;
use ssgwan_testkit::{FakeKakao, FakeKakaoConfig, KakaoUser, NextOutcome};

const CLIENT_ID: &str = "test-client-id";
const CLIENT_SECRET: &str = "test-client-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:8080/api/auth/kakao/callback";

async fn start() -> FakeKakao {
    FakeKakao::start(FakeKakaoConfig {
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
        redirect_uri: REDIRECT_URI.to_owned(),
    })
    .await
}

/// A client that reports redirects instead of following them.
fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a plain HTTP client builds")
}

/// Calls `/oauth/authorize` and returns the raw response.
async fn authorize(
    kakao: &FakeKakao,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
) -> reqwest::Response {
    client()
        .get(kakao.auth_url())
        .query(&[
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("state", state),
            ("scope", "profile_nickname,profile_image"),
        ])
        .send()
        .await
        .expect("authorize request")
}

/// The query parameters of a 302 response's `Location`, after checking where it points.
fn redirect_params(response: &reqwest::Response) -> HashMap<String, String> {
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("an ASCII Location");
    let url = url_parts(location);
    assert_eq!(url.0, REDIRECT_URI, "redirects to the registered URI");
    url.1
}

/// Splits a URL into the part before `?` and its decoded query parameters.
fn url_parts(location: &str) -> (String, HashMap<String, String>) {
    let (base, query) = location.split_once('?').unwrap_or((location, ""));
    let params = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), percent_decode(value))
        })
        .collect();
    (base.to_owned(), params)
}

/// Strict percent-decoding (a `+` stays a `+`), to check Kakao-style `%20` encoding.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ASCII hex");
            out.push(u8::from_str_radix(hex, 16).expect("valid hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// Gets a fresh code for the current outcome.
async fn fresh_code(kakao: &FakeKakao) -> String {
    let response = authorize(kakao, CLIENT_ID, REDIRECT_URI, "st").await;
    let params = redirect_params(&response);
    params.get("code").expect("a code").clone()
}

/// Posts a token request with the given form.
async fn exchange(kakao: &FakeKakao, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = client()
        .post(kakao.token_url())
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

fn good_form(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("redirect_uri", REDIRECT_URI),
        ("code", code),
    ]
}

async fn user_me(kakao: &FakeKakao, bearer: Option<&str>) -> (StatusCode, Value) {
    let mut request = client().get(kakao.user_url());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("user request");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn full_flow_authorize_token_user() {
    let kakao = start().await;
    assert!(kakao.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(kakao.token_exchanges(), 0);

    let response = authorize(&kakao, CLIENT_ID, REDIRECT_URI, "state-123").await;
    let params = redirect_params(&response);
    assert_eq!(params.get("state").map(String::as_str), Some("state-123"));
    let code = params.get("code").expect("a code").clone();
    assert!(!code.is_empty());

    let (status, body) = exchange(&kakao, &good_form(&code)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 21599);
    assert_eq!(body["refresh_token_expires_in"], 5_183_999);
    assert_eq!(body["scope"], "profile_nickname,profile_image");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let access_token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    assert_eq!(kakao.token_exchanges(), 1);

    let (status, user) = user_me(&kakao, Some(&access_token)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["id"], 1001);
    assert_eq!(user["connected_at"], "2026-11-25T00:00:00Z");
    assert_eq!(user["properties"]["nickname"], "카카오친구");
    assert_eq!(
        user["kakao_account"]["profile_nickname_needs_agreement"],
        false
    );
    assert_eq!(user["kakao_account"]["profile"]["nickname"], "카카오친구");
    // The default user has no image and no email: those fields are left out.
    assert!(user["properties"].get("profile_image").is_none());
    assert!(
        user["kakao_account"]["profile"]
            .get("profile_image_url")
            .is_none()
    );
    assert!(user["kakao_account"].get("email").is_none());
}

#[tokio::test]
async fn granted_user_with_image_and_email_is_reported() {
    let kakao = start().await;
    kakao.set_next_outcome(NextOutcome::Grant(KakaoUser {
        id: 987_654_321_012,
        nickname: "쓱완".to_owned(),
        profile_image_url: Some("https://k.kakaocdn.net/img.jpg".to_owned()),
        email: Some("ssgwan@example.com".to_owned()),
    }));
    let code = fresh_code(&kakao).await;
    let (status, body) = exchange(&kakao, &good_form(&code)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();

    let (status, user) = user_me(&kakao, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], 987_654_321_012_i64);
    assert_eq!(user["properties"]["nickname"], "쓱완");
    assert_eq!(
        user["properties"]["profile_image"],
        "https://k.kakaocdn.net/img.jpg"
    );
    let profile = &user["kakao_account"]["profile"];
    assert_eq!(
        profile["profile_image_url"],
        "https://k.kakaocdn.net/img.jpg"
    );
    assert_eq!(
        profile["thumbnail_image_url"],
        "https://k.kakaocdn.net/img.jpg"
    );
    assert_eq!(profile["is_default_image"], false);
    assert_eq!(user["kakao_account"]["email"], "ssgwan@example.com");
}

#[tokio::test]
async fn reused_code_is_refused() {
    let kakao = start().await;
    let code = fresh_code(&kakao).await;
    let (status, _) = exchange(&kakao, &good_form(&code)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = exchange(&kakao, &good_form(&code)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_code"], "KOE320");
    assert_eq!(
        body["error_description"],
        format!("authorization code not found for code={code}")
    );
    assert_eq!(kakao.token_exchanges(), 1);
}

#[tokio::test]
async fn unknown_code_is_refused() {
    let kakao = start().await;
    let (status, body) = exchange(&kakao, &good_form("no-such-code")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_code"], "KOE320");
}

#[tokio::test]
async fn wrong_or_missing_secret_is_refused() {
    let kakao = start().await;
    let code = fresh_code(&kakao).await;

    let mut form = good_form(&code);
    form[2] = ("client_secret", "wrong-secret");
    let (status, body) = exchange(&kakao, &form).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_code"], "KOE010");

    form.remove(2);
    let (status, body) = exchange(&kakao, &form).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_code"], "KOE010");

    // A failed client authentication does not burn the code.
    let (status, _) = exchange(&kakao, &good_form(&code)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kakao.token_exchanges(), 1);
}

#[tokio::test]
async fn http_basic_client_authentication_is_accepted() {
    let kakao = start().await;
    let code = fresh_code(&kakao).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("redirect_uri", REDIRECT_URI),
        ("code", code.as_str()),
    ];

    let response = client()
        .post(kakao.token_url())
        .basic_auth(CLIENT_ID, Some("wrong-secret"))
        .form(&form)
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .headers()
            .contains_key(reqwest::header::WWW_AUTHENTICATE)
    );

    let response = client()
        .post(kakao.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["token_type"], "bearer");
}

#[tokio::test]
async fn wrong_client_id_is_refused() {
    let kakao = start().await;
    let response = authorize(&kakao, "other-client", REDIRECT_URI, "st").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(reqwest::header::LOCATION).is_none());
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request");

    let code = fresh_code(&kakao).await;
    let mut form = good_form(&code);
    form[1] = ("client_id", "other-client");
    let (status, body) = exchange(&kakao, &form).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn wrong_redirect_uri_is_refused_at_authorize() {
    let kakao = start().await;
    for bad in [
        "http://evil.example/callback",
        "http://127.0.0.1:8080/api/auth/kakao/callback/",
        "http://127.0.0.1:8080/api/auth/kakao/callback?x=1",
    ] {
        let response = authorize(&kakao, CLIENT_ID, bad, "st").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(response.headers().get(reqwest::header::LOCATION).is_none());
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "invalid_request");
        assert!(body["error_description"].as_str().is_some());
    }
}

#[tokio::test]
async fn wrong_redirect_uri_is_refused_at_token() {
    let kakao = start().await;
    let code = fresh_code(&kakao).await;
    let mut form = good_form(&code);
    form[3] = ("redirect_uri", "http://127.0.0.1:8080/other");
    let (status, body) = exchange(&kakao, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_code"], "KOE006");
    assert_eq!(kakao.token_exchanges(), 0);
}

#[tokio::test]
async fn deny_outcome_redirects_with_access_denied_and_state() {
    let kakao = start().await;
    kakao.set_next_outcome(NextOutcome::Deny);
    let response = authorize(&kakao, CLIENT_ID, REDIRECT_URI, "keep me").await;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        location.contains("error_description=User%20denied%20access"),
        "{location}"
    );
    let params = redirect_params(&response);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(params.get("state").map(String::as_str), Some("keep me"));
    assert!(!params.contains_key("code"));

    // Sticky until changed.
    let response = authorize(&kakao, CLIENT_ID, REDIRECT_URI, "again").await;
    assert_eq!(
        redirect_params(&response).get("error").map(String::as_str),
        Some("access_denied")
    );
    kakao.set_next_outcome(NextOutcome::Grant(KakaoUser::default_user()));
    let response = authorize(&kakao, CLIENT_ID, REDIRECT_URI, "now").await;
    assert!(redirect_params(&response).contains_key("code"));
}

#[tokio::test]
async fn unknown_or_missing_bearer_is_401() {
    let kakao = start().await;
    for bearer in [Some("not-a-token"), None] {
        let (status, body) = user_me(&kakao, bearer).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["msg"], "this access token does not exist");
        assert_eq!(body["code"], -401);
    }
}

#[tokio::test]
async fn failing_user_endpoint_answers_500() {
    let kakao = start().await;
    let code = fresh_code(&kakao).await;
    let (_, body) = exchange(&kakao, &good_form(&code)).await;
    let token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();

    kakao.set_fail_user_endpoint(true);
    let (status, _) = user_me(&kakao, Some(&token)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    kakao.set_fail_user_endpoint(false);
    let (status, _) = user_me(&kakao, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let kakao = start().await;

    // No query at all.
    let response = client()
        .get(kakao.auth_url())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request");

    // Wrong response_type: redirected back with the error, since the redirect URI is valid.
    let response = client()
        .get(kakao.auth_url())
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "token"),
            ("state", "s"),
        ])
        .send()
        .await
        .expect("request");
    let params = redirect_params(&response);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("unsupported_response_type")
    );

    // Token request that is JSON instead of a form.
    let response = client()
        .post(kakao.token_url())
        .json(&serde_json::json!({ "grant_type": "authorization_code" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request");

    // Wrong grant type, and a repeated parameter.
    let (status, body) = exchange(&kakao, &[("grant_type", "password")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
    let (status, body) = exchange(
        &kakao,
        &[("grant_type", "authorization_code"), ("grant_type", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");

    // Garbage Basic credentials.
    let response = client()
        .post(kakao.token_url())
        .header(reqwest::header::AUTHORIZATION, "Basic !!!not-base64")
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn dropping_the_fake_stops_the_server() {
    let kakao = start().await;
    let url = kakao.auth_url();
    drop(kakao);
    // The abort takes effect when the runtime next gets to the task; allow it a moment.
    for _ in 0..50 {
        // A fresh client each time: no pooled connection to an already-open socket.
        if client().get(&url).send().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("server still answers a second after the FakeKakao was dropped");
}
