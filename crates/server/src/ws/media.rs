//! Live video over the socket: each tab that joined a room may hold one media session with
//! this node's media server (SFU, `ssgwan_media`). The tab asks for it (`rtcStart`), answers
//! the server's offers (`rtcAnswer`), says which members it shows (`rtcView`) and restarts ICE
//! (`rtcRestart`); the media server's events for the session come back through a [`TabSink`]
//! into this connection's task, which turns them into `rtcOffer`, `camera` and `rtcClosed`
//! frames.
//!
//! The media server's verdict on the tab's video is the tab's camera state: what presence
//! shows as `camera` and what attendance counts. The `media` frame's `camera` is only the
//! user's choice as the client reports it, and counts for nothing.

use std::sync::Arc;

use ssgwan_media::{
    CloseReason, PeerEvent, PeerSink, Refusal, Tile, TileSize, TrackKind, Unverified,
};
use ssgwan_realtime::{Connection, RoomId};
use ssgwan_store::ParticipantStatus;
use tokio::sync::mpsc;

use super::{
    error::{SocketError, SocketResult},
    session::Session,
};
use crate::{
    error::AppError,
    wire::{PublishDto, ServerFrame, TileDto, TileSizeDto, TrackDto},
};

/// Media events a connection may have waiting for its task; a connection whose task falls this
/// far behind is closed as too slow (the events are few: offers follow the tab's own frames,
/// verdicts change every few seconds at most).
pub(super) const MEDIA_EVENTS: usize = 128;

/// This tab's media session in one room.
#[derive(Debug)]
pub(super) struct RtcSession {
    /// Tells this session's events from those of the session it replaced.
    generation: u64,
    /// The media server's verdict on the video this tab publishes.
    verified: bool,
}

impl RtcSession {
    pub(super) fn verified(&self) -> bool {
        self.verified
    }
}

/// An event of one of this connection's media sessions.
pub(super) struct MediaEvent {
    room: RoomId,
    generation: u64,
    event: PeerEvent,
}

/// Where the media server delivers a session's events: into the connection's media queue,
/// without waiting (it is called from the media tasks).
struct TabSink {
    room: RoomId,
    generation: u64,
    events: mpsc::Sender<MediaEvent>,
    connection: Connection,
}

impl PeerSink for TabSink {
    fn deliver(&self, event: PeerEvent) {
        let event = MediaEvent {
            room: self.room,
            generation: self.generation,
            event,
        };
        match self.events.try_send(event) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.connection
                    .close(ssgwan_realtime::CloseReason::TOO_SLOW);
            }
        }
    }
}

/// What a `camera` frame says about why the video does not count.
fn reason_name(reason: Unverified) -> &'static str {
    match reason {
        Unverified::NoVideo => "noVideo",
        Unverified::LowFrameRate => "lowFrameRate",
        Unverified::TinyFrames => "tinyFrames",
        Unverified::Stalled => "stalled",
    }
}

fn close_name(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::Timeout => "timeout",
        CloseReason::Replaced => "replaced",
        CloseReason::Left => "left",
        CloseReason::Unavailable => "unavailable",
        CloseReason::Moved => "moved",
    }
}

impl Session {
    /// The room's media session of this tab, or `RTC_NOT_STARTED` (`NOT_IN_ROOM` before that).
    fn rtc(&self, room: RoomId) -> SocketResult<&RtcSession> {
        self.joined(room)?
            .rtc
            .as_ref()
            .ok_or(SocketError::RtcNotStarted)
    }

    /// `rtcStart`: a new media session for this tab in the room, replacing its previous one.
    /// Only for an active participant who joined (checked again here, as chat does, for the
    /// moment between a cancel and its eviction reaching this connection).
    pub(super) async fn rtc_start(&mut self, room: RoomId) -> SocketResult {
        self.joined(room)?;
        if !self.state.media.may_serve() {
            return Err(SocketError::MediaUnavailable);
        }
        let active = self
            .state
            .store
            .membership(room, self.user.id)
            .await?
            .is_some_and(|m| m.status == ParticipantStatus::Active);
        if !active {
            return Err(SocketError::NotActiveParticipant);
        }
        // Host stops and blocks hold from the session's first packet.
        let policy = crate::media_policy::load(&*self.state.store, room).await?;
        self.next_generation += 1;
        let generation = self.next_generation;
        let Some(joined) = self.rooms.get_mut(&room) else {
            return Err(SocketError::NotInRoom);
        };
        let previous = joined.rtc.replace(RtcSession {
            generation,
            verified: false,
        });
        if let Some(previous) = previous {
            // Told here, before the new session's offer: the old session's own `Closed` event
            // is from an older generation and is dropped.
            self.send(&ServerFrame::RtcClosed {
                room,
                reason: close_name(CloseReason::Replaced),
            });
            if previous.verified {
                self.update_media(room).await?;
            }
        }
        let sink = Arc::new(TabSink {
            room,
            generation,
            events: self.media_events.clone(),
            connection: self.connection.clone(),
        });
        let opened = self
            .state
            .media
            .open(room, self.connection.id, self.user.id, policy, sink)
            .await;
        if opened.is_err() {
            if let Some(joined) = self.rooms.get_mut(&room)
                && joined
                    .rtc
                    .as_ref()
                    .is_some_and(|rtc| rtc.generation == generation)
            {
                joined.rtc = None;
            }
            return Err(SocketError::MediaUnavailable);
        }
        metrics::counter!("ssgwan_media_sessions_started_total").increment(1);
        Ok(())
    }

    /// `rtcAnswer`: hands the answer to the media server (its refusals come back as events).
    pub(super) fn rtc_answer(&self, room: RoomId, revision: u64, sdp: String) -> SocketResult {
        ssgwan_domain::live::answer_sdp(&sdp).map_err(AppError::Invalid)?;
        self.rtc(room)?;
        self.state
            .media
            .answer(room, self.connection.id, revision, sdp);
        Ok(())
    }

    /// `rtcView`: which members' videos the tab shows now.
    pub(super) fn rtc_view(&self, room: RoomId, tiles: &[TileDto]) -> SocketResult {
        let users: Vec<i64> = tiles.iter().map(|t| t.user).collect();
        ssgwan_domain::live::view_tiles(self.user.id, &users).map_err(AppError::Invalid)?;
        self.rtc(room)?;
        let tiles = tiles
            .iter()
            .map(|t| Tile {
                user: t.user,
                size: match t.size {
                    TileSizeDto::Small => TileSize::Small,
                    TileSizeDto::Large => TileSize::Large,
                },
            })
            .collect();
        self.state.media.view(room, self.connection.id, tiles);
        Ok(())
    }

    /// `rtcRestart`: an ICE restart; the fresh offer comes as an event.
    pub(super) fn rtc_restart(&self, room: RoomId) -> SocketResult {
        self.rtc(room)?;
        self.state.media.restart_ice(room, self.connection.id);
        Ok(())
    }

    /// Ends this tab's media session in `room` (it left or was taken out), telling the tab.
    /// The caller has taken the room out of [`Session::rooms`] or is about to.
    pub(super) fn end_rtc(&self, room: RoomId) {
        self.state.media.close(room, self.connection.id);
        self.send(&ServerFrame::RtcClosed {
            room,
            reason: close_name(CloseReason::Left),
        });
    }

    /// Ends every media session of this connection at once (it is closing): its video stops
    /// counting now, not when the closing handshake is over.
    pub(super) async fn close_all_media(&mut self) {
        let rooms: Vec<RoomId> = self
            .rooms
            .iter()
            .filter(|(_, joined)| joined.rtc.is_some())
            .map(|(room, _)| *room)
            .collect();
        for room in rooms {
            self.state.media.close(room, self.connection.id);
            let was_verified = self
                .rooms
                .get_mut(&room)
                .and_then(|joined| joined.rtc.take())
                .is_some_and(|rtc| rtc.verified);
            if was_verified && let Err(err) = self.update_media(room).await {
                tracing::warn!(code = err.code(), room, "camera state not updated at close");
            }
        }
    }

    /// One event of a media session: frames for the tab, and the verdict as its camera state.
    /// Events of a session that was replaced or ended here are dropped.
    pub(super) async fn media_event(&mut self, event: MediaEvent) {
        let MediaEvent {
            room,
            generation,
            event,
        } = event;
        let current = self
            .rooms
            .get(&room)
            .and_then(|joined| joined.rtc.as_ref())
            .is_some_and(|rtc| rtc.generation == generation);
        if !current {
            return;
        }
        match event {
            PeerEvent::Offer(offer) => self.send(&ServerFrame::RtcOffer {
                room,
                revision: offer.revision,
                sdp: offer.sdp,
                publish: PublishDto {
                    video: offer.publish.video,
                    audio: offer.publish.audio,
                },
                tracks: offer
                    .tracks
                    .into_iter()
                    .map(|t| TrackDto {
                        mid: t.mid,
                        user: t.user,
                        kind: match t.kind {
                            TrackKind::Video => "video",
                            TrackKind::Audio => "audio",
                        },
                    })
                    .collect(),
            }),
            PeerEvent::Verdict(verdict) => {
                metrics::counter!(
                    "ssgwan_media_verdicts_total",
                    "verified" => if verdict.verified { "true" } else { "false" }
                )
                .increment(1);
                tracing::debug!(
                    room,
                    user = self.user.id,
                    verified = verdict.verified,
                    reason = ?verdict.reason,
                    fps = verdict.fps,
                    bytes_per_frame = verdict.bytes_per_frame,
                    "camera verdict"
                );
                if let Some(rtc) = self
                    .rooms
                    .get_mut(&room)
                    .and_then(|joined| joined.rtc.as_mut())
                {
                    rtc.verified = verdict.verified;
                }
                if let Err(err) = self.update_media(room).await {
                    self.error(&err, Some(room));
                }
                let reason = verdict.reason.unwrap_or(Unverified::NoVideo);
                self.tell_camera(room, reason).await;
            }
            PeerEvent::Closed(reason) => {
                let was_verified = self
                    .rooms
                    .get_mut(&room)
                    .and_then(|joined| joined.rtc.take())
                    .is_some_and(|rtc| rtc.verified);
                self.send(&ServerFrame::RtcClosed {
                    room,
                    reason: close_name(reason),
                });
                if was_verified {
                    if let Err(err) = self.update_media(room).await {
                        self.error(&err, Some(room));
                    }
                    self.tell_camera(room, Unverified::NoVideo).await;
                }
            }
            PeerEvent::Refused(refusal) => {
                let err = match refusal {
                    Refusal::StaleRevision => SocketError::RtcStaleRevision,
                    Refusal::BadAnswer(detail) => SocketError::RtcBadAnswer(detail),
                    Refusal::NotStarted => SocketError::RtcNotStarted,
                };
                self.error(&err, Some(room));
            }
        }
    }

    /// Tells the user's tabs in the room whether their time on camera counts now: verified
    /// while any of their tabs on this node publishes verified video (what attendance counts),
    /// otherwise why not (this tab's reason).
    async fn tell_camera(&self, room: RoomId, reason: Unverified) {
        let verified = self.state.rooms.camera_on_here(room, self.user.id);
        let frame = ServerFrame::Camera {
            room,
            verified,
            reason: (!verified).then(|| reason_name(reason)),
        };
        if let Err(err) = self
            .state
            .rooms
            .send_to_user(room, self.user.id, frame.encode())
            .await
        {
            tracing::warn!(error = %err, room, "camera frame not delivered to the other nodes");
        }
    }
}
