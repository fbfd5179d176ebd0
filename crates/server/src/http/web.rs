//! Serves the built web app: hashed assets cached for a year, `index.html` never cached, and
//! every other path answered with `index.html` so client-side routes survive a reload.

use std::path::PathBuf;

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};

pub fn service(dir: PathBuf) -> axum::routing::Router {
    let index = dir.join("index.html");
    let files = ServeDir::new(&dir)
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
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
