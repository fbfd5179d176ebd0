//! ICE servers for the browser's WebRTC connection to the server's media server: STUN URLs
//! from the configuration and, when a TURN secret is set, TURN URLs with short-lived
//! credentials in coturn's REST format (username `<expiry unix time>:<user id>`, password
//! `base64(HMAC-SHA1(secret, username))`). The media server's own UDP and TCP candidates come
//! in its offers; TURN is the last resort, for networks that block both.

use axum::{Json, extract::State};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use serde::Serialize;
use sha1::Sha1;
use utoipa::ToSchema;

use super::extract::CurrentUser;
use crate::{error::ErrorBody, state::AppState};

#[derive(Debug, Serialize, ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IceServers {
    /// Ready for `new RTCPeerConnection({ iceServers })`.
    pub ice_servers: Vec<IceServer>,
    /// How long the TURN credentials stay valid; fetch again before then.
    pub ttl_seconds: u64,
}

/// The coturn REST credential for `username`.
pub fn turn_password(secret: &str, username: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        <Hmac<Sha1> as KeyInit>::new_from_slice(b"").expect("HMAC takes keys of any length")
    });
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// STUN and TURN servers for the signed-in user's connection to the media server (TURN is the
/// last resort: the media server's UDP and TCP candidates come in its offers).
#[utoipa::path(get, path = "/api/rtc/ice-servers", tag = "realtime", responses((status = 200, body = IceServers), (status = 401, body = ErrorBody)))]
pub async fn ice_servers(State(state): State<AppState>, current: CurrentUser) -> Json<IceServers> {
    let ice = &state.ice;
    let mut servers = Vec::new();
    if !ice.stun_urls.is_empty() {
        servers.push(IceServer {
            urls: ice.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if let (Some(secret), false) = (&ice.turn_secret, ice.turn_urls.is_empty()) {
        let expiry = state
            .now()
            .as_second()
            .saturating_add(i64::try_from(ice.ttl_seconds).unwrap_or(i64::MAX));
        let username = format!("{expiry}:{}", current.user.id);
        let credential = turn_password(secret.expose_secret(), &username);
        servers.push(IceServer {
            urls: ice.turn_urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    Json(IceServers {
        ice_servers: servers,
        ttl_seconds: ice.ttl_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_password_is_base64_hmac_sha1() {
        // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        assert_eq!(
            turn_password("Jefe", "what do ya want for nothing?"),
            STANDARD.encode(hex::decode("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79").expect("hex"))
        );
    }
}
