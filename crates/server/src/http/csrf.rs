//! Cross-site request protection for the session cookie. `SameSite=Lax` alone lets a page on
//! another origin of the same site (another port, a sibling subdomain) send the cookie, and
//! lets any site post a form; so every request the cookie signs that changes something
//! (`POST`, `PUT`, `PATCH`, `DELETE`) or opens the WebSocket must come from a trusted origin:
//!
//! 1. with an `Origin` header, that origin must be the public URL's or an `--allowed-origins`
//!    one;
//! 2. without one, `Sec-Fetch-Site` must not say `cross-site` or `same-site`;
//! 3. with neither header (old browsers, scripts holding a cookie), a change must carry a JSON
//!    body (`Content-Type: application/json`) or an `X-Requested-With` header, which no form can
//!    send and which make another origin's `fetch` ask first (CORS, which we never grant).
//!
//! Anything else is refused before the handler with 403 `ORIGIN_NOT_ALLOWED`. Requests the
//! cookie does not sign (a bearer token, or no session at all) pass untouched: a bearer token is
//! never sent by a browser on its own.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    auth::{SESSION_COOKIE, cookie},
    error::AppError,
    state::AppState,
};

/// The custom header that marks a request as sent by script (the web app sends it always).
pub const REQUESTED_WITH: &str = "x-requested-with";

/// Refuses cookie-signed changes and WebSocket upgrades that another origin may have sent.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mutation = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let upgrade = req.method() == Method::GET && req.uri().path() == "/api/ws";
    if (mutation || upgrade)
        && cookie_signed(req.headers())
        && !trusted(req.headers(), &state.settings.trusted_origins, mutation)
    {
        tracing::info!(
            method = %req.method(),
            path = %req.uri().path(),
            origin = ?req.headers().get(header::ORIGIN),
            "refused a cookie-signed request from another origin"
        );
        return AppError::OriginNotAllowed.into_response();
    }
    next.run(req).await
}

/// Whether the session cookie is what would authenticate the request (a bearer header wins
/// over the cookie, see [`crate::auth::request_token`]).
fn cookie_signed(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::AUTHORIZATION) && cookie(headers, SESSION_COOKIE).is_some()
}

/// Whether a cookie-signed request may proceed, by the rules of the module documentation.
fn trusted(headers: &HeaderMap, origins: &[String], mutation: bool) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin
            .to_str()
            .ok()
            .and_then(|text| url::Url::parse(text).ok())
            .map(|url| url.origin().ascii_serialization())
            .is_some_and(|origin| origins.contains(&origin));
    }
    match headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("cross-site" | "same-site") => return false,
        Some(_) => return true,
        None => {}
    }
    // No browser opens a WebSocket without `Origin`: this is another kind of client.
    !mutation || json_body(headers) || headers.contains_key(REQUESTED_WITH)
}

/// `Content-Type: application/json` (with or without parameters).
fn json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    const ORIGINS: &[&str] = &["http://localhost:8080"];

    fn ok(pairs: &[(&'static str, &'static str)], mutation: bool) -> bool {
        let origins: Vec<String> = ORIGINS.iter().map(|o| (*o).to_owned()).collect();
        trusted(&headers(pairs), &origins, mutation)
    }

    #[test]
    fn an_origin_decides_when_present() {
        assert!(ok(&[("origin", "http://localhost:8080")], true));
        assert!(ok(&[("origin", "HTTP://LOCALHOST:8080")], true));
        assert!(!ok(&[("origin", "http://localhost:8081")], true));
        assert!(!ok(&[("origin", "http://127.0.0.1:8080")], false));
        assert!(!ok(&[("origin", "null")], true));
        assert!(!ok(
            &[
                ("origin", "https://evil.example"),
                ("content-type", "application/json")
            ],
            true
        ));
    }

    #[test]
    fn without_an_origin_fetch_metadata_then_the_body_decide() {
        assert!(!ok(&[("sec-fetch-site", "cross-site")], false));
        assert!(!ok(
            &[
                ("sec-fetch-site", "same-site"),
                ("content-type", "application/json")
            ],
            true
        ));
        assert!(ok(&[("sec-fetch-site", "same-origin")], true));
        assert!(ok(&[], false));
        assert!(!ok(&[], true));
        assert!(!ok(
            &[("content-type", "application/x-www-form-urlencoded")],
            true
        ));
        assert!(ok(
            &[("content-type", "application/json; charset=utf-8")],
            true
        ));
        assert!(ok(&[("x-requested-with", "XMLHttpRequest")], true));
    }

    #[test]
    fn only_the_cookie_is_guarded() {
        assert!(!cookie_signed(&headers(&[])));
        assert!(cookie_signed(&headers(&[("cookie", "ssgwan_session=x")])));
        assert!(!cookie_signed(&headers(&[
            ("cookie", "ssgwan_session=x"),
            ("authorization", "Bearer y")
        ])));
    }
}
