//! The Ssgwan server as a library: [`launch`] runs it on a listener until `shutdown`
//! resolves; `main.rs` only parses the command line and calls in here.

pub mod attendance;
pub mod auth;
pub mod completion;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod i18n;
pub mod kakao;
pub mod ranking;
pub mod seed;
pub mod state;
pub mod telemetry;
pub mod ws;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use jiff::SignedDuration;
use secrecy::ExposeSecret;
use ssgwan_domain::Clock;
use ssgwan_store::{SqlStore, Store};
use tokio::net::TcpListener;

use crate::{
    config::{DatabaseArgs, ServeArgs},
    kakao::KakaoClient,
    state::{AppState, Settings},
};

/// Connects to the configured database and applies migrations.
pub async fn open_store(args: &DatabaseArgs) -> anyhow::Result<SqlStore> {
    let url = args.resolved_url()?;
    if args.database_url.is_none() {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    }
    let store = SqlStore::connect(url.expose_secret(), args.database_max_connections)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    tracing::info!(backend = store.backend().name(), "database ready");
    Ok(store)
}

/// Builds the application state from the configuration.
pub async fn build_state(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    args.validate()?;
    let store = open_store(&args.database).await?;
    let kakao = match &args.kakao.kakao_client_id {
        Some(id) => Some(Arc::new(KakaoClient::new(
            &args.kakao,
            id,
            &args.kakao_redirect_uri(),
        )?)),
        None => None,
    };
    let web_dir = Some(args.web_dir.clone()).filter(|d| d.join("index.html").is_file());
    if web_dir.is_none() {
        tracing::warn!(dir = %args.web_dir.display(), "web app not built; serving the API only");
    }
    let settings = Settings {
        dev_login: args.dev_login,
        secure_cookies: args.secure_cookies(),
        session_ttl: SignedDuration::from_hours(i64::from(args.session_ttl_hours)),
        web_dir,
    };
    if settings.dev_login {
        tracing::warn!(
            "development login is ON: anyone can sign in as anyone; never enable it in production"
        );
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let rooms: Arc<dyn ssgwan_realtime::Rooms> = Arc::new(ssgwan_realtime::LocalRooms::new());
    let events = events::channel();
    let attendance = attendance::Attendance::start(
        store.clone(),
        rooms.clone(),
        clock.clone(),
        events.clone(),
        std::time::Duration::from_millis(args.attendance_tick_ms),
        SignedDuration::from_secs(5),
    );
    completion::spawn(
        store.clone(),
        clock.clone(),
        events.clone(),
        std::time::Duration::from_millis(args.completion_interval_ms),
    );
    let ice = http::rtc::IceConfig {
        stun_urls: args.stun_urls.clone(),
        turn_urls: args.turn_urls.clone(),
        turn_secret: args.turn_secret.clone(),
        ttl_seconds: args.turn_ttl_secs,
    };
    let timezone =
        jiff::tz::TimeZone::get(&args.timezone).map_err(|e| anyhow::anyhow!("timezone: {e}"))?;
    let ranking = Arc::new(ranking::Ranking::new(
        Arc::new(ssgwan_realtime::LocalBoards::new()),
        store.clone(),
        clock.clone(),
        timezone,
    ));
    ranking
        .rebuild()
        .await
        .context("building the ranking from the score ledger")?;
    let sockets = Arc::new(ws::UserSockets::default());
    ranking::spawn(ranking.clone(), events.subscribe(), sockets.clone());
    Ok(AppState {
        store,
        clock,
        settings: Arc::new(settings),
        kakao,
        metrics: telemetry::metrics_handle(),
        rate_limiter: http::limits::ip_rate_limiter(
            args.rate_limit_per_second,
            args.rate_limit_burst,
        ),
        rooms,
        attendance,
        events,
        chat_limiter: ws::chat_limiter(args.chat_messages_per_10s),
        ice: Arc::new(ice),
        ranking,
        sockets,
        session_cache: Arc::new(auth::SessionCache::new(std::time::Duration::from_secs(5))),
    })
}

/// Serves the platform on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn launch(
    args: &ServeArgs,
    listener: TcpListener,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = build_state(args, clock).await?;
    let app = http::router(state);
    tracing::info!(addr = %listener.local_addr()?, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutdown signal received");
}
