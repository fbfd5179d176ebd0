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
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session token a request carries: the bearer header wins over the cookie.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = value.split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") && plausible_token(token.trim()))
            .then(|| token.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE).filter(|t| plausible_token(t))
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

/// Recently seen sessions, so that a signed-in read does not cost a database query each time.
/// An entry lives at most `ttl` (and never past the session's expiry); logging out or editing
/// the profile drops it here at once, and other nodes notice within `ttl`.
#[derive(Debug)]
pub struct SessionCache {
    entries: std::sync::Mutex<
        std::collections::HashMap<
            String,
            (ssgwan_store::User, jiff::Timestamp, std::time::Instant),
        >,
    >,
    ttl: std::time::Duration,
}

impl SessionCache {
    const MAX_ENTRIES: usize = 100_000;

    pub fn new(ttl: std::time::Duration) -> Self {
        Self {
            entries: Default::default(),
            ttl,
        }
    }

    pub fn get(&self, token_hash: &str, now: jiff::Timestamp) -> Option<ssgwan_store::User> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (user, expires_at, cached_at) = entries.get(token_hash)?;
        (cached_at.elapsed() < self.ttl && *expires_at > now).then(|| user.clone())
    }

    pub fn put(&self, token_hash: String, user: ssgwan_store::User, expires_at: jiff::Timestamp) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash, (user, expires_at, std::time::Instant::now()));
    }

    pub fn remove(&self, token_hash: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token_hash);
    }

    /// Drops every cached session of `user_id` (their profile changed).
    pub fn forget_user(&self, user_id: i64) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (user, _, _)| user.id != user_id);
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
