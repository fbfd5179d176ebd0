//! The reader half of a connection: a [`Session`] handles the client's frames in order
//! (join, leave, media, signal, ping; chat is in `chat.rs`) and answers every failure with one
//! coded `error` frame in the connection's language, leaving the connection up.

use std::{collections::HashMap, sync::Arc};

use ssgwan_domain::attendance::ParticipantSchedule;
use ssgwan_realtime::{Connection, Media, MemberInfo, RoomId};
use ssgwan_store::{ParticipantStatus, User};

use super::{
    MISSED_LIMIT,
    error::{SocketError, SocketResult},
    presence::{Change, announce},
};
use crate::{
    attendance::Seat,
    error::AppError,
    i18n::Lang,
    state::AppState,
    wire::{self, ClientFrame, MessageDto, ServerFrame},
};

/// A room this connection has joined.
pub(super) struct JoinedRoom {
    pub(super) seat: Seat,
}

pub(super) struct Session {
    pub(super) state: AppState,
    pub(super) user: User,
    pub(super) connection: Connection,
    pub(super) lang: Lang,
    pub(super) rooms: HashMap<RoomId, JoinedRoom>,
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

    pub(super) async fn handle(&mut self, text: &str) {
        let frame = match wire::parse(text) {
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
            ClientFrame::Signal { room, to, data } => (room, self.signal(room, to, &data).await),
            ClientFrame::Media { room, camera, mic } => {
                (room, self.media(room, Media { camera, mic }).await)
            }
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
        let seat = Seat {
            required_seconds: challenge.spec.required_seconds(),
            schedule: Arc::new(challenge.spec.schedule),
            joined_at: membership.joined_at,
        };
        let missed = match since {
            Some(after) => store.messages_after(room, after, MISSED_LIMIT + 1).await?,
            None => Vec::new(),
        };
        let truncated = missed.len() as i64 > MISSED_LIMIT;
        let missed: Vec<MessageDto> = missed
            .into_iter()
            .skip(usize::from(truncated))
            .map(MessageDto::from)
            .collect();

        let rejoin = self.rooms.contains_key(&room);
        let joined = self
            .state
            .rooms
            .join(
                room,
                self.member_info(),
                self.connection.clone(),
                Media::default(),
            )
            .await?;
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
        self.sync_attendance(room);
        Ok(())
    }

    async fn leave_frame(&mut self, room: RoomId) -> SocketResult {
        self.joined(room)?;
        self.leave(room).await;
        Ok(())
    }

    pub(super) async fn leave(&mut self, room: RoomId) {
        if self.rooms.remove(&room).is_none() {
            return;
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

    async fn signal(
        &self,
        room: RoomId,
        to: i64,
        data: &serde_json::value::RawValue,
    ) -> SocketResult {
        self.joined(room)?;
        let frame = wire::signal_frame(room, self.user.id, data);
        let delivered = self.state.rooms.send_to_user(room, to, frame).await?;
        if to == self.user.id || !delivered {
            return Err(SocketError::PeerNotInRoom { user: to });
        }
        Ok(())
    }

    async fn media(&self, room: RoomId, media: Media) -> SocketResult {
        self.joined(room)?;
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
