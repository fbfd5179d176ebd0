//! Typed configuration from flags with `SSGWAN_*` environment twins, validated at start.
//! Secrets are held as [`SecretString`] so they never reach `Debug` output or logs.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

#[derive(Debug, Parser)]
#[command(
    name = "ssgwan",
    version,
    about = "쓱관 (Ssgwan): habit challenges together, live on camera"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the platform (HTTP API, WebSocket and web app); applies migrations first.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(MigrateArgs),
    /// Fill the database with realistic demo data (users, challenges in every status and
    /// category, joins, attendance history, completions, chat, scores) for demos and benchmarks.
    Seed(SeedArgs),
    /// Grant or revoke the operator role (the admin page and `/api/admin`); recorded in the
    /// audit log.
    Admin(AdminArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub action: AdminAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Make the user an operator.
    Grant(AdminTarget),
    /// Take the operator role away.
    Revoke(AdminTarget),
}

#[derive(Debug, Clone, Args)]
pub struct AdminTarget {
    /// The user's id (as in `/api/users/{id}`).
    pub user_id: i64,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Why (kept in the audit log).
    #[arg(long, default_value = "")]
    pub reason: String,
    #[arg(long, env = "SSGWAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

impl AdminArgs {
    pub fn target(&self) -> &AdminTarget {
        match &self.action {
            AdminAction::Grant(target) | AdminAction::Revoke(target) => target,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Users to create.
    #[arg(long, default_value_t = 2_000)]
    pub users: usize,
    /// Challenges to create.
    #[arg(long, default_value_t = 200)]
    pub challenges: usize,
    /// Days of history (challenges start from this many days ago to two weeks ahead).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Seed of the random generator: the same seed makes the same data.
    #[arg(long, default_value_t = 42)]
    pub rng_seed: u64,
    #[arg(long, env = "SSGWAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for the SQLite database and local files.
    #[arg(long, env = "SSGWAN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://…, postgres://… or mysql://… (default: SQLite in the data directory).
    #[arg(long, env = "SSGWAN_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Maximum database connections in the pool.
    #[arg(long, env = "SSGWAN_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long, env = "SSGWAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SSGWAN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The URL users reach the server at; the Kakao redirect URI is <public-url>/api/auth/kakao/callback.
    #[arg(
        long,
        env = "SSGWAN_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: Url,
    /// Other origins whose pages may use the session cookie, comma-separated (e.g.
    /// http://localhost:5173 for the Vite dev server); the public URL's origin always may.
    /// Cookie-signed changes and WebSocket upgrades from any other origin are refused.
    #[arg(long, env = "SSGWAN_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<Url>,
    /// Enable the development login (POST /api/auth/dev-login). Never in production.
    #[arg(long, env = "SSGWAN_DEV_LOGIN", default_value_t = false)]
    pub dev_login: bool,
    /// Log output format.
    #[arg(long, env = "SSGWAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// Serve the web app from this directory (index.html and assets) instead of the one built
    /// into the binary, e.g. web/dist while developing; a directory without index.html: API only.
    #[arg(long, env = "SSGWAN_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// How long a login session lasts, in hours.
    #[arg(long, env = "SSGWAN_SESSION_TTL_HOURS", default_value_t = 24 * 30)]
    pub session_ttl_hours: u32,
    /// How long a node trusts a session it read from the database, in milliseconds (0: asks
    /// the database on every request). A logout or profile edit on another node takes effect
    /// here within this time.
    #[arg(long, env = "SSGWAN_SESSION_CACHE_TTL_MS", default_value_t = 1000)]
    pub session_cache_ttl_ms: u32,
    /// Sustained API requests per second allowed from one client address (0 turns limits off).
    #[arg(long, env = "SSGWAN_RATE_LIMIT_PER_SECOND", default_value_t = 20)]
    pub rate_limit_per_second: u32,
    /// Requests one client address may send at once before the sustained rate applies.
    #[arg(long, env = "SSGWAN_RATE_LIMIT_BURST", default_value_t = 100)]
    pub rate_limit_burst: u32,
    /// The server's timezone: ranking weeks and months, and statistics days.
    #[arg(long, env = "SSGWAN_TIMEZONE", default_value = "Asia/Seoul")]
    pub timezone: String,
    /// Chat messages one user may send per 10 seconds, across tabs (0 turns the limit off).
    #[arg(long, env = "SSGWAN_CHAT_MESSAGES_PER_10S", default_value_t = 10)]
    pub chat_messages_per_10s: u32,
    /// Frame budget of one WebSocket: tokens refilled per second (a `join` costs 10, any other
    /// frame 1); 0 turns the budget off (for load tests).
    #[arg(long, env = "SSGWAN_WS_FRAMES_PER_SECOND", default_value_t = 20)]
    pub ws_frames_per_second: u32,
    /// Frame budget of one WebSocket: tokens it may spend at once.
    #[arg(long, env = "SSGWAN_WS_FRAME_BURST", default_value_t = 200)]
    pub ws_frame_burst: u32,
    /// Open WebSockets one user may have on a node (0: no cap).
    #[arg(long, env = "SSGWAN_WS_SOCKETS_PER_USER", default_value_t = 10)]
    pub ws_sockets_per_user: usize,
    /// Open WebSockets one client address may have on a node (0: no cap); the address is the
    /// one the request rate limit uses (see --trust-forwarded-for).
    #[arg(long, env = "SSGWAN_WS_SOCKETS_PER_ADDRESS", default_value_t = 50)]
    pub ws_sockets_per_address: usize,
    /// STUN server URLs for browsers, comma-separated (e.g. stun:stun.example.com:3478).
    #[arg(long, env = "SSGWAN_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,
    /// TURN server URLs, comma-separated (e.g. turn:turn.example.com:3478?transport=udp).
    #[arg(long, env = "SSGWAN_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,
    /// coturn `static-auth-secret`; when set, TURN credentials are issued per user.
    #[arg(long, env = "SSGWAN_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<SecretString>,
    /// How long issued TURN credentials stay valid, in seconds.
    #[arg(long, env = "SSGWAN_TURN_TTL_SECS", default_value_t = 3600)]
    pub turn_ttl_secs: u64,
    /// How often on-camera time is counted, in milliseconds (it is written at least every 5 s).
    #[arg(long, env = "SSGWAN_ATTENDANCE_TICK_MS", default_value_t = 1000)]
    pub attendance_tick_ms: u64,
    /// How often ended challenges are settled, in milliseconds (also once at start).
    #[arg(long, env = "SSGWAN_COMPLETION_INTERVAL_MS", default_value_t = 30_000)]
    pub completion_interval_ms: u64,
    /// Redis URL (`redis://[:password@]host:port/[db]`) shared by several nodes: rooms,
    /// presence, chat fan-out, rankings, rate limits. Unset: all in this process (one node).
    #[arg(long, env = "SSGWAN_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,
    /// How long a node may go silent before the others take it for dead and drop its users
    /// from the rooms, in seconds (it refreshes its heartbeat every third of this).
    #[arg(long, env = "SSGWAN_NODE_TTL_SECS", default_value_t = 30)]
    pub node_ttl_secs: u64,
    /// Take the client address from the last `X-Forwarded-For` entry (set this only behind a
    /// load balancer that sets the header, or clients could choose their own address).
    #[arg(long, env = "SSGWAN_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Seconds a new connection has to send a complete request head before it is closed.
    #[arg(long, env = "SSGWAN_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a keep-alive connection may sit idle (nothing in flight) before it is closed.
    #[arg(long, env = "SSGWAN_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Open connections at most, WebSockets included; more wait in the listen backlog. Lowered
    /// at start to leave room under the open-file limit.
    #[arg(long, env = "SSGWAN_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>` (401 otherwise).
    #[arg(long, env = "SSGWAN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
    /// Uploads one user may make per day in the server's timezone (0: no limit).
    #[arg(long, env = "SSGWAN_UPLOAD_DAILY_FILES", default_value_t = 50)]
    pub upload_daily_files: u32,
    /// Stored bytes one user may upload per day in the server's timezone, after re-encoding
    /// (0: no limit; default 100 MiB).
    #[arg(long, env = "SSGWAN_UPLOAD_DAILY_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub upload_daily_bytes: u64,
    /// How often one node sweeps the file store for files no row refers to, in seconds.
    #[arg(long, env = "SSGWAN_FILE_SWEEP_INTERVAL_SECS", default_value_t = 3600)]
    pub file_sweep_interval_secs: u64,
    /// How old an unreferenced file must be before the sweep deletes it, in seconds (a fresh
    /// upload about to become a picture is kept).
    #[arg(long, env = "SSGWAN_FILE_SWEEP_GRACE_SECS", default_value_t = 86_400)]
    pub file_sweep_grace_secs: u64,
    /// How long before its start a challenge's schedule must be set for it to earn points, in
    /// minutes (a challenge created, or moved, to start sooner earns none; 0 turns the rule off).
    #[arg(long, env = "SSGWAN_POINTS_MIN_LEAD_MINUTES", default_value_t = 60)]
    pub points_min_lead_minutes: u32,
    /// Challenges one user may create per day in the server's timezone (0: no limit).
    #[arg(long, env = "SSGWAN_CHALLENGE_DAILY_LIMIT", default_value_t = 5)]
    pub challenge_daily_limit: u32,
    /// A lower daily limit for accounts younger than a day (0: the same as
    /// `--challenge-daily-limit`).
    #[arg(
        long,
        env = "SSGWAN_NEW_ACCOUNT_CHALLENGE_DAILY_LIMIT",
        default_value_t = 0
    )]
    pub new_account_challenge_daily_limit: u32,
    #[command(flatten)]
    pub media: MediaArgs,
    #[command(flatten)]
    pub notifications: NotificationArgs,
    #[command(flatten)]
    pub kakao: KakaoArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

/// The built-in media server (SFU) of the live rooms: one UDP port (ICE-lite) for every room,
/// ICE over TCP for networks that block UDP, and the address put in the candidates.
#[derive(Debug, Clone, Args)]
pub struct MediaArgs {
    /// `off`: no media server on this node (`rtcStart` is answered `MEDIA_UNAVAILABLE`).
    #[arg(long = "media", env = "SSGWAN_MEDIA", value_enum, default_value_t = MediaSwitch::On)]
    pub media: MediaSwitch,
    /// The UDP address of the media server (default: the IP and port of --addr, over UDP; port
    /// 0 picks a free port).
    #[arg(long, env = "SSGWAN_MEDIA_UDP_ADDR")]
    pub media_udp_addr: Option<SocketAddr>,
    /// The TCP address of ICE over TCP (passive), or `off` for no TCP candidate (default: the
    /// IP of --addr with its port + 1, or port 0 when --addr has port 0).
    #[arg(long, env = "SSGWAN_MEDIA_TCP_ADDR", value_parser = parse_media_tcp)]
    pub media_tcp_addr: Option<MediaTcp>,
    /// The IP address browsers reach the media server at, put in its candidates (default: the
    /// IP of --addr, or 127.0.0.1 when that is unspecified such as 0.0.0.0).
    #[arg(long, env = "SSGWAN_MEDIA_PUBLIC_IP")]
    pub media_public_ip: Option<std::net::IpAddr>,
}

/// Whether this node runs a media server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MediaSwitch {
    On,
    Off,
}

/// `--media-tcp-addr`: an address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTcp {
    Off,
    At(SocketAddr),
}

fn parse_media_tcp(value: &str) -> Result<MediaTcp, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(MediaTcp::Off);
    }
    value
        .parse()
        .map(MediaTcp::At)
        .map_err(|_| format!("{value:?} is neither `off` nor an address like 0.0.0.0:8081"))
}

impl MediaArgs {
    /// The media server's configuration next to an HTTP listener on `addr`; `None` when off.
    pub fn config(&self, addr: SocketAddr) -> Option<ssgwan_media::MediaConfig> {
        if self.media == MediaSwitch::Off {
            return None;
        }
        let udp_addr = self.media_udp_addr.unwrap_or(addr);
        let tcp_addr = match self.media_tcp_addr {
            Some(MediaTcp::Off) => None,
            Some(MediaTcp::At(tcp)) => Some(tcp),
            None => {
                let port = if addr.port() == 0 {
                    0
                } else {
                    addr.port().saturating_add(1)
                };
                Some(SocketAddr::new(addr.ip(), port))
            }
        };
        let public_ip = self
            .media_public_ip
            .unwrap_or(if addr.ip().is_unspecified() {
                std::net::IpAddr::from([127, 0, 0, 1])
            } else {
                addr.ip()
            });
        Some(ssgwan_media::MediaConfig {
            udp_addr,
            tcp_addr,
            public_ip,
            presence: ssgwan_media::PresenceRules::default(),
        })
    }
}

/// Calendar feeds, reminders and Web Push.
#[derive(Debug, Clone, Args)]
pub struct NotificationArgs {
    /// Key the calendar feed addresses are derived from (at least 32 characters; every node
    /// needs the same). Unset: generated into <data-dir>/calendar.key on first start.
    #[arg(long, env = "SSGWAN_CALENDAR_KEY", hide_env_values = true)]
    pub calendar_key: Option<SecretString>,
    /// Kill switch: no session reminders and no Web Push at all (in-app notifications of the
    /// other kinds are still recorded and shown).
    #[arg(long, env = "SSGWAN_NOTIFICATIONS_PAUSED", default_value_t = false)]
    pub notifications_paused: bool,
    /// How often due session reminders are looked for, in milliseconds.
    #[arg(long, env = "SSGWAN_REMINDER_INTERVAL_MS", default_value_t = 15_000)]
    pub reminder_interval_ms: u64,
    /// The VAPID private key for Web Push: the raw P-256 scalar, base64url (every node needs
    /// the same). Unset: generated into <data-dir>/vapid.key on first start.
    #[arg(long, env = "SSGWAN_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<SecretString>,
    /// The contact push services see in the VAPID token (`mailto:…` or `https://…`);
    /// default: the public URL.
    #[arg(long, env = "SSGWAN_VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,
    /// Accept push endpoints on http://127.0.0.1/localhost (tests run a push service there);
    /// otherwise only https endpoints are accepted.
    #[arg(long, env = "SSGWAN_PUSH_ALLOW_LOOPBACK_HTTP", default_value_t = false)]
    pub push_allow_loopback_http: bool,
}

impl NotificationArgs {
    /// The VAPID `sub` claim.
    pub fn vapid_subject(&self, public_url: &Url) -> String {
        self.vapid_subject
            .clone()
            .unwrap_or_else(|| public_url.as_str().trim_end_matches('/').to_owned())
    }
}

/// Where uploaded files live: `<data-dir>/files` unless an S3 bucket is configured.
#[derive(Debug, Clone, Args)]
pub struct S3Args {
    /// S3 bucket for uploaded files (any S3-compatible store); unset: `<data-dir>/files`.
    #[arg(long, env = "SSGWAN_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// S3 endpoint URL, for stores other than AWS (requests are path-style; http:// is allowed).
    #[arg(long, env = "SSGWAN_S3_ENDPOINT")]
    pub s3_endpoint: Option<Url>,
    /// S3 region.
    #[arg(long, env = "SSGWAN_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// S3 access key id; unset: the AWS environment (`AWS_*` variables, task or instance role).
    #[arg(long, env = "SSGWAN_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key (goes with --s3-access-key-id).
    #[arg(long, env = "SSGWAN_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<SecretString>,
}

#[derive(Debug, Clone, Args)]
pub struct KakaoArgs {
    /// Kakao REST API key (OAuth client id); unset disables Kakao login.
    #[arg(long, env = "SSGWAN_KAKAO_CLIENT_ID")]
    pub kakao_client_id: Option<String>,
    /// Kakao client secret, when the app has one enabled.
    #[arg(long, env = "SSGWAN_KAKAO_CLIENT_SECRET", hide_env_values = true)]
    pub kakao_client_secret: Option<SecretString>,
    /// Kakao authorization endpoint (the browser is sent here).
    #[arg(
        long,
        env = "SSGWAN_KAKAO_AUTH_URL",
        default_value = "https://kauth.kakao.com/oauth/authorize"
    )]
    pub kakao_auth_url: Url,
    /// Kakao token endpoint (authorization code exchange).
    #[arg(
        long,
        env = "SSGWAN_KAKAO_TOKEN_URL",
        default_value = "https://kauth.kakao.com/oauth/token"
    )]
    pub kakao_token_url: Url,
    /// Kakao user endpoint (profile fetch with the access token).
    #[arg(
        long,
        env = "SSGWAN_KAKAO_USER_URL",
        default_value = "https://kapi.kakao.com/v2/user/me"
    )]
    pub kakao_user_url: Url,
}

/// A configuration error, reported at start with a clear message.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl DatabaseArgs {
    /// The database URL to use: the configured one, or SQLite in the data directory.
    pub fn resolved_url(&self) -> Result<SecretString, ConfigError> {
        match &self.database_url {
            Some(url) => {
                let text = url.expose_secret();
                if ssgwan_store::Backend::from_url(text).is_none() {
                    return Err(ConfigError("--database-url must start with sqlite:, postgres:, postgresql:, mysql: or mariadb:".into()));
                }
                Ok(url.clone())
            }
            None => {
                let path = self.data_dir.join("ssgwan.db");
                Ok(SecretString::from(format!(
                    "sqlite://{}?mode=rwc",
                    path.display()
                )))
            }
        }
    }
}

impl S3Args {
    /// Coherent S3 settings: an endpoint or keys only together with a bucket, both keys or
    /// neither, an http(s) endpoint.
    fn validate(&self) -> Result<(), ConfigError> {
        if self
            .s3_bucket
            .as_deref()
            .is_some_and(|b| b.trim().is_empty())
        {
            return Err(ConfigError("SSGWAN_S3_BUCKET is set but empty".into()));
        }
        let configured = self.s3_endpoint.is_some()
            || self.s3_access_key_id.is_some()
            || self.s3_secret_access_key.is_some();
        if self.s3_bucket.is_none() && configured {
            return Err(ConfigError(
                "--s3-endpoint and the S3 keys need --s3-bucket".into(),
            ));
        }
        if let Some(endpoint) = &self.s3_endpoint
            && !(matches!(endpoint.scheme(), "http" | "https") && endpoint.has_host())
        {
            return Err(ConfigError(
                "--s3-endpoint must be an http:// or https:// URL".into(),
            ));
        }
        if self.s3_access_key_id.is_some() != self.s3_secret_access_key.is_some() {
            return Err(ConfigError(
                "--s3-access-key-id and --s3-secret-access-key go together".into(),
            ));
        }
        if self.s3_region.trim().is_empty() {
            return Err(ConfigError("--s3-region must not be empty".into()));
        }
        Ok(())
    }
}

impl ServeArgs {
    /// Checks what clap cannot: URLs that must be http(s), coherent Kakao settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.redis_url
            && !url.expose_secret().starts_with("redis://")
        {
            return Err(ConfigError(
                "--redis-url must start with redis:// (TLS and Redis Cluster are not supported)"
                    .into(),
            ));
        }
        if self.node_ttl_secs < 3 {
            return Err(ConfigError("--node-ttl-secs must be at least 3".into()));
        }
        if !matches!(self.public_url.scheme(), "http" | "https") {
            return Err(ConfigError(
                "--public-url must be an http:// or https:// URL".into(),
            ));
        }
        for origin in &self.allowed_origins {
            if !(matches!(origin.scheme(), "http" | "https")
                && origin.has_host()
                && origin.path() == "/"
                && origin.query().is_none())
            {
                return Err(ConfigError(format!(
                    "--allowed-origins entry {:?} must be an origin like https://app.example.com",
                    origin.as_str()
                )));
            }
        }
        for (name, url) in [
            ("--kakao-auth-url", &self.kakao.kakao_auth_url),
            ("--kakao-token-url", &self.kakao.kakao_token_url),
            ("--kakao-user-url", &self.kakao.kakao_user_url),
        ] {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError(format!(
                    "{name} must be an http:// or https:// URL"
                )));
            }
        }
        if self
            .kakao
            .kakao_client_id
            .as_deref()
            .is_some_and(str::is_empty)
        {
            return Err(ConfigError(
                "SSGWAN_KAKAO_CLIENT_ID is set but empty".into(),
            ));
        }
        for url in self.stun_urls.iter().chain(&self.turn_urls) {
            if !(url.starts_with("stun:")
                || url.starts_with("stuns:")
                || url.starts_with("turn:")
                || url.starts_with("turns:"))
            {
                return Err(ConfigError(format!(
                    "ICE server URL {url:?} must start with stun:, stuns:, turn: or turns:"
                )));
            }
        }
        if jiff::tz::TimeZone::get(&self.timezone).is_err() {
            return Err(ConfigError(format!(
                "--timezone {:?} is not an IANA timezone name",
                self.timezone
            )));
        }
        if self.attendance_tick_ms == 0 || self.completion_interval_ms == 0 {
            return Err(ConfigError(
                "--attendance-tick-ms and --completion-interval-ms must be positive".into(),
            ));
        }
        if self.notifications.reminder_interval_ms == 0 {
            return Err(ConfigError(
                "--reminder-interval-ms must be positive".into(),
            ));
        }
        if self
            .notifications
            .calendar_key
            .as_ref()
            .is_some_and(|k| k.expose_secret().len() < 32)
        {
            return Err(ConfigError(
                "SSGWAN_CALENDAR_KEY must be at least 32 characters".into(),
            ));
        }
        if let Some(subject) = &self.notifications.vapid_subject
            && !(subject.starts_with("mailto:") || subject.starts_with("https://"))
        {
            return Err(ConfigError(
                "--vapid-subject must be a mailto: or https:// URL".into(),
            ));
        }
        if self.header_timeout_secs == 0 || self.idle_timeout_secs == 0 {
            return Err(ConfigError(
                "--header-timeout-secs and --idle-timeout-secs must be positive".into(),
            ));
        }
        if self.file_sweep_interval_secs == 0 {
            return Err(ConfigError(
                "--file-sweep-interval-secs must be positive".into(),
            ));
        }
        if i64::try_from(self.upload_daily_bytes).is_err() {
            return Err(ConfigError("--upload-daily-bytes is too large".into()));
        }
        if self.max_connections == 0 {
            return Err(ConfigError("--max-connections must be at least 1".into()));
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().trim().is_empty())
        {
            return Err(ConfigError("SSGWAN_METRICS_TOKEN is set but empty".into()));
        }
        if self.session_ttl_hours == 0 {
            return Err(ConfigError("--session-ttl-hours must be at least 1".into()));
        }
        if self.addr.port() == u16::MAX
            && self.media.media == MediaSwitch::On
            && self.media.media_tcp_addr.is_none()
        {
            return Err(ConfigError(
                "--addr uses port 65535: set --media-tcp-addr (its default is the next port)"
                    .into(),
            ));
        }
        if self
            .media
            .media_public_ip
            .is_some_and(|ip| ip.is_unspecified() || ip.is_multicast())
        {
            return Err(ConfigError(
                "--media-public-ip must be an address browsers can reach (not 0.0.0.0 or ::)"
                    .into(),
            ));
        }
        self.s3.validate()?;
        self.database.resolved_url().map(|_| ())
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The origins (`scheme://host[:port]`) whose pages may use the session cookie: the public
    /// URL's and the configured extra ones.
    pub fn trusted_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = std::iter::once(&self.public_url)
            .chain(&self.allowed_origins)
            .map(|url| url.origin().ascii_serialization())
            .collect();
        origins.dedup();
        origins
    }

    /// `<public-url>/api/auth/kakao/callback`.
    pub fn kakao_redirect_uri(&self) -> String {
        format!(
            "{}/api/auth/kakao/callback",
            self.public_url.as_str().trim_end_matches('/')
        )
    }
}

/// ICE servers for the live rooms (STUN, and TURN with coturn REST credentials), resolved
/// from the configuration.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    pub turn_secret: Option<SecretString>,
    pub ttl_seconds: u64,
}

impl ServeArgs {
    /// Which challenges earn points.
    pub fn award_rules(&self) -> ssgwan_domain::award::AwardRules {
        ssgwan_domain::award::AwardRules {
            min_lead_time: jiff::SignedDuration::from_mins(i64::from(self.points_min_lead_minutes)),
            ..ssgwan_domain::award::AwardRules::DEFAULT
        }
    }

    /// The daily upload quota per user.
    pub fn upload_quota(&self) -> ssgwan_domain::upload::UploadQuota {
        ssgwan_domain::upload::UploadQuota {
            files: i64::from(self.upload_daily_files),
            bytes: i64::try_from(self.upload_daily_bytes).unwrap_or(i64::MAX),
        }
    }

    pub fn ice_config(&self) -> IceConfig {
        IceConfig {
            stun_urls: self.stun_urls.clone(),
            turn_urls: self.turn_urls.clone(),
            turn_secret: self.turn_secret.clone(),
            ttl_seconds: self.turn_ttl_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let argv = ["ssgwan", "serve"].into_iter().chain(args.iter().copied());
        match Cli::try_parse_from(argv).expect("valid arguments").command {
            Command::Serve(args) => *args,
            Command::Migrate(_) | Command::Seed(_) | Command::Admin(_) => {
                unreachable!("serve was asked for")
            }
        }
    }

    fn media(args: &[&str]) -> Option<ssgwan_media::MediaConfig> {
        let args = serve(args);
        args.media.config(args.addr)
    }

    #[test]
    fn the_media_server_follows_the_http_address_by_default() {
        let embedded = media(&[]).expect("on by default");
        assert_eq!(embedded.udp_addr, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(
            embedded.tcp_addr,
            Some("127.0.0.1:8081".parse().expect("addr"))
        );
        assert_eq!(embedded.public_ip, std::net::IpAddr::from([127, 0, 0, 1]));

        let any = media(&["--addr", "0.0.0.0:9000"]).expect("on");
        assert_eq!(any.udp_addr, "0.0.0.0:9000".parse().expect("addr"));
        assert_eq!(any.tcp_addr, Some("0.0.0.0:9001".parse().expect("addr")));
        assert_eq!(
            any.public_ip,
            std::net::IpAddr::from([127, 0, 0, 1]),
            "an unspecified address is advertised as loopback"
        );

        let free = media(&["--addr", "127.0.0.1:0"]).expect("on");
        assert_eq!(free.udp_addr.port(), 0, "port 0 follows port 0");
        assert_eq!(free.tcp_addr.map(|a| a.port()), Some(0));
    }

    #[test]
    fn media_flags_override_the_defaults_or_turn_it_off() {
        let set = media(&[
            "--addr",
            "0.0.0.0:8080",
            "--media-udp-addr",
            "0.0.0.0:3478",
            "--media-tcp-addr",
            "off",
            "--media-public-ip",
            "203.0.113.7",
        ])
        .expect("on");
        assert_eq!(set.udp_addr, "0.0.0.0:3478".parse().expect("addr"));
        assert_eq!(set.tcp_addr, None);
        assert_eq!(set.public_ip, std::net::IpAddr::from([203, 0, 113, 7]));
        assert!(media(&["--media", "off"]).is_none());
        assert!(Cli::try_parse_from(["ssgwan", "serve", "--media-tcp-addr", "nowhere"]).is_err());
        assert!(serve(&["--media-public-ip", "0.0.0.0"]).validate().is_err());
        assert!(serve(&["--addr", "127.0.0.1:65535"]).validate().is_err());
    }
}
