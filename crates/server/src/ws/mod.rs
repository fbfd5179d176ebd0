//! The real-time gateway, `GET /api/ws`: one WebSocket per browser tab carries chat, presence,
//! signaling and attendance for any number of rooms. The full protocol is in docs/protocol.md.
//!
//! Each connection has two tasks: the reader (this module's [`Session`]) handles frames in
//! order, and the writer drains the connection's bounded queue into the socket, pings the
//! client every [`PING_EVERY`], and closes the socket when the queue overflows (1013) or the
//! client went silent for [`IDLE_LIMIT`].

pub mod protocol;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::{
        State,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures::{SinkExt, StreamExt, stream::SplitSink};
use ssgwan_domain::attendance::ParticipantSchedule;
use ssgwan_realtime::{Connection, Media, MemberInfo, RoomId};
use ssgwan_store::{ParticipantStatus, User};
use tokio_util::sync::CancellationToken;

use self::protocol::{ClientFrame, MessageDto, ServerFrame};
use crate::{attendance::Seat, error::AppError, http::extract::CurrentUser, state::AppState};

/// Frames a connection may have queued before it counts as too slow and is closed.
pub const QUEUE_FRAMES: usize = 256;
/// How often the server pings each client.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A client silent this long (no frame, no pong) is disconnected and leaves its rooms.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Messages a `join` replays at most; beyond that `truncated` is set and the client pages.
pub const MISSED_LIMIT: i64 = 500;

/// A per-user chat limit of `per_10s` messages per 10 seconds, shared by the nodes through
/// Redis when there is one; `None` when 0 (limits off, for load tests).
pub fn chat_limiter(
    per_10s: u32,
    redis: Option<&ssgwan_realtime::RedisClient>,
) -> Option<Arc<dyn ssgwan_realtime::RateLimiter>> {
    if per_10s == 0 {
        return None;
    }
    let window = Duration::from_secs(10);
    Some(match redis {
        Some(redis) => Arc::new(ssgwan_realtime::RedisRateLimiter::new(
            redis.clone(),
            "chat",
            per_10s,
            window,
        )),
        None => Arc::new(ssgwan_realtime::LocalRateLimiter::new(per_10s, window)),
    })
}

/// Tells the rooms about presence changes that no connection of this node caused: users of a
/// node that died (their last tab is gone), or re-registered after a Redis outage. The shared
/// rooms report each change on exactly one node; the frames are those a leave, join or media
/// change sends.
pub fn spawn_presence_reporter(
    rooms: Arc<dyn ssgwan_realtime::Rooms>,
    mut events: ssgwan_realtime::PresenceEvents,
) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let (room, event, member) = match event {
                ssgwan_realtime::PresenceEvent::Joined { room, member } => (room, "join", member),
                ssgwan_realtime::PresenceEvent::Left { room, member } => (room, "leave", member),
                ssgwan_realtime::PresenceEvent::Changed { room, member } => (room, "media", member),
            };
            if room < 0 {
                // A personal channel (see UserSockets): nobody else is in it.
                continue;
            }
            let user = member.info.user_id;
            tracing::info!(room, user, event, "presence changed on another node");
            let frame = ServerFrame::Presence {
                room,
                event,
                user: member,
            }
            .encode();
            if let Err(err) = rooms.broadcast(room, frame, Some(user)).await {
                tracing::warn!(error = %err, room, "presence change not delivered");
            }
        }
    });
}

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// Every open connection of each user, for frames that are not about a room (rank changes).
///
/// On one node a map of this node's connections. With rooms shared by several nodes, each
/// connection also sits in its user's personal channel — room id `-user`, which no client can
/// join (room ids are positive challenge ids) — so a frame reaches the user's tabs on every node.
#[derive(Default)]
pub struct UserSockets {
    sockets: std::sync::Mutex<HashMap<i64, Vec<Connection>>>,
    shared: Option<Arc<dyn ssgwan_realtime::Rooms>>,
}

/// The personal channel of `user` in the shared rooms.
fn personal_room(user: i64) -> RoomId {
    -user
}

impl UserSockets {
    /// Sockets delivered through `rooms` across nodes (with Redis), or only here (`None`).
    pub fn new(shared: Option<Arc<dyn ssgwan_realtime::Rooms>>) -> Self {
        Self {
            sockets: Default::default(),
            shared,
        }
    }

    async fn add(&self, user: &User, connection: Connection) {
        if let Some(rooms) = &self.shared {
            let info = MemberInfo {
                user_id: user.id,
                nickname: user.nickname.clone(),
                profile_image: user.profile_image.clone(),
            };
            if let Err(err) = rooms
                .join(
                    personal_room(user.id),
                    info,
                    connection.clone(),
                    Media::default(),
                )
                .await
            {
                tracing::warn!(error = %err, "personal channel not joined; rank changes stay local");
            }
        }
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(user.id)
            .or_default()
            .push(connection);
    }

    async fn remove(&self, user: i64, id: u64) {
        if let Some(rooms) = &self.shared {
            let _ = rooms.leave(personal_room(user), user, id).await;
        }
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = sockets.get_mut(&user) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                sockets.remove(&user);
            }
        }
    }

    /// Sends to every connection of `user` (on every node when shared); false when they have
    /// none on this node.
    pub fn send(&self, user: i64, frame: Arc<str>) -> bool {
        if let Some(rooms) = &self.shared {
            let rooms = rooms.clone();
            let local = self
                .sockets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&user);
            tokio::spawn(async move {
                if let Err(err) = rooms.send_to_user(personal_room(user), user, frame).await {
                    tracing::warn!(error = %err, user, "frame for a user not delivered");
                }
            });
            return local;
        }
        let targets: Vec<Connection> = self
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            .cloned()
            .unwrap_or_default();
        for connection in &targets {
            connection.send(frame.clone());
        }
        !targets.is_empty()
    }
}

/// Upgrades an authenticated request (401 before the upgrade otherwise).
#[utoipa::path(
    get, path = "/api/ws", tag = "realtime",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol of docs/protocol.md"),
        (status = 426, body = crate::error::ErrorBody, description = "Not a WebSocket upgrade (`UPGRADE_REQUIRED`)"),
        (status = 401, body = crate::error::ErrorBody)
    )
)]
pub async fn upgrade(
    State(state): State<AppState>,
    current: CurrentUser,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let ws = ws.map_err(|_| AppError::UpgradeRequired)?;
    let user = current.user;
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
        .on_upgrade(move |socket| run(state, user, socket)))
}

/// Serves one connection until it closes, then takes the user out of its rooms.
async fn run(state: AppState, user: User, socket: WebSocket) {
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let (connection, outbound) = Connection::new(id, QUEUE_FRAMES);
    let slow = connection.closed_for_slowness();
    let done = CancellationToken::new();
    let (sink, mut stream) = socket.split();
    metrics::gauge!("ssgwan_ws_connections").increment(1.0);

    let writer = tokio::spawn(write_loop(sink, outbound, slow, done.clone()));
    state.sockets.add(&user, connection.clone()).await;
    let user_id = user.id;
    let mut session = Session {
        state,
        user,
        connection,
        rooms: HashMap::new(),
    };
    loop {
        let next = tokio::select! {
            () = done.cancelled() => break,
            next = tokio::time::timeout(IDLE_LIMIT, stream.next()) => next,
        };
        match next {
            Err(_idle) => {
                tracing::debug!(connection = id, "client silent for too long");
                break;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(text)))) => session.handle(text.as_str()).await,
            Ok(Some(Ok(Message::Binary(_)))) => {
                session.error("UNSUPPORTED_FRAME", "frames are JSON text".into(), None)
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
        }
    }
    done.cancel();
    session.state.sockets.remove(user_id, id).await;
    session.leave_all().await;
    let _ = writer.await;
    metrics::gauge!("ssgwan_ws_connections").decrement(1.0);
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbound: tokio::sync::mpsc::Receiver<Arc<str>>,
    slow: CancellationToken,
    done: CancellationToken,
) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            () = done.cancelled() => break,
            () = slow.cancelled() => {
                // The client fell behind while we were idle: say why, if it still listens.
                close_slow(&mut sink).await;
                break;
            }
            frame = outbound.recv() => match frame {
                Some(frame) => Message::Text(Utf8Bytes::from(&*frame)),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        // A send blocks when the client stops reading; its queue then overflows and the slow
        // flag fires, which must win over the blocked send.
        let sent = tokio::select! {
            sent = sink.send(message) => sent.is_ok(),
            () = slow.cancelled() => {
                metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
                false
            }
            () = tokio::time::sleep(Duration::from_secs(10)) => {
                metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
                false
            }
        };
        if !sent {
            break;
        }
    }
    done.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

async fn close_slow(sink: &mut SplitSink<WebSocket, Message>) {
    metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
    let close = CloseFrame {
        code: 1013,
        reason: Utf8Bytes::from_static("too slow: messages were piling up"),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        sink.send(Message::Close(Some(close))),
    )
    .await;
}

/// A room this connection has joined.
struct JoinedRoom {
    seat: Seat,
}

struct Session {
    state: AppState,
    user: User,
    connection: Connection,
    rooms: HashMap<RoomId, JoinedRoom>,
}

impl Session {
    fn send(&self, frame: &ServerFrame) {
        self.connection.send(frame.encode());
    }

    fn error(&self, code: &'static str, message: String, room: Option<RoomId>) {
        metrics::counter!("ssgwan_ws_errors_total", "code" => code).increment(1);
        self.send(&ServerFrame::Error {
            code,
            message,
            room,
        });
    }

    /// A shared-store failure: `SERVICE_UNAVAILABLE` while Redis is down (the client retries),
    /// `INTERNAL` for anything else.
    fn realtime_error(&self, err: ssgwan_realtime::RealtimeError, room: RoomId) {
        tracing::warn!(error = %err, room, "real-time operation failed");
        self.app_error(&AppError::from(err), Some(room));
    }

    fn app_error(&self, err: &AppError, room: Option<RoomId>) {
        let body = err.body();
        self.error(body.code, body.message, room);
    }

    async fn handle(&mut self, text: &str) {
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(err) => return self.error(err.code, err.detail, None),
        };
        match frame {
            ClientFrame::Ping => self.send(&ServerFrame::Pong),
            ClientFrame::Join { room, since } => self.join(room, since).await,
            ClientFrame::Leave { room } => {
                if self.rooms.contains_key(&room) {
                    self.leave(room).await;
                } else {
                    self.error("NOT_IN_ROOM", "join the room first".into(), Some(room));
                }
            }
            ClientFrame::Chat {
                room,
                body,
                client_id,
            } => self.chat(room, &body, client_id).await,
            ClientFrame::Signal { room, to, data } => {
                if !self.rooms.contains_key(&room) {
                    return self.error("NOT_IN_ROOM", "join the room first".into(), Some(room));
                }
                let frame = protocol::signal_frame(room, self.user.id, &data);
                let delivered = match self.state.rooms.send_to_user(room, to, frame).await {
                    Ok(delivered) => delivered,
                    Err(err) => return self.realtime_error(err, room),
                };
                if to == self.user.id || !delivered {
                    self.error(
                        "PEER_NOT_IN_ROOM",
                        format!("user {to} is not in room {room}"),
                        Some(room),
                    );
                }
            }
            ClientFrame::Media { room, camera, mic } => {
                if !self.rooms.contains_key(&room) {
                    return self.error("NOT_IN_ROOM", "join the room first".into(), Some(room));
                }
                let changed = self
                    .state
                    .rooms
                    .set_media(
                        room,
                        self.user.id,
                        self.connection.id,
                        Media { camera, mic },
                    )
                    .await;
                let changed = match changed {
                    Ok(changed) => changed,
                    Err(err) => return self.realtime_error(err, room),
                };
                if let Some(member) = changed {
                    let _ = self
                        .state
                        .rooms
                        .broadcast(
                            room,
                            ServerFrame::Presence {
                                room,
                                event: "media",
                                user: member,
                            }
                            .encode(),
                            Some(self.user.id),
                        )
                        .await;
                }
                self.sync_attendance(room).await;
            }
        }
    }

    async fn join(&mut self, room: RoomId, since: Option<i64>) {
        let store = &self.state.store;
        let membership = match store.membership(room, self.user.id).await {
            Ok(m) => m,
            Err(err) => return self.app_error(&err.into(), Some(room)),
        };
        let Some(membership) = membership.filter(|m| m.status == ParticipantStatus::Active) else {
            return self.error(
                "FORBIDDEN",
                "only active participants may join this room".into(),
                Some(room),
            );
        };
        let challenge = match store.challenge(room, None).await {
            Ok(Some(c)) => c,
            Ok(None) => return self.app_error(&AppError::ChallengeNotFound, Some(room)),
            Err(err) => return self.app_error(&err.into(), Some(room)),
        };
        let seat = Seat {
            required_seconds: challenge.spec.required_seconds(),
            schedule: Arc::new(challenge.spec.schedule),
            joined_at: membership.joined_at,
        };
        let missed = match since {
            Some(after) => match store.messages_after(room, after, MISSED_LIMIT + 1).await {
                Ok(m) => m,
                Err(err) => return self.app_error(&err.into(), Some(room)),
            },
            None => Vec::new(),
        };
        let truncated = missed.len() as i64 > MISSED_LIMIT;
        let missed: Vec<MessageDto> = missed
            .into_iter()
            .skip(usize::from(truncated))
            .map(MessageDto::from)
            .collect();

        let info = MemberInfo {
            user_id: self.user.id,
            nickname: self.user.nickname.clone(),
            profile_image: self.user.profile_image.clone(),
        };
        let rejoin = self.rooms.contains_key(&room);
        let joined = match self
            .state
            .rooms
            .join(room, info, self.connection.clone(), Media::default())
            .await
        {
            Ok(joined) => joined,
            Err(err) => return self.realtime_error(err, room),
        };
        if joined.first_tab
            && !rejoin
            && let Some(me) = joined
                .members
                .iter()
                .find(|m| m.info.user_id == self.user.id)
                .cloned()
        {
            let _ = self
                .state
                .rooms
                .broadcast(
                    room,
                    ServerFrame::Presence {
                        room,
                        event: "join",
                        user: me,
                    }
                    .encode(),
                    Some(self.user.id),
                )
                .await;
        }
        self.send(&ServerFrame::Joined {
            room,
            members: joined.members,
            missed,
            truncated,
        });
        // Today's attendance so far (or the day's, outside a session).
        let now = self.state.now();
        let participant = ParticipantSchedule::new(&seat.schedule, seat.joined_at);
        let date = participant
            .session_at(now)
            .unwrap_or_else(|| seat.schedule.local_date(now));
        if let Ok(day) = store.attendance_day(room, self.user.id, date).await {
            self.send(&ServerFrame::Attendance {
                room,
                date: date.to_string(),
                seconds: day.seconds,
                achieved: day.achieved,
                required_seconds: seat.required_seconds,
            });
        }
        self.rooms.insert(room, JoinedRoom { seat });
        self.sync_attendance(room).await;
    }

    async fn leave(&mut self, room: RoomId) {
        let Some(_joined) = self.rooms.remove(&room) else {
            return;
        };
        let rooms = &self.state.rooms;
        // While Redis is down the others may miss this leave's presence frame; when it is back
        // the shared rooms re-register this node's tabs and report the difference as a leave.
        let before = rooms
            .members(room)
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|m| m.info.user_id == self.user.id);
        let left = rooms
            .leave(room, self.user.id, self.connection.id)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, room, "leaving a room during a real-time store outage");
                Some(true)
            });
        match left {
            Some(true) => {
                if let Some(member) = before {
                    let _ = rooms
                        .broadcast(
                            room,
                            ServerFrame::Presence {
                                room,
                                event: "leave",
                                user: member,
                            }
                            .encode(),
                            Some(self.user.id),
                        )
                        .await;
                }
            }
            Some(false) => {
                let after = rooms
                    .members(room)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .find(|m| m.info.user_id == self.user.id);
                if let Some(after) = after.filter(|a| Some(a) != before.as_ref()) {
                    let _ = rooms
                        .broadcast(
                            room,
                            ServerFrame::Presence {
                                room,
                                event: "media",
                                user: after.clone(),
                            }
                            .encode(),
                            Some(self.user.id),
                        )
                        .await;
                }
            }
            None => {}
        }
        if !rooms.camera_on_here(room, self.user.id) {
            self.state.attendance.camera_off(room, self.user.id);
        }
    }

    async fn leave_all(&mut self) {
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            self.leave(room).await;
        }
    }

    /// Tells the attendance tracker whether the user is on camera in `room` (in any tab).
    async fn sync_attendance(&self, room: RoomId) {
        let Some(joined) = self.rooms.get(&room) else {
            return;
        };
        // This node's tabs only: each node counts its own tabs, and the camera lease keeps a
        // user on camera on two nodes from being counted twice (see attendance.rs).
        if self.state.rooms.camera_on_here(room, self.user.id) {
            self.state
                .attendance
                .camera_on(room, self.user.id, joined.seat.clone());
        } else {
            self.state.attendance.camera_off(room, self.user.id);
        }
    }

    async fn chat(&self, room: RoomId, body: &str, client_id: String) {
        if !self.rooms.contains_key(&room) {
            return self.error("NOT_IN_ROOM", "join the room first".into(), Some(room));
        }
        let body = match ssgwan_domain::chat::message_body(body) {
            Ok(body) => body,
            Err(invalid) => return self.app_error(&AppError::Invalid(invalid), Some(room)),
        };
        if client_id.is_empty() || client_id.len() > 64 || client_id.chars().any(char::is_control) {
            return self.app_error(
                &AppError::Invalid(ssgwan_domain::Invalid::new(
                    "clientId",
                    ssgwan_domain::Reason::Length { min: 1, max: 64 },
                )),
                Some(room),
            );
        }
        if let Some(limiter) = &self.state.chat_limiter {
            match limiter.check(&self.user.id.to_string()).await {
                Ok(decision) if !decision.is_allowed() => {
                    return self.app_error(&AppError::RateLimited, Some(room));
                }
                Ok(_) => {}
                // Fail open: the message itself is stored in the database, not in Redis.
                Err(err) => tracing::warn!(error = %err, "chat limit not checked"),
            }
        }
        let stored = self
            .state
            .store
            .post_message(room, self.user.id, &client_id, body, self.state.now())
            .await;
        match stored {
            // Stored first, then delivered to everyone in the room, the sender's tabs included.
            Ok((message, true)) => {
                metrics::counter!("ssgwan_chat_messages_total").increment(1);
                let frame = ServerFrame::Chat {
                    room,
                    message: message.into(),
                    client_id,
                };
                // Stored, and delivered to this node's tabs even if Redis is down; members on
                // other nodes then see a gap in the room's numbering and fetch what they missed
                // (history over HTTP, or `join` with `since`).
                if let Err(err) = self.state.rooms.broadcast(room, frame.encode(), None).await {
                    tracing::warn!(error = %err, room, "chat fan-out to other nodes failed");
                }
            }
            // A resend of a message already stored: confirm it to this tab only.
            Ok((message, false)) => self.send(&ServerFrame::Chat {
                room,
                message: message.into(),
                client_id,
            }),
            Err(err) => self.app_error(&err.into(), Some(room)),
        }
    }
}
