//! The reader half of a connection: a [`Session`] handles the client's frames in order
//! (join, leave, media, ping; chat is in `chat.rs`, the media session's frames in `media.rs`)
//! and answers every failure with one coded `error` frame in the connection's language,
//! leaving the connection up.

use std::{collections::HashMap, sync::Arc};

use ssgwan_domain::attendance::ParticipantSchedule;
use ssgwan_realtime::{Connection, Eviction, Media, MemberInfo, Revocation, RoomId};
use ssgwan_store::{ParticipantStatus, User};

use super::{
    JOIN_COST, MISSED_BYTES, MISSED_LIMIT, close,
    error::{SocketError, SocketResult},
    media::{MediaEvent, RtcSession},
    presence::{Change, announce},
};
use crate::{
    attendance::Seat,
    error::AppError,
    i18n::Lang,
    limits::{FrameBudget, Spend},
    state::AppState,
    wire::{self, ClientFrame, MessageDto, ServerFrame},
};

/// A room this connection has joined.
pub(super) struct JoinedRoom {
    pub(super) seat: Seat,
    /// The camera and microphone as the tab says the user chose them (`media` frames): a hint
    /// for the others' screens; the camera counts for nothing.
    pub(super) hint: Media,
    /// This tab's media session in the room, once started.
    pub(super) rtc: Option<RtcSession>,
}

impl JoinedRoom {
    /// This tab's state as the room shows it: the camera as the media server verified it, the
    /// microphone as the tab says.
    pub(super) fn tab_media(&self) -> Media {
        Media {
            camera: self.rtc.as_ref().is_some_and(RtcSession::verified),
            mic: self.hint.mic,
        }
    }
}

pub(super) struct Session {
    pub(super) state: AppState,
    pub(super) user: User,
    pub(super) connection: Connection,
    pub(super) lang: Lang,
    /// The session the socket was opened with (its token hash): signing it out closes it.
    pub(super) token_hash: String,
    pub(super) rooms: HashMap<RoomId, JoinedRoom>,
    /// What this connection may still spend on frames.
    pub(super) budget: FrameBudget,
    /// Where this connection's media sessions deliver their events (see `media.rs`).
    pub(super) media_events: tokio::sync::mpsc::Sender<MediaEvent>,
    /// The last media session generation handed out on this connection.
    pub(super) next_generation: u64,
}

/// What a frame costs of the connection's budget: a join, or the start of a media session
/// (which reads the database and sets up a WebRTC session), costs [`JOIN_COST`].
fn frame_cost(frame: &Result<ClientFrame, wire::FrameError>) -> u32 {
    match frame {
        Ok(ClientFrame::Join { .. } | ClientFrame::RtcStart { .. }) => JOIN_COST,
        _ => 1,
    }
}

impl Session {
    pub(super) fn send(&self, frame: &ServerFrame) {
        self.connection.send(frame.encode());
    }

    /// Sends `err` as an `error` frame about `room` (or about no room).
    pub(super) fn error(&self, err: &SocketError, room: Option<RoomId>) {
        let code = err.code();
        metrics::counter!("ssgwan_ws_errors_total", "code" => code).increment(1);
        self.send(&ServerFrame::Error {
            code,
            message: err.message(self.lang),
            room,
            field: err.field(),
        });
    }

    /// The joined room, or `NOT_IN_ROOM`.
    pub(super) fn joined(&self, room: RoomId) -> SocketResult<&JoinedRoom> {
        self.rooms.get(&room).ok_or(SocketError::NotInRoom)
    }

    pub(super) fn member_info(&self) -> MemberInfo {
        MemberInfo {
            user_id: self.user.id,
            nickname: self.user.nickname.clone(),
            profile_image: self.user.profile_image.clone(),
        }
    }

    /// Spends `cost` of the budget; false when the frame is refused (told with
    /// `TOO_MANY_FRAMES`, or by closing a connection that keeps flooding).
    fn spend(&self, cost: u32, room: Option<RoomId>) -> bool {
        match self.budget.spend(cost) {
            Spend::Allowed => true,
            Spend::Refused => {
                self.error(&SocketError::TooManyFrames, room);
                false
            }
            Spend::Abusive => {
                tracing::info!(user = self.user.id, "socket closed for flooding");
                self.connection.close(close::FLOODING);
                false
            }
        }
    }

    /// The server took this connection's user out of a room (they cancelled, the challenge
    /// ended or was deleted), or signed its session out (the connection closes with 4401).
    pub(super) async fn revoked(&mut self, eviction: Eviction) {
        if !eviction.concerns(self.user.id, &self.token_hash) {
            return;
        }
        if eviction.reason == Revocation::SignedOut {
            self.connection.close(close::SIGNED_OUT);
            self.close_all_media().await;
            return;
        }
        if !self.rooms.contains_key(&eviction.room) {
            return;
        }
        self.leave(eviction.room).await;
        self.send(&ServerFrame::Left {
            room: eviction.room,
            reason: eviction.reason,
        });
    }

    /// A binary frame: refused (the protocol is JSON text), after paying for it.
    pub(super) fn handle_binary(&self) {
        if self.spend(1, None) {
            self.error(&SocketError::UnsupportedFrame, None);
        }
    }

    pub(super) async fn handle(&mut self, text: &str) {
        let frame = wire::parse(text);
        let room = frame.as_ref().ok().and_then(ClientFrame::room);
        if !self.spend(frame_cost(&frame), room) {
            return;
        }
        let frame = match frame {
            Ok(frame) => frame,
            Err(err) => return self.error(&err.into(), None),
        };
        let (room, outcome) = match frame {
            ClientFrame::Ping => {
                self.send(&ServerFrame::Pong);
                return;
            }
            ClientFrame::Join { room, since } => (room, self.join(room, since).await),
            ClientFrame::Leave { room } => (room, self.leave_frame(room).await),
            ClientFrame::Chat {
                room,
                body,
                client_id,
            } => (room, self.chat(room, &body, client_id).await),
            ClientFrame::Media { room, camera, mic } => {
                (room, self.media(room, Media { camera, mic }).await)
            }
            ClientFrame::RtcStart { room } => (room, self.rtc_start(room).await),
            ClientFrame::RtcAnswer {
                room,
                revision,
                sdp,
            } => (room, self.rtc_answer(room, revision, sdp)),
            ClientFrame::RtcView { room, tiles } => (room, self.rtc_view(room, &tiles)),
            ClientFrame::RtcRestart { room } => (room, self.rtc_restart(room)),
        };
        if let Err(err) = outcome {
            self.error(&err, Some(room));
        }
    }

    async fn join(&mut self, room: RoomId, since: Option<i64>) -> SocketResult {
        let store = &self.state.store;
        let membership = store
            .membership(room, self.user.id)
            .await?
            .filter(|m| m.status == ParticipantStatus::Active)
            .ok_or(SocketError::NotActiveParticipant)?;
        let challenge = store
            .challenge(room, None)
            .await?
            .ok_or(AppError::ChallengeNotFound)?;
        self.admit(room, &challenge).await?;
        let seat = Seat {
            required_seconds: challenge.spec.required_seconds(),
            schedule: Arc::new(challenge.spec.schedule),
            joined_at: membership.joined_at,
        };
        let (mut missed, truncated) = match since {
            Some(after) => missed_since(&**store, room, after).await?,
            None => (Vec::new(), false),
        };
        self.visible(&mut missed).await?;

        // Joining again keeps the tab's media session and the state it verified.
        let current = self.rooms.get(&room).map(JoinedRoom::tab_media);
        let rejoin = current.is_some();
        let joined = self
            .state
            .rooms
            .join(
                room,
                self.member_info(),
                self.connection.clone(),
                current.unwrap_or_default(),
            )
            .await?;
        // The place may have ended between the check above and this connection entering the
        // room, too early for the eviction to find it here: look once more now that any later
        // eviction will.
        let still_active = store
            .membership(room, self.user.id)
            .await?
            .is_some_and(|m| m.status == ParticipantStatus::Active);
        if !still_active {
            if !rejoin {
                let _ = self
                    .state
                    .rooms
                    .leave(room, self.user.id, self.connection.id)
                    .await;
            }
            return Err(SocketError::NotActiveParticipant);
        }
        if joined.first_tab
            && !rejoin
            && let Some(me) = joined
                .members
                .iter()
                .find(|m| m.info.user_id == self.user.id)
                .cloned()
        {
            announce(&*self.state.rooms, room, Change::Join, me).await;
        }
        self.send(&ServerFrame::Joined {
            room,
            members: joined.members,
            missed,
            truncated,
        });
        // Whose media a host stopped (only when someone's is).
        let stops = crate::media_policy::stops(&**store, room).await?;
        if !stops.is_empty() {
            self.send(&ServerFrame::MediaStops { room, stops });
        }
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
        match self.rooms.get_mut(&room) {
            Some(joined) => joined.seat = seat,
            None => {
                self.rooms.insert(
                    room,
                    JoinedRoom {
                        seat,
                        hint: Media::default(),
                        rtc: None,
                    },
                );
            }
        }
        self.sync_attendance(room);
        Ok(())
    }

    async fn leave_frame(&mut self, room: RoomId) -> SocketResult {
        self.joined(room)?;
        self.leave(room).await;
        Ok(())
    }

    pub(super) async fn leave(&mut self, room: RoomId) {
        let Some(joined) = self.rooms.remove(&room) else {
            return;
        };
        // The media first: a member who is out gets no more video, at once.
        if joined.rtc.is_some() {
            self.end_rtc(room);
        }
        let rooms = &*self.state.rooms;
        // While Redis is down the others may miss this leave's presence frame; when it is back
        // the shared rooms re-register this node's tabs and report the difference as a leave.
        let me = |members: Vec<ssgwan_realtime::Member>| {
            members.into_iter().find(|m| m.info.user_id == self.user.id)
        };
        let before = me(rooms.members(room).await.unwrap_or_default());
        let left = rooms
            .leave(room, self.user.id, self.connection.id)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, room, "leaving a room during a real-time store outage");
                Some(true)
            });
        match left {
            // The user's last tab left the room.
            Some(true) => {
                if let Some(member) = before {
                    announce(rooms, room, Change::Leave, member).await;
                }
            }
            // Another tab stays: the union of their media may have changed.
            Some(false) => {
                let after = me(rooms.members(room).await.unwrap_or_default());
                if let Some(after) = after.filter(|a| Some(a) != before.as_ref()) {
                    announce(rooms, room, Change::Media, after).await;
                }
            }
            None => {}
        }
        if !rooms.camera_on_here(room, self.user.id) {
            self.state.attendance.camera_off(room, self.user.id);
        }
    }

    pub(super) async fn leave_all(&mut self) {
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            self.leave(room).await;
        }
    }

    /// `media`: the camera and microphone the user chose in this tab. Shown to the others
    /// (the microphone as is; the camera only once the media server verifies the video).
    async fn media(&mut self, room: RoomId, media: Media) -> SocketResult {
        let Some(joined) = self.rooms.get_mut(&room) else {
            return Err(SocketError::NotInRoom);
        };
        joined.hint = media;
        self.update_media(room).await
    }

    /// Publishes this tab's state in the room ([`JoinedRoom::tab_media`]): to the shared rooms,
    /// to the others when the user's state changed, and to the attendance tracker.
    pub(super) async fn update_media(&self, room: RoomId) -> SocketResult {
        let media = self.joined(room)?.tab_media();
        let changed = self
            .state
            .rooms
            .set_media(room, self.user.id, self.connection.id, media)
            .await?;
        if let Some(member) = changed {
            announce(&*self.state.rooms, room, Change::Media, member).await;
        }
        self.sync_attendance(room);
        Ok(())
    }

    /// Tells the attendance tracker whether the user is on camera in `room` (in any tab).
    fn sync_attendance(&self, room: RoomId) {
        let Ok(joined) = self.joined(room) else {
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
}

/// Messages read from the store at a time while replaying: what one `join` holds in memory
/// is this page, not the whole history after `since`.
const MISSED_PAGE: i64 = 50;

/// The newest messages after `since` that fit in [`MISSED_LIMIT`] messages and
/// [`MISSED_BYTES`] (as the frame holds them), oldest first; and whether older ones after
/// `since` were left out. Read page by page backwards from the newest.
async fn missed_since(
    store: &dyn ssgwan_store::Store,
    room: RoomId,
    since: i64,
) -> SocketResult<(Vec<MessageDto>, bool)> {
    let limit = usize::try_from(MISSED_LIMIT).unwrap_or(0);
    let mut kept: Vec<MessageDto> = Vec::new();
    let mut bytes = 0usize;
    let mut before: Option<i64> = None;
    loop {
        let page = match before {
            None => store.messages_after(room, since, MISSED_PAGE).await?,
            Some(before) => {
                store
                    .messages_before(room, Some(before), MISSED_PAGE)
                    .await?
            }
        };
        let full = page.len() as i64 == MISSED_PAGE;
        let oldest = page.first().map(|m| m.id);
        for message in page.into_iter().rev() {
            if message.id <= since {
                return Ok(finish(kept, false));
            }
            let dto = MessageDto::from(message);
            // As the frame will hold it (and a comma).
            let size = serde_json::to_string(&dto).map_or(0, |json| json.len()) + 1;
            if kept.len() == limit || bytes + size > MISSED_BYTES {
                return Ok(finish(kept, true));
            }
            bytes += size;
            kept.push(dto);
        }
        match oldest {
            Some(oldest) if full && oldest > since + 1 => before = Some(oldest),
            _ => return Ok(finish(kept, false)),
        }
    }
}

/// Newest-first messages, oldest first.
fn finish(mut kept: Vec<MessageDto>, truncated: bool) -> (Vec<MessageDto>, bool) {
    kept.reverse();
    (kept, truncated)
}
