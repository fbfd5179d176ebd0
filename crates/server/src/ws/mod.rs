//! The real-time gateway, `GET /api/ws`: one WebSocket per browser tab carries chat, presence,
//! signaling and attendance for any number of rooms. The full protocol is in docs/protocol.md.
//!
//! Each connection has two tasks: the reader ([`session::Session`], with chat in [`chat`])
//! handles frames in order, and the [`writer`] drains the connection's bounded queue into the
//! socket. Errors are [`error::SocketError`]s, told in the language negotiated at the upgrade;
//! presence frames go out through [`presence`].

mod chat;
pub mod error;
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
        RawQuery, State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures::StreamExt;
use ssgwan_realtime::Connection;
use ssgwan_store::User;
use tokio_util::sync::CancellationToken;

use self::{error::SocketError, session::Session};
use crate::{error::AppError, i18n::Lang, identity::CurrentUser, state::AppState};

/// Frames a connection may have queued before it counts as too slow and is closed.
pub const QUEUE_FRAMES: usize = 256;
/// How often the server pings each client.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A client silent this long (no frame, no pong) is disconnected and leaves its rooms.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Messages a `join` replays at most; beyond that `truncated` is set and the client pages.
pub const MISSED_LIMIT: i64 = 500;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

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
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let ws = ws.map_err(|_| AppError::UpgradeRequired)?;
    let lang = query
        .as_deref()
        .and_then(lang_parameter)
        .unwrap_or_else(Lang::current);
    let user = current.user;
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
        .on_upgrade(move |socket| connections.track(run(state, user, lang, socket))))
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
/// its rooms.
async fn run(state: AppState, user: User, lang: Lang, socket: WebSocket) {
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let (connection, outbound) = Connection::new(id, QUEUE_FRAMES);
    let slow = connection.closed_for_slowness();
    let done = CancellationToken::new();
    let stopping = state.connections.stopping();
    let (sink, mut stream) = socket.split();
    metrics::gauge!("ssgwan_ws_connections").increment(1.0);

    let writer = tokio::spawn(writer::write_loop(sink, outbound, slow, done.clone()));
    state.sockets.add(&user, connection.clone()).await;
    let user_id = user.id;
    let mut session = Session {
        state,
        user,
        connection,
        lang,
        rooms: HashMap::new(),
    };
    loop {
        let next = tokio::select! {
            () = done.cancelled() => break,
            () = stopping.cancelled() => break,
            next = tokio::time::timeout(IDLE_LIMIT, stream.next()) => next,
        };
        match next {
            Err(_idle) => {
                tracing::debug!(connection = id, "client silent for too long");
                break;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(text)))) => session.handle(text.as_str()).await,
            Ok(Some(Ok(Message::Binary(_)))) => session.error(&SocketError::UnsupportedFrame, None),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
        }
    }
    done.cancel();
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
