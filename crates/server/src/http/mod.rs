//! The HTTP surface: routes, the OpenAPI document generated from them, and the middleware
//! every request passes (language, request id, tracing, metrics, limits, cross-site checks,
//! panics, headers).

pub mod admin;
pub mod auth;
pub mod calendar;
pub mod challenges;
pub mod chat;
pub mod connections;
pub mod csrf;
pub mod dto;
pub mod extract;
pub mod limits;
pub mod moderation;
pub mod notifications;
pub mod ops;
pub mod push;
pub mod rankings;
pub mod reports;
pub mod rtc;
pub mod stats;
pub mod tags;
pub mod uploads;
pub mod users;
pub mod web;
pub mod wishes;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::AppError, i18n::Lang, state::AppState};

/// Largest JSON body accepted (challenge descriptions are at most 5,000 characters).
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Ssgwan (쓱관) API", description = "Habit challenges together, live on camera. Errors are `{code, message, field?}`; messages follow Accept-Language (Korean default)."),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecuritySchemes, &RateLimitResponses, &OriginResponses),
    security(("session_cookie" = []), ("bearer" = []), ()),
    tags((name = "auth"), (name = "users"), (name = "files"), (name = "challenges"), (name = "realtime"), (name = "rankings"), (name = "statistics"), (name = "calendar"), (name = "notifications"), (name = "moderation"), (name = "operations"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every `/api` operation can answer 429 when the caller exceeds the rate limit.
struct RateLimitResponses;

/// A response with the API's error body, for the modifiers below.
fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Documents `response` under `status` on `operation`, unless the operation documents its own.
fn add_response(
    operation: &mut utoipa::openapi::path::Operation,
    status: &str,
    response: &utoipa::openapi::Response,
) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| response.clone().into());
}

impl utoipa::Modify for RateLimitResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let too_many = error_response(
            "Too many requests from this client (`RATE_LIMITED`, with `Retry-After`)",
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_response(operation, "429", &too_many);
            }
        }
    }
}

/// Every change and the WebSocket upgrade can answer 403 `ORIGIN_NOT_ALLOWED` when the session
/// cookie signs them from another origin (see [`csrf`]).
struct OriginResponses;

impl utoipa::Modify for OriginResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let refused = error_response(
            "Refused (`FORBIDDEN`), or signed by the session cookie from another origin (`ORIGIN_NOT_ALLOWED`)",
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let upgrade = (path == "/api/ws").then_some(&mut item.get);
            for operation in [
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .chain(upgrade)
            .flatten()
            {
                add_response(operation, "403", &refused);
            }
        }
    }
}

/// The API routes together with the OpenAPI document describing exactly them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::providers))
        .routes(routes!(auth::dev_login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::kakao_start))
        .routes(routes!(auth::kakao_callback))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(users::user_profile))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(uploads::upload))
                .layer(DefaultBodyLimit::max(uploads::UPLOAD_BODY_LIMIT)),
        )
        .routes(routes!(uploads::file))
        .routes(routes!(challenges::create, challenges::list))
        .routes(routes!(
            challenges::detail,
            challenges::update,
            challenges::delete
        ))
        .routes(routes!(challenges::join, challenges::participants))
        .routes(routes!(challenges::cancel))
        .routes(routes!(moderation::remove_participant))
        .routes(routes!(moderation::set_member_media))
        .routes(routes!(moderation::hosts))
        .routes(routes!(
            moderation::appoint_cohost,
            moderation::demote_cohost
        ))
        .routes(routes!(moderation::delete_message))
        .routes(routes!(moderation::lock))
        .routes(routes!(reports::report))
        .routes(routes!(reports::block, reports::unblock))
        .routes(routes!(reports::blocks))
        .routes(routes!(admin::reports))
        .routes(routes!(admin::decide))
        .routes(routes!(admin::audit))
        .routes(routes!(challenges::mine))
        .routes(routes!(challenges::set_notice))
        .routes(routes!(wishes::wish, wishes::unwish))
        .routes(routes!(wishes::my_wishes))
        .routes(routes!(tags::popular))
        .routes(routes!(chat::history))
        .routes(routes!(rankings::rankings))
        .routes(routes!(stats::user_stats))
        .routes(routes!(stats::weekly))
        .routes(routes!(stats::monthly))
        .routes(routes!(stats::challenge_stats))
        .routes(routes!(calendar::my_calendar))
        .routes(routes!(calendar::reset_calendar))
        .routes(routes!(calendar::feed))
        .routes(routes!(calendar::challenge_calendar))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(
            notifications::get_settings,
            notifications::put_settings
        ))
        .routes(routes!(push::vapid_public_key))
        .routes(routes!(push::subscribe, push::unsubscribe))
        .routes(routes!(rtc::ice_servers))
        .routes(routes!(crate::ws::upgrade))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .split_for_parts()
}

/// The whole application: API, OpenAPI document, web app and middleware.
pub fn router(state: AppState, web: Option<web::WebApp>) -> Router {
    let (api, mut openapi) = api();
    openapi
        .paths
        .paths
        .insert("/api/openapi.json".to_owned(), openapi_document_path());
    let openapi_json: Arc<str> = serde_json::to_string(&openapi)
        .unwrap_or_else(|_| "{}".to_owned())
        .into();

    let request_id = HeaderName::from_static("x-request-id");
    let security = SecurityHeaders::for_public_url(&state.settings.public_url);
    let api = api
        .route(
            "/api/openapi.json",
            get(move || {
                let json = openapi_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route("/api/{*rest}", any(|| async { AppError::NotFound }))
        .route("/api", any(|| async { AppError::NotFound }))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .route_layer(middleware::from_fn(track_metrics));

    let app = match web {
        Some(web) => api.fallback_service(web::service(web)),
        None => api.fallback(|| async { AppError::NotFound }),
    };

    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                // The path only: query strings can carry OAuth codes and states.
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(middleware::from_fn(scope_language))
            .layer(middleware::from_fn_with_state(state.clone(), limits::limit_api_requests))
            .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
            .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
            .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
            .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
            .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
            .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
            .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, security.content_security_policy))
            .layer(SetResponseHeaderLayer::if_not_present(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY)))
            .layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, security.strict_transport_security)),
    )
    .with_state(state)
}

/// The browser features the app may use: the camera and microphone in the live room, on this
/// origin only; nothing else.
const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(), \
     geolocation=(), payment=(), usb=(), serial=(), hid=(), midi=(), \
     magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()";

/// The headers that depend on where users reach the server.
struct SecurityHeaders {
    content_security_policy: HeaderValue,
    /// `None` unless the public URL is https: HSTS over plain http would be ignored at best
    /// and lock a mistaken setup out of its own host at worst.
    strict_transport_security: Option<HeaderValue>,
}

impl SecurityHeaders {
    fn for_public_url(public_url: &url::Url) -> Self {
        // Scripts, styles, fonts and API calls from this origin only; photos may be data: or
        // blob: URLs (previews before upload), and the live room plays MediaStreams.
        // WebSockets: 'self' covers them in current browsers; the public origin is named as
        // ws(s):// too for browsers that do not map 'self' to WebSocket schemes.
        let https = public_url.scheme() == "https";
        let socket_origin = public_url.host_str().map(|host| {
            let scheme = if https { "wss" } else { "ws" };
            match public_url.port() {
                Some(port) => format!(" {scheme}://{host}:{port}"),
                None => format!(" {scheme}://{host}"),
            }
        });
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https://*.kakaocdn.net http://*.kakaocdn.net; \
             media-src 'self' blob:; font-src 'self'; connect-src 'self'{}; worker-src 'self' blob:; \
             manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
            socket_origin.unwrap_or_default()
        );
        SecurityHeaders {
            content_security_policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")),
            strict_transport_security: https
                .then(|| HeaderValue::from_static("max-age=31536000")),
        }
    }
}

fn openapi_document_path() -> utoipa::openapi::path::PathItem {
    use utoipa::openapi::{
        HttpMethod,
        path::{OperationBuilder, PathItem},
        response::ResponseBuilder,
    };
    PathItem::new(
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("operations")
            .summary(Some("This OpenAPI document"))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("OpenAPI 3.1 JSON")
                    .build(),
            )
            .build(),
    )
}

/// Runs the request with its `Accept-Language` in scope, so errors render in that language.
async fn scope_language(req: Request, next: Next) -> Response {
    let lang = Lang::from_headers(req.headers());
    lang.scope(next.run(req)).await
}

/// Counts requests by route and status and records their latency.
async fn track_metrics(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
