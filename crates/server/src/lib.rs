//! The Ssgwan server as a library: [`launch`] runs it on a listener until `shutdown`
//! resolves; `main.rs` only parses the command line and calls in here.

pub mod attendance;
pub mod auth;
pub mod calendar;
pub mod completion;
pub mod config;
pub mod delivery;
pub mod error;
pub mod events;
pub mod feeds;
pub mod files;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod kakao;
pub mod limits;
pub mod media_policy;
pub mod media_router;
pub mod moderation;
pub mod notifications;
pub mod push;
pub mod reminders;
pub mod safety;
pub mod scoring;
pub mod seed;
pub mod state;
pub mod sweep;
pub mod tasks;
pub mod telemetry;
pub mod wire;
pub mod ws;

use std::sync::Arc;

use anyhow::Context;
use jiff::SignedDuration;
use secrecy::ExposeSecret;
use ssgwan_domain::Clock;
use ssgwan_store::{SqlStore, Store};
use tokio::net::TcpListener;

use crate::{
    calendar::Calendar,
    config::{DatabaseArgs, ServeArgs},
    kakao::KakaoClient,
    state::{AppState, Settings},
    tasks::Background,
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

/// The server, built from its configuration and not yet serving: its state and the
/// background tasks it owns.
pub struct App {
    state: AppState,
    /// The web app to serve; `None`: the API only.
    web: Option<http::web::WebApp>,
    background: Background,
    limits: http::connections::ConnectionLimits,
    file_sweep: sweep::FileSweep,
}

/// How long a graceful stop waits for open sockets, then for the background tasks.
const STOP_SOCKETS_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
const STOP_TASKS_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

impl App {
    /// The attendance actor, whose [`attendance::Attendance::settled`] tests await.
    pub fn attendance(&self) -> attendance::Attendance {
        self.state.attendance.clone()
    }

    /// The media server, whose [`ssgwan_media::MediaServer::snapshot`] tests read.
    pub fn media(&self) -> Option<ssgwan_media::MediaServer> {
        self.state.media.local().cloned()
    }

    /// The completion job, whose [`tasks::PeriodicJob::run_now`] tests await.
    pub fn completion(&self) -> completion::CompletionJob {
        self.state.completion.clone()
    }

    /// The reminder job, whose [`tasks::PeriodicJob::run_now`] tests await.
    pub fn reminders(&self) -> reminders::ReminderJob {
        self.state.reminders.clone()
    }

    /// The file sweep, whose [`tasks::PeriodicJob::run_now`] tests await.
    pub fn file_sweep(&self) -> sweep::FileSweep {
        self.file_sweep.clone()
    }

    /// Serves on `listener` until `shutdown` resolves; then drains in-flight requests, closes
    /// the sockets (their users leave their rooms), stops the background tasks and waits for
    /// them (the attendance actor writes every second counted up to then), and leaves the
    /// shared rooms.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let App {
            state,
            web,
            background,
            limits,
            file_sweep: _,
        } = self;
        let rooms = state.rooms.clone();
        let connections = state.connections.clone();
        let app = http::router(state, web);
        tracing::info!(
            addr = %listener.local_addr()?,
            header_timeout_secs = limits.header_timeout.as_secs(),
            idle_timeout_secs = limits.idle_timeout.as_secs(),
            max_connections = limits.max_connections,
            "listening"
        );
        http::connections::serve(listener, app, limits, shutdown).await?;
        if !connections.shutdown(STOP_SOCKETS_WITHIN).await {
            tracing::warn!("some sockets did not close in time");
        }
        if !background.shutdown(STOP_TASKS_WITHIN).await {
            tracing::warn!("some background tasks did not finish in time");
        }
        // Tell the other nodes (if any) at once that this one's users are gone.
        if let Err(err) = rooms.shutdown().await {
            tracing::warn!(error = %err, "leaving the shared rooms failed; the others will time out");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Builds the server from the configuration: opens the store, starts the background tasks.
pub async fn build(args: &ServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
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
    let web = http::web::WebApp::resolve(args.web_dir.as_deref());
    let settings = Settings {
        dev_login: args.dev_login,
        secure_cookies: args.secure_cookies(),
        session_ttl: SignedDuration::from_hours(i64::from(args.session_ttl_hours)),
        trust_forwarded_for: args.trust_forwarded_for,
        trusted_origins: args.trusted_origins(),
        public_url: args.public_url.clone(),
        metrics_token: args.metrics_token.clone(),
        upload_quota: args.upload_quota(),
        challenge_daily_limit: i64::from(args.challenge_daily_limit),
        new_account_challenge_daily_limit: i64::from(args.new_account_challenge_daily_limit),
    };
    if settings.metrics_token.is_none() {
        tracing::info!("/metrics is open to anyone who reaches the server (set --metrics-token)");
    }
    let limits = connection_limits(args);
    if settings.dev_login {
        tracing::warn!(
            "development login is ON: anyone can sign in as anyone; never enable it in production"
        );
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let files = files::Files::from_config(args)?;
    // A wrong key or an unreachable bucket is reported at start, not at the first upload;
    // the server starts regardless (the rest of the platform works without uploads).
    let probe = files.clone();
    tokio::spawn(async move {
        if let Err(err) = probe.probe().await {
            tracing::warn!(error = %format!("{err:#}"), "the file store does not answer");
        }
    });
    let shared = SharedServices::open(args)?;
    let rooms = shared.rooms.clone();
    let events = events::channel();
    let background = Background::new();
    let attendance = attendance::Attendance::start(
        &background,
        store.clone(),
        rooms.clone(),
        shared.leases.clone(),
        clock.clone(),
        events.clone(),
        std::time::Duration::from_millis(args.attendance_tick_ms),
        SignedDuration::from_secs(5),
    );
    let completion = completion::start_job(
        &background,
        store.clone(),
        clock.clone(),
        events.clone(),
        std::time::Duration::from_millis(args.completion_interval_ms),
    );
    let file_sweep = sweep::start_job(
        &background,
        store.clone(),
        files.clone(),
        clock.clone(),
        rooms.node_id().to_owned(),
        std::time::Duration::from_secs(args.file_sweep_interval_secs),
        std::time::Duration::from_secs(args.file_sweep_grace_secs),
    );
    let timezone =
        jiff::tz::TimeZone::get(&args.timezone).map_err(|e| anyhow::anyhow!("timezone: {e}"))?;
    let calendar = Calendar::new(clock, timezone);
    let scoring = Arc::new(scoring::Scoring::new(
        shared.boards.clone(),
        store.clone(),
        store.clone(),
        calendar.clone(),
        args.award_rules(),
    ));
    match &shared.redis {
        // One node: the boards live here and are built from the ledger at start.
        None => scoring
            .rebuild()
            .await
            .context("building the ranking from the score ledger")?,
        // Several: the boards in Redis are shared and kept current by every node's scores;
        // they are rebuilt only when missing (Redis restarted empty), checked every 10 s.
        Some(_) => start_board_watch(&background, scoring.clone()),
    }
    let sockets = Arc::new(delivery::UserSockets::new(
        shared.redis.as_ref().map(|_| rooms.clone()),
    ));
    scoring::start_consumer(
        &background,
        scoring.clone(),
        events.subscribe(),
        sockets.clone(),
        events.clone(),
    );
    let feeds = feeds::CalendarFeeds::open(
        args.notifications.calendar_key.as_ref(),
        &args.database.data_dir,
        args.public_url.clone(),
    )?;
    let vapid = push::VapidKeys::open(
        args.notifications.vapid_private_key.as_ref(),
        &args.database.data_dir,
        args.notifications.vapid_subject(&args.public_url),
    )?;
    let outbox: Arc<dyn notifications::Outbox> = Arc::new(push::WebPush::new(
        vapid.clone(),
        store.clone(),
        calendar.clock().clone(),
        background.clone(),
        &args.public_url,
    )?);
    let notifier = notifications::Notifier::new(
        store.clone(),
        sockets.clone(),
        calendar.clock().clone(),
        calendar.timezone().clone(),
        Some(outbox),
        args.notifications.notifications_paused,
    );
    if notifier.paused() {
        tracing::warn!(
            "notifications are paused (--notifications-paused): no reminders, no Web Push"
        );
    }
    notifications::start_consumer(&background, notifier.clone(), events.subscribe());
    let reminders = reminders::start_job(
        &background,
        store.clone(),
        notifier.clone(),
        calendar.clock().clone(),
        std::time::Duration::from_millis(args.notifications.reminder_interval_ms),
    );
    let media = start_media(args, &background).await?;
    let media = match (&shared.redis, &shared.leases) {
        (Some(redis), Some(leases)) => media_router::MediaRouter::clustered(
            media,
            rooms.node_id(),
            leases.clone(),
            redis.clone(),
            &background,
        ),
        _ => media_router::MediaRouter::single(media),
    };
    delivery::start_settled_evictions(
        &background,
        rooms.clone(),
        media.clone(),
        events.subscribe(),
    );
    if let Some(presence) = shared.presence {
        ws::presence::start_reporter(&background, rooms.clone(), presence);
    }
    let state = AppState {
        store,
        calendar,
        settings: Arc::new(settings),
        kakao,
        metrics: telemetry::metrics_handle(),
        rate_limiter: limits::RequestLimiter::new(
            args.rate_limit_per_second,
            args.rate_limit_burst,
            shared.redis.as_ref(),
        ),
        rooms,
        attendance,
        media,
        completion,
        events,
        socket_limits: Arc::new(limits::SocketLimits {
            frames_per_second: args.ws_frames_per_second,
            frame_burst: args.ws_frame_burst,
            caps: limits::SocketCaps::new(args.ws_sockets_per_user, args.ws_sockets_per_address),
        }),
        chat_limiter: limits::chat_limiter(args.chat_messages_per_10s, shared.redis.as_ref()),
        redis: shared.redis.clone(),
        ice: Arc::new(args.ice_config()),
        scoring,
        sockets,
        connections: Background::new(),
        files,
        session_cache: Arc::new(auth::SessionCache::new(std::time::Duration::from_millis(
            u64::from(args.session_cache_ttl_ms),
        ))),
        feeds,
        notifier,
        reminders,
        vapid_public_key: vapid.public.clone(),
        push_allow_loopback_http: args.notifications.push_allow_loopback_http,
    };
    Ok(App {
        state,
        web,
        background,
        limits,
        file_sweep,
    })
}

/// Starts this node's media server (SFU) on the configured sockets, stopped with the background
/// tasks; `None` with `--media off`.
async fn start_media(
    args: &ServeArgs,
    background: &Background,
) -> anyhow::Result<Option<ssgwan_media::MediaServer>> {
    let Some(config) = args.media.config(args.addr) else {
        tracing::warn!("the media server is off (--media off): live rooms have no video here");
        return Ok(None);
    };
    let (udp, tcp) = (config.udp_addr, config.tcp_addr);
    let public_ip = config.public_ip;
    let media = ssgwan_media::MediaServer::start(config, background.stopping())
        .await
        .with_context(|| {
            format!(
                "starting the media server on UDP {udp}{} (see --media-udp-addr, --media-tcp-addr)",
                tcp.map(|t| format!(" and TCP {t}")).unwrap_or_default()
            )
        })?;
    tracing::info!(
        udp = %media.udp_addr(),
        tcp = ?media.tcp_addr(),
        %public_ip,
        "media server listening"
    );
    Ok(Some(media))
}

/// Open files the server needs besides its connections: the database pool, uploads in
/// progress, logs, the listener.
const FILES_BESIDES_CONNECTIONS: u64 = 256;

/// The connection limits from the configuration, the cap lowered (with a warning) to stay
/// under the open-file limit, which is first raised to its hard maximum.
fn connection_limits(args: &ServeArgs) -> http::connections::ConnectionLimits {
    let mut max_connections = args.max_connections;
    if let Some(fd_limit) = http::connections::raise_fd_limit() {
        let reserve = FILES_BESIDES_CONNECTIONS + u64::from(args.database.database_max_connections);
        let room = usize::try_from(fd_limit.saturating_sub(reserve).max(16)).unwrap_or(usize::MAX);
        if room < max_connections {
            tracing::warn!(
                fd_limit,
                max_connections = room,
                configured = args.max_connections,
                "the open-file limit is low: connections capped below it (raise it with ulimit -n)"
            );
            max_connections = room;
        } else {
            tracing::info!(fd_limit, "open-file limit");
        }
    }
    http::connections::ConnectionLimits {
        header_timeout: std::time::Duration::from_secs(args.header_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout_secs),
        max_connections,
    }
}

/// What the nodes share: in this process on one node, in Redis on several.
struct SharedServices {
    redis: Option<ssgwan_realtime::RedisClient>,
    rooms: Arc<dyn ssgwan_realtime::Rooms>,
    boards: Arc<dyn ssgwan_realtime::RankingBoards>,
    /// Camera leases, only needed when several nodes may count the same user.
    leases: Option<Arc<dyn ssgwan_realtime::Leases>>,
    presence: Option<ssgwan_realtime::PresenceEvents>,
}

impl SharedServices {
    fn open(args: &ServeArgs) -> anyhow::Result<SharedServices> {
        let Some(url) = &args.redis_url else {
            return Ok(SharedServices {
                redis: None,
                rooms: Arc::new(ssgwan_realtime::LocalRooms::new()),
                boards: Arc::new(ssgwan_realtime::LocalBoards::new()),
                leases: None,
                presence: None,
            });
        };
        // Connects lazily and reconnects by itself: the node starts even while Redis is down
        // (it is not ready until Redis answers).
        let redis = ssgwan_realtime::RedisClient::open(
            url.expose_secret(),
            ssgwan_realtime::RedisOptions::default(),
        )
        .map_err(|e| anyhow::anyhow!("--redis-url: {e}"))?;
        let node_ttl = std::time::Duration::from_secs(args.node_ttl_secs);
        let (rooms, presence) = ssgwan_realtime::RedisRooms::start(
            redis.clone(),
            ssgwan_realtime::RedisRoomsOptions {
                node_id: None,
                heartbeat: node_ttl / 3,
                node_ttl,
            },
        );
        tracing::info!(
            node = rooms.node_id(),
            "sharing rooms and rankings through Redis"
        );
        Ok(SharedServices {
            rooms: Arc::new(rooms),
            boards: Arc::new(ssgwan_realtime::RedisBoards::new(redis.clone())),
            leases: Some(Arc::new(ssgwan_realtime::RedisLeases::new(redis.clone()))),
            presence: Some(presence),
            redis: Some(redis),
        })
    }
}

/// With shared boards: rebuilds them from the ledger whenever they are missing (at start and
/// after Redis lost its data), and drops cached renders every second since other nodes move
/// the boards too.
fn start_board_watch(background: &Background, scoring: Arc<scoring::Scoring>) {
    let stop = background.stopping();
    background.spawn("board watch", async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut seconds = 0u64;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            scoring.invalidate();
            seconds += 1;
            if seconds % 10 != 1 {
                continue;
            }
            match scoring.boards_built().await {
                Ok(true) => {}
                Ok(false) => match scoring.rebuild().await {
                    Ok(()) => tracing::info!("ranking boards rebuilt from the score ledger"),
                    Err(err) => {
                        tracing::warn!(error = %err, "rebuilding the ranking boards failed")
                    }
                },
                Err(err) => tracing::warn!(error = %err, "ranking boards not checked"),
            }
        }
    });
}

/// Serves the platform on `listener` until `shutdown` resolves, then stops gracefully (see
/// [`App::serve`]).
pub async fn launch(
    args: &ServeArgs,
    listener: TcpListener,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    build(args, clock).await?.serve(listener, shutdown).await
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives while the server is still starting
/// (migrations, ranking rebuild) stops it gracefully once it is up instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        tokio::select! { () = next_signal(interrupt) => {}, () = next_signal(terminate) => {} }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    }
}

/// Waits for the signal, or forever when its handler could not be installed.
#[cfg(unix)]
async fn next_signal(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
