//! Calendar feeds: each user's secret feed address and the iCalendar behind it.
//!
//! The token in a feed address is derived, not stored: `HMAC-SHA256(calendar key, user ‖
//! generation)`, base64url. The database keeps only its SHA-256 (like session tokens), so a
//! leaked table leaks no feed, yet `GET /api/me/calendar` can show the address again. A reset
//! moves the user to the next generation: the old address stops working at once. The calendar
//! key comes from `--calendar-key` (every node of a cluster needs the same one) or is generated
//! into `<data-dir>/calendar.key` on first start.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use jiff::Timestamp;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use ssgwan_domain::ical::{CalendarEvent, render_calendar};
use ssgwan_store::{CalendarStore, ChallengeRecord, StoreResult};

use crate::auth::hash_token;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Derives and checks feed tokens.
#[derive(Clone)]
pub struct CalendarFeeds {
    key: Arc<SecretBox<Vec<u8>>>,
    public_url: url::Url,
}

impl CalendarFeeds {
    /// The key from the configuration, else the one in `data_dir` (made on first start).
    pub fn open(
        configured: Option<&SecretString>,
        data_dir: &Path,
        public_url: url::Url,
    ) -> anyhow::Result<Self> {
        let key = match configured {
            Some(key) => key.expose_secret().as_bytes().to_vec(),
            None => load_or_create_key(&data_dir.join("calendar.key"))?,
        };
        Ok(Self {
            key: Arc::new(SecretBox::new(Box::new(key))),
            public_url,
        })
    }

    /// The token of `user`'s feed at `generation`: 43 base64url characters.
    pub fn token(&self, user: i64, generation: i64) -> String {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"ssgwan calendar feed\0");
        mac.update(&user.to_be_bytes());
        mac.update(&generation.to_be_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn url(&self, token: &str) -> String {
        format!(
            "{}/api/calendar/{token}.ics",
            self.public_url.as_str().trim_end_matches('/')
        )
    }

    /// The address of the user's feed, created on first use.
    pub async fn feed_url(
        &self,
        store: &dyn CalendarStore,
        user: i64,
        now: Timestamp,
    ) -> StoreResult<String> {
        loop {
            let generation = match store.calendar_feed(user).await? {
                Some(generation) => generation,
                None => {
                    let token = self.token(user, 1);
                    if !store
                        .set_calendar_feed(user, 1, &hash_token(&token), now)
                        .await?
                    {
                        continue;
                    }
                    1
                }
            };
            return Ok(self.url(&self.token(user, generation)));
        }
    }

    /// A new address for the user's feed; the previous one stops working.
    pub async fn reset(
        &self,
        store: &dyn CalendarStore,
        user: i64,
        now: Timestamp,
    ) -> StoreResult<String> {
        loop {
            let next = store.calendar_feed(user).await?.map_or(1, |g| g + 1);
            let token = self.token(user, next);
            if store
                .set_calendar_feed(user, next, &hash_token(&token), now)
                .await?
            {
                return Ok(self.url(&token));
            }
        }
    }

    /// The owner of the feed file `name` (`<token>.ics`). Every well-formed or not name costs
    /// one hash and one indexed lookup by that hash, so the answer time says nothing about how
    /// close a guess was.
    pub async fn owner(&self, store: &dyn CalendarStore, name: &str) -> StoreResult<Option<i64>> {
        let token = name.strip_suffix(".ics").unwrap_or("");
        let plausible = token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        // A malformed name is looked up too (its hash matches nothing), so it costs the same.
        let candidate = if plausible { token } else { name };
        store.calendar_feed_owner(&hash_token(candidate)).await
    }

    /// The room page of a challenge in the web app.
    pub fn room_url(&self, challenge: i64) -> String {
        format!(
            "{}/challenges/{challenge}/live",
            self.public_url.as_str().trim_end_matches('/')
        )
    }

    /// The iCalendar of `challenges`, each with the time the user joined it.
    pub fn render(
        &self,
        name: &str,
        challenges: &[(ChallengeRecord, Timestamp)],
        now: Timestamp,
    ) -> String {
        let host = self.public_url.host_str().unwrap_or("ssgwan");
        let events: Vec<CalendarEvent<'_>> = challenges
            .iter()
            .map(|(c, joined_at)| {
                let url = self.room_url(c.id);
                let mut description = format!("{url}\n\n{}", c.spec.title);
                if let Some(notice) = c.notice.as_deref().filter(|n| !n.is_empty()) {
                    description.push_str("\n\n📢 ");
                    description.push_str(notice);
                }
                CalendarEvent {
                    uid: format!("challenge-{}@{host}", c.id),
                    title: &c.spec.title,
                    description,
                    url,
                    schedule: &c.spec.schedule,
                    joined_at: *joined_at,
                    updated_at: c.updated_at,
                }
            })
            .collect();
        render_calendar(name, &events, now)
    }
}

/// Reads the key file, or writes a new random 32-byte key there (readable by the owner only).
fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let key =
            hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
        anyhow::ensure!(
            key.len() >= 32,
            "{} holds fewer than 32 bytes",
            path.display()
        );
        return Ok(key);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    write_private(path, &hex::encode(&key))?;
    tracing::info!(path = %path.display(), "generated the calendar feed key");
    Ok(key)
}

/// Writes a file only its owner can read; fails when it exists (another process made it first:
/// the caller reads that one instead).
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
