//! Web Push (RFC 8030): notifications sent to the browsers' push services, encrypted for each
//! subscription (RFC 8291, `aes128gcm`) and signed with the server's VAPID key (RFC 8292).
//!
//! The `web-push` crate does the encryption (through Mozilla's `ece`) and the VAPID JWT
//! (through `jwt-simple`) and builds the request; reqwest sends it, so pushes share the
//! server's HTTP client stack (rustls). A push service's answer decides what follows: 2xx
//! done; 404 and 410 mean the subscription is gone (deleted here); 429 and 5xx are retried
//! with exponential back-off (honouring `Retry-After`, at most [`ATTEMPTS`] tries); anything
//! else is logged and dropped.
//!
//! The VAPID key pair comes from `--vapid-private-key` (every node needs the same one, or
//! subscriptions made through one node are refused by the push service when another signs) or
//! is generated into `<data-dir>/vapid.key` on first start.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jiff::Timestamp;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use ssgwan_domain::{
    Clock,
    notification::{Details, Kind, Settings, text},
};
use ssgwan_store::{NotificationRecord, PushStore, PushSubscriptionRecord};
use web_push::{
    ContentEncoding, SubscriptionInfo, Urgency, VapidSignatureBuilder, WebPushMessageBuilder,
};

use crate::{notifications::Outbox, tasks::Background};

/// Tries per push (the first and the retries).
pub const ATTEMPTS: u32 = 4;
/// The first retry waits this long; each next one twice as long.
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// A `Retry-After` longer than this is not waited for (the push is dropped).
const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// How long a push service keeps a notification that is not a reminder (a day).
const DEFAULT_TTL_SECS: u32 = 24 * 3600;

/// What a push subscription may look like (checked before anything is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSubscription {
    /// Not an https URL (or http on loopback when allowed), or longer than 700 bytes.
    Endpoint,
    /// `keys.p256dh` is not a base64url uncompressed P-256 point (65 bytes).
    P256dh,
    /// `keys.auth` is not 16 base64url bytes.
    Auth,
}

/// Checks a browser's subscription; `allow_loopback_http` lets `http://127.0.0.1…` through
/// (tests run a push service on loopback).
pub fn check_subscription(
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    allow_loopback_http: bool,
) -> Result<(), BadSubscription> {
    let url = url::Url::parse(endpoint).map_err(|_| BadSubscription::Endpoint)?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    let scheme_ok =
        url.scheme() == "https" || (allow_loopback_http && loopback && url.scheme() == "http");
    if endpoint.len() > 700 || !scheme_ok || url.host().is_none() || !url.username().is_empty() {
        return Err(BadSubscription::Endpoint);
    }
    let key = (p256dh.len() <= 100)
        .then(|| URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).ok())
        .flatten();
    if key.is_none_or(|k| k.len() != 65 || k[0] != 4) {
        return Err(BadSubscription::P256dh);
    }
    let secret = (auth.len() <= 40)
        .then(|| URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).ok())
        .flatten();
    if secret.is_none_or(|s| s.len() != 16) {
        return Err(BadSubscription::Auth);
    }
    Ok(())
}

/// The server's VAPID identity.
#[derive(Clone)]
pub struct VapidKeys {
    /// The raw private scalar, base64url (what `web-push` reads).
    private: SecretString,
    /// The uncompressed public key, base64url: the browser's `applicationServerKey`.
    pub public: String,
    /// `sub` of the JWT: a `mailto:` or https contact for push services.
    subject: String,
}

impl VapidKeys {
    /// The configured key, else the one in `data_dir` (made on first start).
    pub fn open(
        configured: Option<&SecretString>,
        data_dir: &Path,
        subject: String,
    ) -> anyhow::Result<Self> {
        let private = match configured {
            Some(key) => key.clone(),
            None => load_or_create(&data_dir.join("vapid.key"))?,
        };
        let public = VapidSignatureBuilder::from_base64_no_sub(private.expose_secret())
            .map_err(|e| anyhow::anyhow!("the VAPID private key is not a P-256 key: {e}"))?
            .get_public_key();
        Ok(Self {
            private,
            public: URL_SAFE_NO_PAD.encode(public),
            subject,
        })
    }
}

fn load_or_create(path: &Path) -> anyhow::Result<SecretString> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return Ok(SecretString::from(text.trim().to_owned()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Almost every 32-byte string is a valid P-256 scalar; the rare one that is not is redrawn.
    let key = loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let candidate = URL_SAFE_NO_PAD.encode(bytes);
        if VapidSignatureBuilder::from_base64_no_sub(&candidate).is_ok() {
            break candidate;
        }
    };
    crate::feeds::write_private(path, &key)?;
    tracing::info!(path = %path.display(), "generated the VAPID key pair");
    Ok(SecretString::from(key))
}

/// Sends notifications to the user's browsers.
pub struct WebPush {
    keys: VapidKeys,
    store: Arc<dyn PushStore>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    background: Background,
    /// Where a notification's click leads (the web app's origin).
    public_url: String,
}

impl WebPush {
    pub fn new(
        keys: VapidKeys,
        store: Arc<dyn PushStore>,
        clock: Arc<dyn Clock>,
        background: Background,
        public_url: &url::Url,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the push client")?;
        Ok(Self {
            keys,
            store,
            clock,
            client,
            background,
            public_url: public_url.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// The JSON the service worker shows: title, body, the page a click opens, and the raw
    /// kind and details for clients that render their own text.
    fn payload(&self, n: &NotificationRecord) -> Vec<u8> {
        let kind = Kind::parse(&n.kind).unwrap_or(Kind::NoticeChanged);
        let details: Details = serde_json::from_str(&n.data).unwrap_or_default();
        let (title, body) = text(kind, &details, true);
        let url = match (kind, n.challenge_id) {
            (Kind::SessionReminder, Some(id)) => {
                format!("{}/challenges/{id}/live", self.public_url)
            }
            (_, Some(id)) => format!("{}/challenges/{id}", self.public_url),
            (_, None) => format!("{}/rankings", self.public_url),
        };
        serde_json::json!({
            "id": n.id, "kind": n.kind, "title": title, "body": body, "url": url,
            "data": serde_json::from_str::<serde_json::Value>(&n.data).unwrap_or_default(),
        })
        .to_string()
        .into_bytes()
    }
}

/// How one attempt went.
enum Sent {
    Done,
    Gone,
    Retry(Option<Duration>),
    Failed(String),
}

async fn send_once(
    client: &reqwest::Client,
    keys: &VapidKeys,
    subscription: &PushSubscriptionRecord,
    payload: &[u8],
    ttl: u32,
    urgent: bool,
) -> Sent {
    let info = SubscriptionInfo::new(
        subscription.endpoint.clone(),
        subscription.p256dh.clone(),
        subscription.auth.clone(),
    );
    // The audience is the push resource's origin, port included (RFC 8292 §2; the crate's
    // default leaves a non-default port out).
    let audience = url::Url::parse(&subscription.endpoint)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let signature = VapidSignatureBuilder::from_base64(keys.private.expose_secret(), &info)
        .and_then(|mut b| {
            b.add_claim("sub", keys.subject.as_str());
            b.add_claim("aud", audience.as_str());
            b.build()
        });
    let signature = match signature {
        Ok(s) => s,
        Err(e) => return Sent::Failed(format!("VAPID: {e}")),
    };
    let mut message = WebPushMessageBuilder::new(&info);
    message.set_payload(ContentEncoding::Aes128Gcm, payload);
    message.set_ttl(ttl);
    message.set_urgency(if urgent {
        Urgency::High
    } else {
        Urgency::Normal
    });
    message.set_vapid_signature(signature);
    let message = match message.build() {
        Ok(m) => m,
        Err(e) => return Sent::Failed(format!("encrypting: {e}")),
    };
    let request = web_push::request_builder::build_request::<Vec<u8>>(message);
    let mut outgoing = client.post(request.uri().to_string());
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            outgoing = outgoing.header(name.as_str(), value);
        }
    }
    let response = match outgoing.body(request.into_body()).send().await {
        Ok(r) => r,
        Err(e) => {
            return Sent::Retry(None).or_failed(e.is_connect() || e.is_timeout(), e.to_string());
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match status {
        200..=299 => Sent::Done,
        404 | 410 => Sent::Gone,
        429 | 500..=599 => Sent::Retry(retry_after),
        other => Sent::Failed(format!("the push service answered {other}")),
    }
}

impl Sent {
    fn or_failed(self, retry: bool, why: String) -> Sent {
        if retry { self } else { Sent::Failed(why) }
    }
}

/// Delivers to one subscription, retrying 429 and 5xx; deletes it when the service says it is
/// gone. Returns whether it was delivered.
async fn deliver(
    client: reqwest::Client,
    keys: VapidKeys,
    store: Arc<dyn PushStore>,
    subscription: PushSubscriptionRecord,
    payload: Vec<u8>,
    ttl: u32,
    urgent: bool,
) -> bool {
    let mut wait = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        match send_once(&client, &keys, &subscription, &payload, ttl, urgent).await {
            Sent::Done => {
                metrics::counter!("ssgwan_push_total", "outcome" => "delivered").increment(1);
                return true;
            }
            Sent::Gone => {
                metrics::counter!("ssgwan_push_total", "outcome" => "gone").increment(1);
                if let Err(err) = store.delete_push_endpoint(&subscription.endpoint).await {
                    tracing::warn!(error = %err, "a gone push subscription was not deleted");
                }
                tracing::info!(
                    user_id = subscription.user_id,
                    "push subscription gone; deleted"
                );
                return false;
            }
            Sent::Retry(after) if attempt < ATTEMPTS => {
                let pause = after.unwrap_or(wait).max(wait);
                if pause > LONGEST_WAIT {
                    break;
                }
                metrics::counter!("ssgwan_push_total", "outcome" => "retried").increment(1);
                tokio::time::sleep(pause).await;
                wait *= 2;
            }
            Sent::Retry(_) => break,
            Sent::Failed(why) => {
                metrics::counter!("ssgwan_push_total", "outcome" => "failed").increment(1);
                tracing::warn!(user_id = subscription.user_id, %why, "push not delivered");
                return false;
            }
        }
    }
    metrics::counter!("ssgwan_push_total", "outcome" => "failed").increment(1);
    tracing::warn!(
        user_id = subscription.user_id,
        "push not delivered after retries"
    );
    false
}

#[async_trait::async_trait]
impl Outbox for WebPush {
    async fn push(
        &self,
        n: &NotificationRecord,
        settings: &Settings,
        session_start: Option<Timestamp>,
    ) {
        let now = self.clock.now();
        if let Some(quiet) = &settings.quiet
            && !quiet.allows(now, session_start)
        {
            metrics::counter!("ssgwan_push_total", "outcome" => "quiet").increment(1);
            return;
        }
        let subscriptions = match self.store.push_subscriptions(n.user_id).await {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(error = %err, "push subscriptions not read");
                return;
            }
        };
        // A reminder is worth nothing once its session has started.
        let ttl = session_start
            .map(|s| {
                u32::try_from(s.duration_since(now).as_secs().max(1)).unwrap_or(DEFAULT_TTL_SECS)
            })
            .unwrap_or(DEFAULT_TTL_SECS);
        let payload = self.payload(n);
        for subscription in subscriptions {
            let task = deliver(
                self.client.clone(),
                self.keys.clone(),
                self.store.clone(),
                subscription,
                payload.clone(),
                ttl,
                session_start.is_some(),
            );
            self.background.spawn("push", async move {
                task.await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_checked_before_anything_is_stored() {
        let key = URL_SAFE_NO_PAD.encode([4u8; 65]);
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        let ok = |e: &str, allow| check_subscription(e, &key, &auth, allow);
        assert_eq!(ok("https://push.example.com/abc", false), Ok(()));
        assert_eq!(
            ok("http://push.example.com/abc", true),
            Err(BadSubscription::Endpoint)
        );
        assert_eq!(
            ok("http://127.0.0.1:9/abc", false),
            Err(BadSubscription::Endpoint)
        );
        assert_eq!(ok("http://127.0.0.1:9/abc", true), Ok(()));
        assert_eq!(
            ok("ftp://push.example.com/abc", false),
            Err(BadSubscription::Endpoint)
        );
        let long = format!("https://push.example.com/{}", "a".repeat(700));
        assert_eq!(ok(&long, false), Err(BadSubscription::Endpoint));
        let short_key = URL_SAFE_NO_PAD.encode([4u8; 33]);
        assert_eq!(
            check_subscription("https://p.example/x", &short_key, &auth, false),
            Err(BadSubscription::P256dh)
        );
        let huge = "A".repeat(10_000);
        assert_eq!(
            check_subscription("https://p.example/x", &huge, &auth, false),
            Err(BadSubscription::P256dh)
        );
        assert_eq!(
            check_subscription("https://p.example/x", &key, &huge, false),
            Err(BadSubscription::Auth)
        );
    }
}
