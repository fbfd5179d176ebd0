//! Cross-site requests that ride the session cookie: WebSocket upgrades from another origin and
//! body-less or form-encoded changes are refused with 403 `ORIGIN_NOT_ALLOWED`; the app's own
//! origin, the configured extra origins and bearer clients are not.

use reqwest::{Method, RequestBuilder, StatusCode, header};
use serde_json::json;

use crate::support::{TestApp, Ws, assert_error, read, spawn_app, spawn_app_with};

/// The test server's public URL is the default, so this is the app's own origin.
const OWN_ORIGIN: &str = "http://localhost:8080";
/// Another origin of the same site (another port): the probe's attacker page.
const OTHER_ORIGIN: &str = "http://127.0.0.1:8081";

fn with_cookie(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header(header::COOKIE, format!("ssgwan_session={token}"))
}

/// A WebSocket handshake sent with reqwest, so a refusal's JSON body can be read.
async fn raw_upgrade(app: &TestApp, headers: &[(&str, String)]) -> (StatusCode, serde_json::Value) {
    let mut request = app
        .client
        .get(app.url("/api/ws"))
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    read(request.send().await.expect("sent")).await
}

/// Opens `/api/ws` as a browser would: the session cookie and the page's origin.
async fn browser_ws(app: &TestApp, token: &str, origin: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/api/ws", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "cookie",
        format!("ssgwan_session={token}").parse().expect("header"),
    );
    headers.insert("origin", origin.parse().expect("header"));
    let (stream, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    Ws::from_stream(stream)
}

#[tokio::test]
async fn a_cookie_signed_upgrade_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let token = app.login("victim").await;
    let cookie = format!("ssgwan_session={token}");

    let refused = raw_upgrade(
        &app,
        &[("cookie", cookie.clone()), ("origin", OTHER_ORIGIN.into())],
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "ORIGIN_NOT_ALLOWED", None);
    // Fetch metadata says the same without an Origin.
    assert_error(
        &raw_upgrade(
            &app,
            &[("cookie", cookie), ("sec-fetch-site", "cross-site".into())],
        )
        .await,
        StatusCode::FORBIDDEN,
        "ORIGIN_NOT_ALLOWED",
        None,
    );

    // The app's own pages connect with the cookie.
    browser_ws(&app, &token, OWN_ORIGIN)
        .await
        .assert_alive()
        .await;
    // A bearer client sends no Origin, and needs none.
    app.ws(&token).await.assert_alive().await;
}

#[tokio::test]
async fn an_extra_allowed_origin_may_open_the_socket_with_the_cookie() {
    let app = spawn_app_with(&[
        "--dev-login",
        "--allowed-origins",
        "http://127.0.0.1:5173,https://app.example.com",
    ])
    .await;
    let token = app.login("developer").await;
    browser_ws(&app, &token, "http://127.0.0.1:5173")
        .await
        .assert_alive()
        .await;
    browser_ws(&app, &token, "https://app.example.com")
        .await
        .assert_alive()
        .await;
    browser_ws(&app, &token, OWN_ORIGIN)
        .await
        .assert_alive()
        .await;
    assert_error(
        &raw_upgrade(
            &app,
            &[
                ("cookie", format!("ssgwan_session={token}")),
                ("origin", "http://127.0.0.1:5174".into()),
            ],
        )
        .await,
        StatusCode::FORBIDDEN,
        "ORIGIN_NOT_ALLOWED",
        None,
    );
}

async fn participant_count(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/challenges/{id}"), None).await.1["participantCount"]
        .as_i64()
        .expect("participantCount")
}

#[tokio::test]
async fn a_cross_site_form_cannot_join_a_challenge_with_the_cookie() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let victim = app.login("victim").await;
    let id = app.create_challenge(&host, json!({})).await;
    let join = app.url(&format!("/api/challenges/{id}/participants"));
    let form = |request: RequestBuilder| {
        with_cookie(request, &victim)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("x=1")
    };

    for attack in [
        form(app.client.post(&join)).header(header::ORIGIN, OTHER_ORIGIN),
        form(app.client.post(&join)).header(header::ORIGIN, "https://evil.example"),
        form(app.client.post(&join)).header("sec-fetch-site", "cross-site"),
        form(app.client.post(&join))
            .header("sec-fetch-site", "same-site")
            .header(header::ORIGIN, OTHER_ORIGIN),
        // Neither header (an old browser): a form body is not enough.
        form(app.client.post(&join)),
        with_cookie(app.client.post(&join), &victim),
    ] {
        assert_error(
            &read(attack.send().await.expect("sent")).await,
            StatusCode::FORBIDDEN,
            "ORIGIN_NOT_ALLOWED",
            None,
        );
    }
    assert_eq!(participant_count(&app, id).await, 1, "nobody joined");

    // The app's own page: its origin, as fetch sends it (no body).
    let (status, body) = read(
        with_cookie(app.client.post(&join), &victim)
            .header(header::ORIGIN, OWN_ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(participant_count(&app, id).await, 2);
}

#[tokio::test]
async fn without_browser_headers_a_cookie_change_needs_json_or_the_custom_header() {
    let app = spawn_app().await;
    let host = app.login("host").await;
    let first = app.login("first").await;
    let second = app.login("second").await;
    let id = app.create_challenge(&host, json!({})).await;
    let join = app.url(&format!("/api/challenges/{id}/participants"));

    assert_error(
        &read(
            with_cookie(app.client.post(&join), &first)
                .header(header::CONTENT_TYPE, "text/plain")
                .body("{}")
                .send()
                .await
                .expect("sent"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "ORIGIN_NOT_ALLOWED",
        None,
    );
    let (status, body) = read(
        with_cookie(app.client.post(&join), &first)
            .header("x-requested-with", "XMLHttpRequest")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = read(
        with_cookie(app.client.post(&join), &second)
            .json(&json!({}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(participant_count(&app, id).await, 3);

    // A bearer client is never asked for any of it, whatever it sends.
    let cancel = format!("/api/challenges/{id}/participants/me");
    let bearer = app
        .client
        .request(Method::DELETE, app.url(&cancel))
        .bearer_auth(&first)
        .header(header::ORIGIN, OTHER_ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("sent");
    assert_eq!(bearer.status(), StatusCode::NO_CONTENT);
    // Without a session there is nothing to protect: the usual 401.
    assert_error(
        &read(
            app.client
                .post(&join)
                .header(header::ORIGIN, OTHER_ORIGIN)
                .send()
                .await
                .expect("sent"),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}

#[tokio::test]
async fn a_cross_site_form_cannot_log_the_victim_out() {
    let app = spawn_app().await;
    let victim = app.login("victim").await;
    let logout = app.url("/api/auth/logout");
    for attack in [
        with_cookie(app.client.post(&logout), &victim)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, OTHER_ORIGIN),
        with_cookie(app.client.post(&logout), &victim)
            .header(header::CONTENT_TYPE, "text/plain")
            .header("sec-fetch-site", "cross-site"),
        with_cookie(app.client.post(&logout), &victim),
    ] {
        assert_error(
            &read(attack.send().await.expect("sent")).await,
            StatusCode::FORBIDDEN,
            "ORIGIN_NOT_ALLOWED",
            None,
        );
    }
    assert_eq!(app.get("/api/me", Some(&victim)).await.0, StatusCode::OK);

    let response = with_cookie(app.client.post(&logout), &victim)
        .header(header::ORIGIN, OWN_ORIGIN)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        &app.get("/api/me", Some(&victim)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        None,
    );
}
