//! On-camera time, measured by the server.
//!
//! While a participant is in a room with the camera on (in any of their tabs: the rooms report
//! the union), their time inside their session windows accrues here. One actor task owns all
//! accruals, so tabs and ticks never race. Every tick it moves each accrual forward to the
//! clock's `now`; at least every `persist_every` (and at once when a session is about to be
//! achieved) it adds the whole seconds to the database, tells the user with an `attendance`
//! frame, and emits `SessionAchieved` the one time a session crosses its minimum.

use std::{collections::BTreeMap, collections::HashMap, sync::Arc, time::Duration};

use jiff::{SignedDuration, Timestamp, civil::Date};
use ssgwan_domain::{Clock, Schedule, attendance::ParticipantSchedule};
use ssgwan_realtime::{RoomId, Rooms, UserId};
use ssgwan_store::Store;
use tokio::sync::{broadcast, mpsc};

use crate::{events::DomainEvent, ws::protocol::ServerFrame};

/// What accrual needs to know about a participant in a room.
#[derive(Debug, Clone)]
pub struct Seat {
    pub schedule: Arc<Schedule>,
    pub joined_at: Timestamp,
    pub required_seconds: i64,
}

enum Command {
    CameraOn {
        room: RoomId,
        user: UserId,
        seat: Seat,
    },
    CameraOff {
        room: RoomId,
        user: UserId,
    },
}

/// A handle on the attendance actor.
#[derive(Clone)]
pub struct Attendance {
    commands: mpsc::UnboundedSender<Command>,
}

impl Attendance {
    /// Starts the actor: it ticks every `tick` of real time and reads instants from `clock`.
    pub fn start(
        store: Arc<dyn Store>,
        rooms: Arc<dyn Rooms>,
        clock: Arc<dyn Clock>,
        events: broadcast::Sender<DomainEvent>,
        tick: Duration,
        persist_every: SignedDuration,
    ) -> Attendance {
        let (commands, receiver) = mpsc::unbounded_channel();
        let actor = Actor {
            store,
            rooms,
            clock,
            events,
            persist_every,
            accruals: HashMap::new(),
        };
        tokio::spawn(actor.run(receiver, tick));
        Attendance { commands }
    }

    /// The user's camera is on in `room` (idempotent).
    pub fn camera_on(&self, room: RoomId, user: UserId, seat: Seat) {
        let _ = self.commands.send(Command::CameraOn { room, user, seat });
    }

    /// The user's camera is off in `room`, or they left: accrued time is written at once.
    pub fn camera_off(&self, room: RoomId, user: UserId) {
        let _ = self.commands.send(Command::CameraOff { room, user });
    }
}

struct Accrual {
    seat: Seat,
    /// Time before this instant has been counted into `pending`.
    counted_until: Timestamp,
    /// Counted but not yet written, per session date, in milliseconds.
    pending: BTreeMap<Date, i64>,
    /// Totals as last written, per session date.
    written: HashMap<Date, (i64, bool)>,
    last_write: Timestamp,
}

struct Actor {
    store: Arc<dyn Store>,
    rooms: Arc<dyn Rooms>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<DomainEvent>,
    persist_every: SignedDuration,
    accruals: HashMap<(RoomId, UserId), Accrual>,
}

impl Actor {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>, tick: Duration) {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::CameraOn { room, user, seat }) => {
                        let now = self.clock.now();
                        self.accruals.entry((room, user)).or_insert_with(|| Accrual {
                            seat, counted_until: now, pending: BTreeMap::new(), written: HashMap::new(), last_write: now,
                        });
                    }
                    Some(Command::CameraOff { room, user }) => {
                        if let Some(mut accrual) = self.accruals.remove(&(room, user)) {
                            self.advance(room, user, &mut accrual, true).await;
                        }
                    }
                    None => break,
                },
                _ = ticker.tick() => {
                    let keys: Vec<(RoomId, UserId)> = self.accruals.keys().copied().collect();
                    for key in keys {
                        if let Some(mut accrual) = self.accruals.remove(&key) {
                            self.advance(key.0, key.1, &mut accrual, false).await;
                            self.accruals.insert(key, accrual);
                        }
                    }
                }
            }
        }
        // The server is stopping: write what was counted.
        for ((room, user), mut accrual) in std::mem::take(&mut self.accruals) {
            self.advance(room, user, &mut accrual, true).await;
        }
    }

    /// Counts time up to now and writes it when due (or when `flush`).
    async fn advance(&self, room: RoomId, user: UserId, accrual: &mut Accrual, flush: bool) {
        let now = self.clock.now();
        let participant = ParticipantSchedule::new(&accrual.seat.schedule, accrual.seat.joined_at);
        for (date, millis) in participant.on_camera_millis(accrual.counted_until, now) {
            *accrual.pending.entry(date).or_default() += millis;
        }
        accrual.counted_until = accrual.counted_until.max(now);
        let about_to_achieve = accrual.pending.iter().any(|(date, millis)| {
            let (seconds, achieved) = accrual.written.get(date).copied().unwrap_or((0, false));
            !achieved
                && accrual.written.contains_key(date)
                && seconds + millis / 1000 >= accrual.seat.required_seconds
        });
        let due = flush
            || about_to_achieve
            || now.duration_since(accrual.last_write) >= self.persist_every
            || accrual
                .pending
                .keys()
                .any(|d| !accrual.written.contains_key(d));
        if !due || accrual.pending.is_empty() {
            return;
        }
        accrual.last_write = now;
        let dates: Vec<Date> = accrual.pending.keys().copied().collect();
        for date in dates {
            let millis = accrual.pending.get(&date).copied().unwrap_or(0);
            let seconds = millis / 1000;
            let update = if seconds > 0 {
                self.store
                    .add_attendance(
                        room,
                        user,
                        date,
                        seconds,
                        accrual.seat.required_seconds,
                        now,
                    )
                    .await
            } else {
                self.store.attendance_day(room, user, date).await.map(|d| {
                    ssgwan_store::AttendanceUpdate {
                        seconds: d.seconds,
                        achieved: d.achieved,
                        newly_achieved: false,
                    }
                })
            };
            let update = match update {
                Ok(update) => update,
                Err(err) => {
                    // Keep the time pending; the next tick tries again.
                    tracing::error!(error = %err, room, user, "writing attendance failed");
                    continue;
                }
            };
            let remainder = millis - seconds * 1000;
            if remainder > 0 && participant.session_at(now) == Some(date) {
                accrual.pending.insert(date, remainder);
            } else {
                accrual.pending.remove(&date);
            }
            accrual
                .written
                .insert(date, (update.seconds, update.achieved));
            let frame = ServerFrame::Attendance {
                room,
                date: date.to_string(),
                seconds: update.seconds,
                achieved: update.achieved,
                required_seconds: accrual.seat.required_seconds,
            };
            self.rooms.send_to_user(room, user, frame.encode()).await;
            metrics::counter!("ssgwan_attendance_seconds_total")
                .increment(u64::try_from(seconds).unwrap_or(0));
            if update.newly_achieved {
                metrics::counter!("ssgwan_sessions_achieved_total").increment(1);
                tracing::info!(room, user, %date, "session achieved");
                let _ = self.events.send(DomainEvent::SessionAchieved {
                    challenge_id: room,
                    user_id: user,
                    date,
                    at: now,
                });
            }
        }
    }
}
