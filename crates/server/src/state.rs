//! What every request handler can reach.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use metrics_exporter_prometheus::PrometheusHandle;
use ssgwan_domain::Clock;
use ssgwan_store::Store;

use crate::kakao::KakaoClient;

/// Settings the handlers need, resolved from the configuration at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dev_login: bool,
    pub secure_cookies: bool,
    pub session_ttl: SignedDuration,
    /// The web app to serve; `None`: the API only.
    pub web: Option<crate::http::web::WebApp>,
    /// Client addresses come from `X-Forwarded-For` (behind a trusted balancer).
    pub trust_forwarded_for: bool,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub kakao: Option<Arc<KakaoClient>>,
    pub metrics: PrometheusHandle,
    /// Per-address request limits; `None` when disabled.
    pub rate_limiter: Option<crate::http::limits::RequestLimiter>,
    /// Live rooms: presence and delivery.
    pub rooms: Arc<dyn ssgwan_realtime::Rooms>,
    /// On-camera time accrual.
    pub attendance: crate::attendance::Attendance,
    /// Domain events (achieved sessions, settled participants).
    pub events: tokio::sync::broadcast::Sender<crate::events::DomainEvent>,
    /// Per-user chat limits.
    pub chat_limiter: Option<Arc<dyn ssgwan_realtime::RateLimiter>>,
    /// The Redis shared by the nodes, when there are several (for readiness).
    pub redis: Option<ssgwan_realtime::RedisClient>,
    /// STUN/TURN settings.
    pub ice: Arc<crate::http::rtc::IceConfig>,
    /// Ranking boards and the score ledger.
    pub ranking: Arc<crate::ranking::Ranking>,
    /// Recently seen sessions.
    pub session_cache: Arc<crate::auth::SessionCache>,
    /// Each user's open WebSockets on this node.
    pub sockets: Arc<crate::ws::UserSockets>,
    /// Uploaded files (local directory or S3 bucket).
    pub files: crate::files::Files,
}

impl AppState {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
