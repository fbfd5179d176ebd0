//! Sessions: random bearer tokens (256 bits) that the database only ever sees hashed, carried
//! either as an HttpOnly cookie (browsers) or as `Authorization: Bearer` (other clients).

use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "ssgwan_session";
pub const OAUTH_STATE_COOKIE: &str = "ssgwan_oauth_state";

/// A fresh random token (32 bytes from the OS CSPRNG, base64url).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores instead of the token: a leaked table does not leak sessions.
pub fn hash_token(token: &str) -> String {
    SessionKey::of(token).hex()
}

/// A session's key: the SHA-256 of its token, which the database stores hex-encoded (see
/// [`hash_token`]) and the [`SessionCache`] keeps as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// As the database stores it.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The session token a request carries: the bearer header wins over the cookie.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return bearer_token(value).map(str::to_owned);
    }
    cookie(headers, SESSION_COOKIE).filter(|t| plausible_token(t))
}

/// The key of the session a request carries ([`request_token`] hashed), without copying the
/// token out of the headers when it is a bearer token.
pub fn request_session_key(headers: &HeaderMap) -> Option<SessionKey> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return bearer_token(value).map(SessionKey::of);
    }
    request_token(headers).map(|token| SessionKey::of(&token))
}

/// The token of an `Authorization: Bearer …` value, when it looks like one of ours.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && plausible_token(token)).then_some(token)
}

/// Tokens we issue are 43 base64url characters; anything else is not worth a database query.
fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure on https deployments.
/// `max_age_secs = 0` deletes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    );
    // Names, paths and our base64url values are all visible ASCII.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Recently seen sessions, so that a signed-in request does not cost a database query each
/// time. An entry lives at most `ttl` (and never past the session's expiry). Logging out or
/// editing the profile drops it here at once; other nodes notice within `ttl`, which is why
/// it is short (1 s by default, `--session-cache-ttl-ms`).
///
/// A look-up that missed and read the session from the store puts it back only if no session
/// was dropped meanwhile ([`SessionCache::epoch`]), so a logout that lands between the read
/// and the put cannot be undone by the slower request.
#[derive(Debug)]
pub struct SessionCache {
    entries: std::sync::Mutex<CachedSessions>,
    /// Bumped (under the lock) by every removal.
    removals: std::sync::atomic::AtomicU64,
    ttl: std::time::Duration,
}

/// Cached sessions: the user, the session's expiry and when it was read from the store.
type CachedSessions = std::collections::HashMap<
    SessionKey,
    (ssgwan_store::User, jiff::Timestamp, std::time::Instant),
>;

/// The [`SessionCache`]'s removal count when a store read began (see [`SessionCache::put`]).
#[derive(Debug, Clone, Copy)]
pub struct CacheEpoch(u64);

impl SessionCache {
    const MAX_ENTRIES: usize = 100_000;

    /// A cache keeping entries `ttl` (zero: keeps nothing).
    pub fn new(ttl: std::time::Duration) -> Self {
        Self {
            entries: Default::default(),
            removals: Default::default(),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CachedSessions> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &SessionKey, now: jiff::Timestamp) -> Option<ssgwan_store::User> {
        let entries = self.lock();
        let (user, expires_at, cached_at) = entries.get(key)?;
        (cached_at.elapsed() < self.ttl && *expires_at > now).then(|| user.clone())
    }

    /// To be taken before reading a session from the store, and given to [`Self::put`].
    pub fn epoch(&self) -> CacheEpoch {
        CacheEpoch(self.removals.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Keeps a session read from the store since `epoch`, unless a session was dropped since
    /// (it might have been this one).
    pub fn put(
        &self,
        key: SessionKey,
        user: ssgwan_store::User,
        expires_at: jiff::Timestamp,
        epoch: CacheEpoch,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if self.removals.load(std::sync::atomic::Ordering::Acquire) != epoch.0 {
            return;
        }
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (user, expires_at, std::time::Instant::now()));
    }

    /// Runs a removal under the lock, counted so that no read begun before it puts back
    /// what it removed.
    fn removing<R>(&self, f: impl FnOnce(&mut CachedSessions) -> R) -> R {
        let mut entries = self.lock();
        self.removals
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        f(&mut entries)
    }

    pub fn remove(&self, key: &SessionKey) {
        self.removing(|entries| entries.remove(key));
    }

    /// Drops every cached session of `user_id` (their profile changed).
    pub fn forget_user(&self, user_id: i64) {
        self.removing(|entries| entries.retain(|_, (user, _, _)| user.id != user_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
        // The database's key is the cache's, hex-encoded.
        assert_eq!(hash_token(&a), SessionKey::of(&a).hex());
        assert_eq!(hash_token(&a).len(), 64);
    }

    fn someone(id: i64) -> ssgwan_store::User {
        ssgwan_store::User {
            id,
            kakao_id: None,
            nickname: format!("user{id}"),
            bio: String::new(),
            profile_image: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_read_that_raced_a_logout_does_not_bring_the_session_back() {
        let cache = SessionCache::new(std::time::Duration::from_secs(60));
        let now = jiff::Timestamp::UNIX_EPOCH;
        let later = now + jiff::SignedDuration::from_hours(1);
        let key = SessionKey::of(&new_token());
        // A request misses and reads the session from the store...
        let epoch = cache.epoch();
        // ...meanwhile the session is logged out (deleted, then dropped here)...
        cache.remove(&key);
        // ...and the slower request's put must not cache what it read before.
        cache.put(key, someone(1), later, epoch);
        assert_eq!(cache.get(&key, now), None);
        // A read begun after the removal is kept.
        cache.put(key, someone(1), later, cache.epoch());
        assert_eq!(cache.get(&key, now).map(|u| u.id), Some(1));
        // Until the session expires, and until its user changes their profile.
        assert_eq!(cache.get(&key, later), None);
        cache.forget_user(1);
        assert_eq!(cache.get(&key, now), None);
    }

    #[test]
    fn entries_last_the_ttl_and_a_zero_ttl_keeps_nothing() {
        let now = jiff::Timestamp::UNIX_EPOCH;
        let later = now + jiff::SignedDuration::from_hours(1);
        let key = SessionKey::of(&new_token());
        let off = SessionCache::new(std::time::Duration::ZERO);
        off.put(key, someone(1), later, off.epoch());
        assert_eq!(off.get(&key, now), None);
        let short = SessionCache::new(std::time::Duration::from_millis(20));
        short.put(key, someone(1), later, short.epoch());
        assert!(short.get(&key, now).is_some());
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(short.get(&key, now), None);
    }

    #[test]
    fn bearer_wins_over_cookie_and_junk_is_ignored() {
        let token = new_token();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("x=1; {SESSION_COOKIE}={token}")
                .parse()
                .expect("header"),
        );
        assert_eq!(request_token(&headers), Some(token.clone()));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer short".parse().expect("header"),
        );
        assert_eq!(request_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            format!("bearer {token}").parse().expect("header"),
        );
        assert_eq!(request_token(&headers), Some(token));
    }
}
