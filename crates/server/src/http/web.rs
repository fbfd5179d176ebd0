//! Serves the web app: the build of `web/dist` embedded in the binary, or (for development)
//! the files of a `--web-dir`. Hashed assets under `/assets/` are cached for a year,
//! `index.html` is never cached, and every other path is answered with `index.html` so
//! client-side routes survive a reload.

use std::path::{Path, PathBuf};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// `web/dist` as it was when the server was compiled (empty when the web app was not built:
/// `build.rs` leaves an empty folder then).
#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

/// Where the web app comes from.
#[derive(Debug, Clone)]
pub enum WebApp {
    /// Built into the binary.
    Embedded,
    /// Read from this directory at each request (`--web-dir`).
    Dir(PathBuf),
}

impl WebApp {
    /// The `--web-dir` override when given, else the embedded build; `None` (the API only, with
    /// a warning) when the one chosen has no `index.html`.
    pub fn resolve(web_dir: Option<&Path>) -> Option<Self> {
        match web_dir {
            Some(dir) if dir.join("index.html").is_file() => Some(Self::Dir(dir.to_owned())),
            Some(dir) => {
                tracing::warn!(dir = %dir.display(), "no index.html in --web-dir; serving the API only");
                None
            }
            None if Dist::get("index.html").is_some() => Some(Self::Embedded),
            None => {
                tracing::warn!(
                    "this binary was built without the web app (web/dist); serving the API only"
                );
                None
            }
        }
    }
}

pub fn service(app: WebApp) -> axum::routing::Router {
    match app {
        WebApp::Embedded => axum::routing::Router::new().fallback(embedded),
        WebApp::Dir(dir) => directory(&dir),
    }
}

/// One embedded file, or `index.html` for a client route.
async fn embedded(req: Request) -> Response {
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let Ok(path) = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = path.trim_start_matches('/');
    let asset = path.starts_with("assets/");
    let file = match Dist::get(path) {
        Some(file) if !path.is_empty() => file,
        // A missing hashed asset is a stale or wrong link, not a client route: answering it
        // with HTML would only turn into a confusing MIME type error in the browser.
        _ if asset => return StatusCode::NOT_FOUND.into_response(),
        _ => match Dist::get("index.html") {
            Some(file) => file,
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let cache = if asset { IMMUTABLE } else { NO_CACHE };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let etag = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    let mut response = if matches(req.headers(), &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let length = file.data.len();
        let body = match method {
            Method::HEAD => Body::empty(),
            _ => Body::from(file.data),
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, content_type(file.metadata.mimetype()));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Whether `If-None-Match` names this entity tag (weak comparison, as RFC 9110 asks for GET).
fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(tag) = etag.to_str().ok() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim())
        .any(|v| v == "*" || v.trim_start_matches("W/") == tag)
}

/// The type guessed from the file name; text is UTF-8 (Vite writes nothing else).
fn content_type(guessed: &str) -> HeaderValue {
    let textual = guessed.starts_with("text/")
        || matches!(guessed, "application/javascript" | "application/json");
    let value = if textual {
        format!("{guessed}; charset=utf-8")
    } else {
        guessed.to_owned()
    };
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// The files of a directory, read at each request.
fn directory(dir: &Path) -> axum::routing::Router {
    let index = dir.join("index.html");
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .fallback(ServeFile::new(index));
    axum::routing::Router::new().fallback_service(
        ServiceBuilder::new()
            .layer(middleware::from_fn(cache_headers))
            .service(files),
    )
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let immutable = req.uri().path().starts_with("/assets/");
    let mut response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let value = if immutable && response.status().is_success() && !is_html {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
