//! On-camera time, measured by the server.
//!
//! While a participant is in a room with the camera on (in any of their tabs: the rooms report
//! the union), their time inside their session windows accrues here. One actor task owns all
//! accruals, so tabs and ticks never race. Every tick it moves each accrual forward to the
//! clock's `now`; at least every `persist_every` (and at once when a session is about to be
//! achieved) it adds the whole seconds to the database, tells the user with an `attendance`
//! frame, and emits `SessionAchieved` the one time a session crosses its minimum.
//!
//! With several nodes each node's actor counts its own tabs, and a camera lease in Redis (one
//! holder per room and user, renewed while counting) makes sure that a user on camera in tabs on
//! two nodes is counted by exactly one of them. If the lease cannot be renewed (Redis is down),
//! the holder keeps counting until its lease would have expired and then stops; at a hand-over
//! at most one lease period goes uncounted and nothing is ever counted twice.
//!
//! A user's time counts in one room at a time: besides the camera lease, the room that counts
//! holds the user's attendance lease ([`ssgwan_realtime::attendance_lease`], in Redis with
//! several nodes, in process on one). The room where they went on camera first takes it and
//! keeps it while it counts; another room on camera at the same time counts nothing and its
//! tabs get an `attendanceElsewhere` frame, until the first room's camera goes off and the
//! lease is released (or lapses), when the next tick of the other room takes it over.

use std::{collections::BTreeMap, collections::HashMap, sync::Arc, time::Duration};

use jiff::{SignedDuration, Timestamp, civil::Date};
use ssgwan_domain::{Clock, Schedule, attendance::ParticipantSchedule};
use ssgwan_realtime::{
    Leases, LocalLeases, RoomId, Rooms, UserId, attendance_lease, attendance_owner,
    attendance_owner_room, camera_lease,
};
use ssgwan_store::AttendanceStore;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::{events::DomainEvent, tasks::Background, wire::ServerFrame};

/// What accrual needs to know about a participant in a room.
#[derive(Debug, Clone)]
pub struct Seat {
    pub schedule: Arc<Schedule>,
    pub joined_at: Timestamp,
    pub required_seconds: i64,
}

/// How long a camera lease lasts without renewal.
const LEASE_TTL: Duration = Duration::from_secs(15);
/// A held lease is renewed once less than this is left (so about every 5 s).
const LEASE_RENEW_BELOW: Duration = Duration::from_secs(10);

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
    /// Answered once every command sent before it has been handled.
    Settled(oneshot::Sender<()>),
}

/// A handle on the attendance actor.
#[derive(Clone)]
pub struct Attendance {
    commands: mpsc::UnboundedSender<Command>,
}

impl Attendance {
    /// Starts the actor on `background`: it ticks every `tick` of real time and reads instants
    /// from `clock`. `leases` is `None` on a single node (nothing to share). When the server
    /// stops, the actor writes everything counted up to that instant before it finishes.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        background: &Background,
        store: Arc<dyn AttendanceStore>,
        rooms: Arc<dyn Rooms>,
        leases: Option<Arc<dyn Leases>>,
        clock: Arc<dyn Clock>,
        events: broadcast::Sender<DomainEvent>,
        tick: Duration,
        persist_every: SignedDuration,
    ) -> Attendance {
        let (commands, receiver) = mpsc::unbounded_channel();
        let attendance_leases = leases
            .clone()
            .unwrap_or_else(|| Arc::new(LocalLeases::new()));
        let actor = Actor {
            store,
            rooms,
            leases,
            attendance_leases,
            clock,
            events,
            persist_every,
            accruals: HashMap::new(),
        };
        background.spawn(
            "attendance",
            actor.run(receiver, tick, background.stopping()),
        );
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

    /// Resolves once the actor has handled every command sent before this call (at once when
    /// it has stopped). What a test awaits instead of sleeping.
    pub async fn settled(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Settled(reply)).is_ok() {
            let _ = done.await;
        }
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
    /// Until when this node holds the user's camera lease (real time), when it does.
    lease_until: Option<std::time::Instant>,
    /// Until when this room holds the user's attendance lease (real time), when it does.
    counting_until: Option<std::time::Instant>,
    /// The user was told that another room counts (once per spell of not counting here).
    told_elsewhere: bool,
}

impl Accrual {
    fn new(seat: Seat, now: Timestamp) -> Self {
        Accrual {
            seat,
            counted_until: now,
            pending: BTreeMap::new(),
            written: HashMap::new(),
            last_write: now,
            lease_until: None,
            counting_until: None,
            told_elsewhere: false,
        }
    }
}

struct Actor {
    store: Arc<dyn AttendanceStore>,
    rooms: Arc<dyn Rooms>,
    leases: Option<Arc<dyn Leases>>,
    /// The users' attendance leases: the shared leases on several nodes, in process on one.
    attendance_leases: Arc<dyn Leases>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<DomainEvent>,
    persist_every: SignedDuration,
    accruals: HashMap<(RoomId, UserId), Accrual>,
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        tick: Duration,
        stop: CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                command = commands.recv() => match command {
                    Some(Command::CameraOn { room, user, seat }) => {
                        if !self.accruals.contains_key(&(room, user)) {
                            // Claimed at once, so that of two rooms the one on camera first
                            // counts, however the ticks fall.
                            let mut accrual = Accrual::new(seat, self.clock.now());
                            self.may_count(room, user, &mut accrual).await;
                            self.accruals.insert((room, user), accrual);
                        }
                    }
                    Some(Command::CameraOff { room, user }) => {
                        if let Some(mut accrual) = self.accruals.remove(&(room, user)) {
                            self.skip_unless_holding(&mut accrual);
                            self.advance(room, user, &mut accrual, true).await;
                            self.release(room, user, &accrual).await;
                        }
                    }
                    Some(Command::Settled(reply)) => {
                        let _ = reply.send(());
                    }
                    None => break,
                },
                _ = ticker.tick() => {
                    let keys: Vec<(RoomId, UserId)> = self.accruals.keys().copied().collect();
                    for key in keys {
                        if let Some(mut accrual) = self.accruals.remove(&key) {
                            if !self.may_count(key.0, key.1, &mut accrual).await {
                                // Another node counts this user; skip the time.
                                accrual.counted_until = accrual.counted_until.max(self.clock.now());
                            }
                            self.advance(key.0, key.1, &mut accrual, false).await;
                            self.accruals.insert(key, accrual);
                        }
                    }
                }
            }
        }
        // The server is stopping: write what was counted, up to this instant.
        for ((room, user), mut accrual) in std::mem::take(&mut self.accruals) {
            self.skip_unless_holding(&mut accrual);
            self.advance(room, user, &mut accrual, true).await;
            self.release(room, user, &accrual).await;
        }
    }

    /// Whether this room on this node may count the user's time now: while it holds the
    /// user's attendance lease, and (with several nodes) the camera lease of the room, each
    /// claimed or renewed here when due. Tells the user once when another room counts.
    async fn may_count(&self, room: RoomId, user: UserId, accrual: &mut Accrual) -> bool {
        if !self.holds_camera(room, user, accrual).await {
            return false;
        }
        let now = std::time::Instant::now();
        let owner = attendance_owner(self.rooms.node_id(), room);
        let lease = attendance_lease(user);
        let was_counting = accrual.counting_until.is_some_and(|until| until > now);
        if accrual
            .counting_until
            .is_none_or(|until| until.saturating_duration_since(now) < LEASE_RENEW_BELOW)
        {
            match self
                .attendance_leases
                .claim(&lease, &owner, LEASE_TTL)
                .await
            {
                Ok(true) => accrual.counting_until = Some(now + LEASE_TTL),
                Ok(false) => accrual.counting_until = None,
                Err(err) => {
                    tracing::warn!(error = %err, room, user, "attendance lease not renewed");
                }
            }
        }
        let counting = accrual.counting_until.is_some_and(|until| until > now);
        if counting && !was_counting {
            // Taken over from another room: this room counts from now, not from when it went
            // on camera.
            accrual.counted_until = accrual.counted_until.max(self.clock.now());
        }
        if counting && accrual.told_elsewhere {
            // Counting here again: the user hears it from this room's current total.
            self.send_current(room, user, accrual).await;
        }
        if counting {
            accrual.told_elsewhere = false;
        } else if !accrual.told_elsewhere {
            accrual.told_elsewhere = true;
            let counting_room = match self.attendance_leases.holder(&lease).await {
                Ok(holder) => holder.as_deref().and_then(attendance_owner_room),
                Err(_) => None,
            };
            metrics::counter!("ssgwan_attendance_elsewhere_total").increment(1);
            let frame = ServerFrame::AttendanceElsewhere {
                room,
                counting_room,
            };
            let _ = self.rooms.send_to_user(room, user, frame.encode()).await;
        }
        counting
    }

    /// Sends the user an `attendance` frame with the room's total for today's session (or
    /// today's date when no session runs now) as the database has it.
    async fn send_current(&self, room: RoomId, user: UserId, accrual: &Accrual) {
        let now = self.clock.now();
        let participant = ParticipantSchedule::new(&accrual.seat.schedule, accrual.seat.joined_at);
        let date = participant
            .session_at(now)
            .unwrap_or_else(|| accrual.seat.schedule.local_date(now));
        match self.store.attendance_day(room, user, date).await {
            Ok(day) => {
                let frame = ServerFrame::Attendance {
                    room,
                    date: date.to_string(),
                    seconds: day.seconds,
                    achieved: day.achieved,
                    required_seconds: accrual.seat.required_seconds,
                };
                let _ = self.rooms.send_to_user(room, user, frame.encode()).await;
            }
            Err(err) => tracing::warn!(error = %err, room, user, "reading attendance failed"),
        }
    }

    /// Whether this node holds the camera lease of (room, user): always on a single node.
    async fn holds_camera(&self, room: RoomId, user: UserId, accrual: &mut Accrual) -> bool {
        let Some(leases) = &self.leases else {
            return true;
        };
        let now = std::time::Instant::now();
        let due = accrual
            .lease_until
            .is_none_or(|until| until.saturating_duration_since(now) < LEASE_RENEW_BELOW);
        if due {
            match leases
                .claim_camera(room, user, self.rooms.node_id(), LEASE_TTL)
                .await
            {
                Ok(true) => accrual.lease_until = Some(now + LEASE_TTL),
                Ok(false) => accrual.lease_until = None,
                Err(err) => {
                    tracing::warn!(error = %err, room, user, "camera lease not renewed");
                }
            }
        }
        accrual.lease_until.is_some_and(|until| until > now)
    }

    /// Time since the last tick counts only if this room held the user's attendance lease and
    /// (on several nodes) this node the camera lease.
    fn skip_unless_holding(&self, accrual: &mut Accrual) {
        let now = std::time::Instant::now();
        let lapsed = |until: Option<std::time::Instant>| until.is_none_or(|until| until <= now);
        if lapsed(accrual.counting_until) || (self.leases.is_some() && lapsed(accrual.lease_until))
        {
            accrual.counted_until = accrual.counted_until.max(self.clock.now());
        }
    }

    /// Gives the leases back, so another room (or another node's tab) can count at once.
    async fn release(&self, room: RoomId, user: UserId, accrual: &Accrual) {
        if accrual.counting_until.is_some()
            && let Err(err) = self
                .attendance_leases
                .release(
                    &attendance_lease(user),
                    &attendance_owner(self.rooms.node_id(), room),
                )
                .await
        {
            tracing::warn!(error = %err, room, user, "attendance lease not released");
        }
        if let Some(leases) = &self.leases
            && accrual.lease_until.is_some()
            && let Err(err) = leases
                .release(&camera_lease(room, user), self.rooms.node_id())
                .await
        {
            tracing::warn!(error = %err, room, user, "camera lease not released");
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
            // While Redis is down the frame may not arrive; the next write sends the new total
            // (the time itself is in the database either way).
            let _ = self.rooms.send_to_user(room, user, frame.encode()).await;
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
