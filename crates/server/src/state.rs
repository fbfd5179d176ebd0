//! What every request handler can reach. The types here belong to the service modules
//! (`attendance`, `completion`, `scoring`, `delivery`, `limits`, `config`, …); `http` and `ws`
//! depend on this module, never the reverse.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use metrics_exporter_prometheus::PrometheusHandle;
use ssgwan_store::Store;

use crate::{
    attendance::Attendance,
    auth::SessionCache,
    calendar::Calendar,
    completion::CompletionJob,
    config::IceConfig,
    delivery::UserSockets,
    events::DomainEvent,
    feeds::CalendarFeeds,
    files::Files,
    kakao::KakaoClient,
    limits::{RequestLimiter, SocketLimits},
    notifications::Notifier,
    reminders::ReminderJob,
    scoring::Scoring,
    tasks::Background,
};

/// Settings the handlers need, resolved from the configuration at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dev_login: bool,
    pub secure_cookies: bool,
    pub session_ttl: SignedDuration,
    /// Client addresses come from `X-Forwarded-For` (behind a trusted balancer).
    pub trust_forwarded_for: bool,
    /// Origins whose pages may use the session cookie (`scheme://host[:port]`).
    pub trusted_origins: Vec<String>,
    /// Where users reach the server: the Content-Security-Policy names its WebSocket origin,
    /// and HSTS is sent only when it is https.
    pub public_url: url::Url,
    /// When set, `/metrics` needs this bearer token.
    pub metrics_token: Option<secrecy::SecretString>,
    /// How much one user may upload per day.
    pub upload_quota: ssgwan_domain::upload::UploadQuota,
    /// Challenges one user may create per day (0: no limit).
    pub challenge_daily_limit: i64,
    /// The lower limit of accounts younger than a day (0: none).
    pub new_account_challenge_daily_limit: i64,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The injected clock and the server's timezone.
    pub calendar: Calendar,
    pub settings: Arc<Settings>,
    pub kakao: Option<Arc<KakaoClient>>,
    pub metrics: PrometheusHandle,
    /// Per-address request limits; `None` when disabled.
    pub rate_limiter: Option<RequestLimiter>,
    /// Live rooms: presence and delivery.
    pub rooms: Arc<dyn ssgwan_realtime::Rooms>,
    /// On-camera time accrual.
    pub attendance: Attendance,
    /// The media sessions of this node's tabs: on this node's media server (SFU), or routed
    /// to the node that holds the room.
    pub media: crate::media_router::MediaRouter,
    /// Settling ended challenges.
    pub completion: CompletionJob,
    /// Domain events (achieved sessions, settled participants).
    pub events: tokio::sync::broadcast::Sender<DomainEvent>,
    /// Per-connection frame budgets and socket caps.
    pub socket_limits: Arc<SocketLimits>,
    /// Per-user chat limits.
    pub chat_limiter: Option<Arc<dyn ssgwan_realtime::RateLimiter>>,
    /// The Redis shared by the nodes, when there are several (for readiness).
    pub redis: Option<ssgwan_realtime::RedisClient>,
    /// STUN/TURN settings.
    pub ice: Arc<IceConfig>,
    /// Scores, the ranking boards and their reads.
    pub scoring: Arc<Scoring>,
    /// Recently seen sessions.
    pub session_cache: Arc<SessionCache>,
    /// Each user's open WebSockets on this node.
    pub sockets: Arc<UserSockets>,
    /// The open WebSocket connections, stopped and awaited before the background tasks.
    pub connections: Background,
    /// Uploaded files (local directory or S3 bucket).
    pub files: Files,
    /// Calendar feed addresses and their iCalendar.
    pub feeds: CalendarFeeds,
    /// Creating and delivering notifications.
    pub notifier: Notifier,
    /// Session reminders.
    pub reminders: ReminderJob,
    /// The VAPID public key browsers subscribe with (base64url).
    pub vapid_public_key: String,
    /// Push endpoints on loopback http are accepted (tests).
    pub push_allow_loopback_http: bool,
}

impl AppState {
    pub fn now(&self) -> Timestamp {
        self.calendar.now()
    }

    /// When today began in the server's timezone: daily quotas and limits count from here.
    pub fn start_of_today(&self) -> Timestamp {
        let now = self.now();
        self.calendar
            .start_of(self.calendar.day_of(now))
            .unwrap_or(now)
    }
}
