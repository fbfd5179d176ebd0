//! The real-time gateway, `GET /api/ws`: one WebSocket per browser tab carries chat, presence,
//! the signaling of its media sessions and attendance for any number of rooms. The full
//! protocol is in docs/protocol.md.
//!
//! Each connection has two tasks: the reader ([`session::Session`], with chat in [`chat`] and
//! the media sessions in [`media`]) handles frames and media events in order, and the
//! [`writer`] drains the connection's bounded queue into the socket. Errors are [`error::SocketError`]s, told in the language negotiated at the upgrade;
//! presence frames go out through [`presence`].

mod chat;
pub mod error;
mod media;
mod moderation;
pub mod presence;
mod session;
mod writer;

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axum::{
    extract::{
        Extension, RawQuery, State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures::StreamExt;
use ssgwan_realtime::Connection;
use ssgwan_store::User;
use tokio_util::sync::CancellationToken;

use self::session::Session;
use crate::{
    error::AppError,
    i18n::Lang,
    identity::CurrentUser,
    limits::{ClientAddress, SocketCap, SocketSlot},
    state::AppState,
};

/// Frames a connection may have queued before it counts as too slow and is closed…
pub const QUEUE_FRAMES: usize = 256;
/// …and bytes: a client that stops reading holds at most this much of the server's memory.
pub const QUEUE_BYTES: usize = 256 * 1024;
/// How often the server pings each client.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A client silent this long (no frame, no pong) is disconnected and leaves its rooms.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Messages a `join` replays at most; beyond that `truncated` is set and the client pages.
pub const MISSED_LIMIT: i64 = 500;
/// Bytes of message bodies a `join` replays at most (the newest that fit); beyond that too
/// `truncated` is set. A `joined` frame stays well under [`QUEUE_BYTES`].
pub const MISSED_BYTES: usize = 64 * 1024;
/// What a `join` costs of the frame budget (it reads the database several times); any other
/// frame costs 1.
pub const JOIN_COST: u32 = 10;

/// The close codes the server ends a connection with, besides 1013 (too slow): see
/// docs/protocol.md. The web app stops reconnecting on the 44xx ones.
pub mod close {
    use ssgwan_realtime::CloseReason;

    /// The user has too many sockets open on this node (`--ws-sockets-per-user`).
    pub const TOO_MANY_SOCKETS_OF_USER: CloseReason = CloseReason {
        code: 4409,
        reason: "too many sockets open for this user",
    };
    /// The client address has too many sockets open on this node (`--ws-sockets-per-address`).
    pub const TOO_MANY_SOCKETS_FROM_ADDRESS: CloseReason = CloseReason {
        code: 4410,
        reason: "too many sockets open from this address",
    };
    /// The session the socket was opened with was signed out.
    pub const SIGNED_OUT: CloseReason = CloseReason {
        code: 4401,
        reason: "signed out",
    };
    /// The client kept sending frames over its budget.
    pub const FLOODING: CloseReason = CloseReason {
        code: 4429,
        reason: "too many frames",
    };
}

/// Connection ids, unique across nodes too: a room's media server keys the sessions of every
/// node's tabs by them. The high bits are random per process (20 bits: the ids stay below 2^53,
/// exact in JavaScript), the low 32 count.
static NEXT_CONNECTION: std::sync::LazyLock<AtomicU64> =
    std::sync::LazyLock::new(|| AtomicU64::new(((rand::random::<u64>() & 0xF_FFFF) << 32) | 1));

/// Upgrades an authenticated request (401 before the upgrade otherwise). Error frames speak the
/// language of `lang` (`ko` or `en`) when given, else of `Accept-Language` (Korean by default).
#[utoipa::path(
    get, path = "/api/ws", tag = "realtime",
    params(("lang" = Option<String>, Query, description = "`ko` or `en`: the language of error messages (default: from `Accept-Language`)")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol of docs/protocol.md"),
        (status = 426, body = crate::error::ErrorBody, description = "Not a WebSocket upgrade (`UPGRADE_REQUIRED`)"),
        (status = 401, body = crate::error::ErrorBody)
    )
)]
pub async fn upgrade(
    State(state): State<AppState>,
    current: CurrentUser,
    address: Option<Extension<ClientAddress>>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let ws = ws.map_err(|_| AppError::UpgradeRequired)?;
    let lang = query
        .as_deref()
        .and_then(lang_parameter)
        .unwrap_or_else(Lang::current);
    let CurrentUser { user, session } = current;
    let token_hash = session.hex();
    // Taken before the upgrade so that a burst of upgrades cannot pass the cap together; a
    // socket over it is still upgraded and then closed with a 44xx code, because a browser
    // cannot see the status of a refused upgrade and would retry it for ever.
    let slot = state
        .socket_limits
        .caps
        .acquire(user.id, address.map(|Extension(ClientAddress(ip))| ip));
    let connections = state.connections.clone();
    Ok(ws
        // Frames above our 64 KiB limit are answered with FRAME_TOO_LARGE; only absurd ones
        // (over 1 MiB) make the WebSocket library drop the connection.
        .max_message_size(1 << 20)
        .max_frame_size(1 << 20)
        // Most connections sit idle for hours with small JSON frames: start the buffers small
        // (the library's 128 KiB read buffer would cost 10,000 idle sockets over a gigabyte),
        // and write each frame out at once.
        .read_buffer_size(2 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            connections.track(run(state, user, token_hash, lang, socket, slot))
        }))
}

/// The `lang` query parameter, when it names a language we speak.
fn lang_parameter(query: &str) -> Option<Lang> {
    query.split('&').find_map(|pair| match pair {
        "lang=ko" => Some(Lang::Ko),
        "lang=en" => Some(Lang::En),
        _ => None,
    })
}

/// Serves one connection until it closes (or the server stops), then takes the user out of
/// its rooms. A socket over a cap is closed at once.
async fn run(
    state: AppState,
    user: User,
    token_hash: String,
    lang: Lang,
    mut socket: WebSocket,
    slot: Result<SocketSlot, SocketCap>,
) {
    let _slot = match slot {
        Ok(slot) => slot,
        Err(cap) => {
            let reason = match cap {
                SocketCap::PerUser => close::TOO_MANY_SOCKETS_OF_USER,
                SocketCap::PerAddress => close::TOO_MANY_SOCKETS_FROM_ADDRESS,
            };
            metrics::counter!("ssgwan_ws_refused_total", "code" => reason.code.to_string())
                .increment(1);
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                socket.send(writer::close_message(reason)),
            )
            .await;
            return;
        }
    };
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let (connection, mut outbound) = Connection::with_byte_budget(id, QUEUE_FRAMES, QUEUE_BYTES);
    let Some(mut controls) = outbound.take_controls() else {
        return;
    };
    let done = CancellationToken::new();
    let stopping = state.connections.stopping();
    let (sink, mut stream) = socket.split();
    metrics::gauge!("ssgwan_ws_connections").increment(1.0);

    let writer = tokio::spawn(writer::write_loop(
        sink,
        outbound,
        connection.clone(),
        done.clone(),
    ));
    state.sockets.add(&user, connection.clone()).await;
    let user_id = user.id;
    let budget = state.socket_limits.frame_budget();
    let (media_events, mut media_queue) = tokio::sync::mpsc::channel(media::MEDIA_EVENTS);
    let mut session = Session {
        state,
        user,
        connection,
        lang,
        token_hash,
        rooms: HashMap::new(),
        budget,
        media_events,
        next_generation: 0,
    };
    loop {
        let next = tokio::select! {
            // In this order: an eviction or a media event that arrived before a frame is
            // handled before it (so a frame never acts on state the server already changed).
            biased;
            () = done.cancelled() => break,
            () = stopping.cancelled() => break,
            Some(eviction) = controls.recv() => {
                session.revoked(eviction).await;
                continue;
            }
            Some(event) = media_queue.recv() => {
                session.media_event(event).await;
                continue;
            }
            next = tokio::time::timeout(IDLE_LIMIT, stream.next()) => next,
        };
        match next {
            Err(_idle) => {
                tracing::debug!(connection = id, "client silent for too long");
                break;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(text)))) => session.handle(text.as_str()).await,
            Ok(Some(Ok(Message::Binary(_)))) => session.handle_binary(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
        }
    }
    done.cancel();
    // Its video stops counting now, not after the closing handshake below.
    session.close_all_media().await;
    if session
        .connection
        .close_reason()
        .is_some_and(|reason| reason != ssgwan_realtime::CloseReason::TOO_SLOW)
    {
        // The writer sent the close frame: read (and drop) what the client still sends until it
        // answers the close, so that the connection ends with the closing handshake rather than
        // a reset, which would make the client's system discard the frames it has not read yet
        // (among them the one that says why).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, stream.next()).await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    }
    session.state.sockets.remove(user_id, id).await;
    session.leave_all().await;
    let _ = writer.await;
    metrics::gauge!("ssgwan_ws_connections").decrement(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lang_parameter_picks_a_language_we_speak() {
        assert_eq!(lang_parameter("lang=en"), Some(Lang::En));
        assert_eq!(lang_parameter("x=1&lang=ko"), Some(Lang::Ko));
        assert_eq!(lang_parameter("lang=fr"), None);
        assert_eq!(lang_parameter(""), None);
    }
}
