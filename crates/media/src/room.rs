//! One actor task per room: it owns the room's sessions (each with its `Rtc`), takes commands
//! from the [`crate::MediaServer`] handle and datagrams from the demultiplexer over channels,
//! forwards media between its sessions and meters its publishers. Nothing in the media path is
//! shared with another task except the socket (sends need no lock) and relaxed counters.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use str0m::crypto::CryptoProvider;
use str0m::crypto::dtls::DtlsCert;
use str0m::media::{KeyframeRequestKind, MediaData};
use str0m::net::{Protocol, Receive, Transmit};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::io::{NetInput, Route, RouteChange};
use crate::presence::{FrameFacts, PresenceMeter};
use crate::session::{Session, Want};
use crate::stats::Stats;
use crate::{
    CloseReason, PeerEvent, PeerId, PeerSink, PresenceRules, RoomId, RoomPolicy, Tile, TrackKind,
    Unverified, UserId, vp8,
};

/// No datagram from a peer for this long (or before it ever connects) ends its session.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);
/// At most one keyframe request per publisher per this interval (later ones are coalesced).
pub const PLI_INTERVAL: Duration = Duration::from_secs(1);
/// How often the room re-evaluates meters, sources and subscriptions.
const TICK: Duration = Duration::from_millis(250);
/// A user's audio counts as sending while a packet arrived this recently.
const AUDIO_IDLE: Duration = Duration::from_secs(5);
/// A user's video keeps its subscribers' m-lines while a frame arrived this recently (a short
/// hiccup does not renegotiate every viewer twice).
const VIDEO_IDLE: Duration = Duration::from_secs(5);
/// Datagrams queued for one room before the demultiplexer drops (UDP semantics).
pub const NET_QUEUE: usize = 4_096;
/// At most this many tiles are honoured (the socket layer refuses more).
const MAX_TILES: usize = 25;

/// What the handle asks of a room.
pub enum Command {
    Open {
        peer: PeerId,
        user: UserId,
        sink: Arc<dyn PeerSink>,
        /// The room's policy as of this open (applied before the session starts).
        policy: Option<RoomPolicy>,
    },
    /// The room's forwarding policy from now on.
    Policy(RoomPolicy),
    Answer {
        peer: PeerId,
        revision: u64,
        sdp: String,
    },
    View {
        peer: PeerId,
        tiles: Vec<Tile>,
    },
    RestartIce {
        peer: PeerId,
    },
    Close {
        peer: PeerId,
    },
    RemoveUser {
        user: UserId,
    },
    /// Ends every session, telling each `reason`.
    CloseAll {
        reason: CloseReason,
    },
}

/// The way into a running room actor.
#[derive(Clone)]
pub struct RoomHandle {
    pub commands: mpsc::UnboundedSender<Command>,
}

/// What every room shares (read-only, or internally synchronised off the hot path).
pub struct Shared {
    pub socket: Arc<UdpSocket>,
    pub routes: mpsc::UnboundedSender<RouteChange>,
    pub stats: Arc<Stats>,
    pub rules: PresenceRules,
    pub candidates: Vec<Candidate>,
    /// The advertised candidate addresses (`public_ip` with the bound ports): str0m matches a
    /// datagram's destination against them.
    pub udp_local: SocketAddr,
    pub tcp_local: Option<SocketAddr>,
    pub crypto: Arc<CryptoProvider>,
    pub cert: DtlsCert,
    /// The running rooms (touched when a room starts or ends, and by the handle's calls).
    pub rooms: Mutex<HashMap<RoomId, RoomHandle>>,
    pub stopping: CancellationToken,
}

/// Starts the actor of room `id`; returns its handle.
pub fn spawn(id: RoomId, shared: Arc<Shared>, runtime: &tokio::runtime::Handle) -> RoomHandle {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (net_tx, net_rx) = mpsc::channel(NET_QUEUE);
    shared.stats.room_opened();
    let room = Room {
        id,
        shared,
        sessions: BTreeMap::new(),
        tcp_out: HashMap::new(),
        net_tx,
        video_source: HashMap::new(),
        audio_source: HashMap::new(),
        dirty: BTreeSet::new(),
        next_tick: Instant::now(),
        policy: RoomPolicy::default(),
    };
    runtime.spawn(room.run(command_rx, net_rx));
    RoomHandle { commands }
}

struct Room {
    id: RoomId,
    shared: Arc<Shared>,
    sessions: BTreeMap<PeerId, Session>,
    /// Senders of the ICE-TCP connections, by remote address.
    tcp_out: HashMap<SocketAddr, (PeerId, mpsc::Sender<Vec<u8>>)>,
    net_tx: mpsc::Sender<NetInput>,
    /// Whose video each user's subscribers get: one tab per user.
    video_source: HashMap<UserId, PeerId>,
    audio_source: HashMap<UserId, PeerId>,
    /// Sessions with output to poll.
    dirty: BTreeSet<PeerId>,
    next_tick: Instant,
    /// Whose media goes to whom (host stops, blocks).
    policy: RoomPolicy,
}

impl Room {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut net: mpsc::Receiver<NetInput>,
    ) {
        let stopping = self.shared.stopping.clone();
        loop {
            let wake = self
                .sessions
                .values()
                .map(|s| s.wake_at)
                .fold(self.next_tick, Instant::min);
            tokio::select! {
                biased;
                () = stopping.cancelled() => {
                    let peers: Vec<PeerId> = self.sessions.keys().copied().collect();
                    for peer in peers {
                        self.end(peer, Some(CloseReason::Unavailable));
                    }
                    self.flush();
                    self.shared.stats.room_closed();
                    return;
                }
                Some(command) = commands.recv() => self.command(command, Instant::now()),
                Some(input) = net.recv() => {
                    let now = Instant::now();
                    self.net(input, now);
                    // Take what else is queued before polling: fewer passes under load.
                    for _ in 0..128 {
                        match net.try_recv() {
                            Ok(input) => self.net(input, now),
                            Err(_) => break,
                        }
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => self.timeouts(Instant::now()),
            }
            self.flush();
            if self.sessions.is_empty() && self.try_exit(&commands) {
                return;
            }
        }
    }

    /// Leaves the registry if no command is queued (under the registry lock, so a concurrent
    /// `open` either reaches this actor first or starts a new one).
    fn try_exit(&self, commands: &mpsc::UnboundedReceiver<Command>) -> bool {
        let Ok(mut rooms) = self.shared.rooms.lock() else {
            return false;
        };
        if !commands.is_empty() {
            return false;
        }
        rooms.remove(&self.id);
        self.shared.stats.room_closed();
        true
    }

    fn command(&mut self, command: Command, now: Instant) {
        match command {
            Command::Open {
                peer,
                user,
                sink,
                policy,
            } => {
                if let Some(policy) = policy {
                    self.policy = policy;
                }
                self.open(peer, user, sink, now);
            }
            Command::Policy(policy) => self.policy = policy,
            Command::Answer {
                peer,
                revision,
                sdp,
            } => {
                let Some(session) = self.sessions.get_mut(&peer) else {
                    return;
                };
                match session.answer(revision, &sdp) {
                    Ok(newly_live) => {
                        // After an ICE restart the fragment is new from here on.
                        let ufrag = session.ufrag();
                        self.register(peer, ufrag);
                        for user in newly_live {
                            if let Some(&source) = self.video_source.get(&user) {
                                self.request_keyframe(source, now);
                            }
                        }
                    }
                    Err(refusal) => session.sink.deliver(PeerEvent::Refused(refusal)),
                }
                self.dirty.insert(peer);
            }
            Command::View { peer, tiles } => {
                if let Some(session) = self.sessions.get_mut(&peer) {
                    let own = session.user;
                    session.view = tiles
                        .iter()
                        .map(|t| t.user)
                        .filter(|&u| u != own)
                        .take(MAX_TILES)
                        .collect();
                }
            }
            Command::RestartIce { peer } => {
                if let Some(session) = self.sessions.get_mut(&peer) {
                    session.ice_restart = true;
                }
            }
            Command::Close { peer } => self.end(peer, None),
            Command::RemoveUser { user } => {
                let peers: Vec<PeerId> = self
                    .sessions
                    .values()
                    .filter(|s| s.user == user)
                    .map(|s| s.peer)
                    .collect();
                for peer in peers {
                    self.end(peer, Some(CloseReason::Left));
                }
            }
            Command::CloseAll { reason } => {
                let peers: Vec<PeerId> = self.sessions.keys().copied().collect();
                for peer in peers {
                    self.end(peer, Some(reason));
                }
            }
        }
        self.refresh(now);
    }

    fn open(&mut self, peer: PeerId, user: UserId, sink: Arc<dyn PeerSink>, now: Instant) {
        if self.sessions.contains_key(&peer) {
            self.end(peer, Some(CloseReason::Replaced));
        }
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .clear_codecs()
            .enable_vp8(true)
            .enable_opus(true, false)
            .set_crypto_provider(self.shared.crypto.clone())
            .set_dtls_cert(self.shared.cert.clone())
            .build(now);
        for candidate in &self.shared.candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        let meter = PresenceMeter::new(self.shared.rules.clone());
        sink.deliver(PeerEvent::Verdict(meter.verdict().clone()));
        let want = self.audio_wanted_by(user);
        let mut session = Session::new(peer, user, sink, rtc, meter, &want, now);
        let ufrag = session.ufrag();
        self.register(peer, ufrag);
        self.sessions.insert(peer, session);
        self.shared.stats.peer_opened();
        self.dirty.insert(peer);
    }

    fn register(&self, peer: PeerId, ufrag: String) {
        let route = Route {
            room: self.id,
            peer,
            to_room: self.net_tx.clone(),
        };
        let _ = self
            .shared
            .routes
            .send(RouteChange::AddUfrag { ufrag, route });
    }

    /// Ends a session; `reason` is told to its sink (`None`: the server closed it, no event).
    fn end(&mut self, peer: PeerId, reason: Option<CloseReason>) {
        let Some(mut session) = self.sessions.remove(&peer) else {
            return;
        };
        if session.meter.verdict().verified {
            self.shared.stats.verified_gone();
        }
        session.rtc.disconnect();
        self.tcp_out.retain(|_, (p, _)| *p != peer);
        self.dirty.remove(&peer);
        let _ = self.shared.routes.send(RouteChange::RemovePeer {
            room: self.id,
            peer,
        });
        self.shared.stats.peer_closed();
        self.video_source.retain(|_, p| *p != peer);
        self.audio_source.retain(|_, p| *p != peer);
        if let Some(reason) = reason {
            session.sink.deliver(PeerEvent::Closed(reason));
        }
    }

    fn net(&mut self, input: NetInput, now: Instant) {
        match input {
            NetInput::TcpAttached { peer, source, out } => {
                if self.sessions.contains_key(&peer) {
                    self.tcp_out.insert(source, (peer, out));
                }
            }
            NetInput::Datagram {
                peer,
                source,
                tcp,
                data,
            } => {
                let Some(session) = self.sessions.get_mut(&peer) else {
                    return;
                };
                let (proto, destination) = match (tcp, self.shared.tcp_local) {
                    (true, Some(local)) => (Protocol::Tcp, local),
                    (true, None) => return,
                    (false, _) => (Protocol::Udp, self.shared.udp_local),
                };
                let Ok(contents) = data.as_slice().try_into() else {
                    self.shared.stats.datagram_dropped();
                    return;
                };
                let input = Input::Receive(
                    now,
                    Receive {
                        proto,
                        source,
                        destination,
                        contents,
                    },
                );
                if !session.rtc.accepts(&input) {
                    self.shared.stats.datagram_dropped();
                    return;
                }
                session.last_receive = now;
                if let Err(e) = session.rtc.handle_input(input) {
                    // Bad packets are the sender's problem; the session ends only by timeout.
                    tracing::debug!(room = self.id, peer, error = %e, "media input refused");
                }
                self.dirty.insert(peer);
            }
        }
    }

    fn timeouts(&mut self, now: Instant) {
        for (peer, session) in &mut self.sessions {
            if session.wake_at <= now {
                // `poll` hands str0m the timeout.
                self.dirty.insert(*peer);
            }
        }
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            self.tick(now);
        }
    }

    /// Meters, expiries, owed keyframe requests, subscriptions.
    fn tick(&mut self, now: Instant) {
        let expired: Vec<PeerId> = self
            .sessions
            .values()
            .filter(|s| {
                now.saturating_duration_since(s.last_receive) >= RECEIVE_TIMEOUT
                    || !s.rtc.is_alive()
            })
            .map(|s| s.peer)
            .collect();
        for peer in expired {
            self.end(peer, Some(CloseReason::Timeout));
        }
        for session in self.sessions.values_mut() {
            let before = session.meter.verdict().verified;
            if let Some(verdict) = session.meter.evaluate(now) {
                self.shared.stats.verdict_changed(before, verdict.verified);
                if verdict.verified {
                    session.verified_since = Some(now);
                }
                tracing::debug!(room = self.id, peer = session.peer, ?verdict, "verdict");
                session.sink.deliver(PeerEvent::Verdict(verdict));
            }
        }
        let owed: Vec<PeerId> = self
            .sessions
            .values()
            .filter(|s| s.pli_owed)
            .map(|s| s.peer)
            .collect();
        for peer in owed {
            self.request_keyframe(peer, now);
        }
        self.refresh(now);
    }

    /// Picks each user's video and audio source and renegotiates sessions whose wanted tracks
    /// changed.
    fn refresh(&mut self, now: Instant) {
        let mut video: HashMap<UserId, (bool, bool, Instant, PeerId)> = HashMap::new();
        let mut audio: HashMap<UserId, (Instant, PeerId)> = HashMap::new();
        for s in self.sessions.values() {
            let recent = s
                .meter
                .last_frame()
                .is_some_and(|t| now.saturating_duration_since(t) < VIDEO_IDLE);
            if recent {
                // A live tab beats a stalled one; then the verified; then the most recent.
                let verified = s.meter.verdict().verified;
                let since = if verified {
                    s.verified_since
                } else {
                    s.video_since
                };
                let key = (s.meter.is_live(now), verified, since.unwrap_or(now), s.peer);
                let best = video.entry(s.user).or_insert(key);
                if key > *best {
                    *best = key;
                }
            }
            if let Some(at) = s
                .last_audio
                .filter(|&t| now.saturating_duration_since(t) < AUDIO_IDLE)
            {
                let best = audio.entry(s.user).or_insert((at, s.peer));
                if at > best.0 {
                    *best = (at, s.peer);
                }
            }
        }
        let video: HashMap<UserId, PeerId> = video.into_iter().map(|(u, k)| (u, k.3)).collect();
        for (&user, &peer) in &video {
            if self.video_source.get(&user) != Some(&peer) {
                // Subscribers of that user need a keyframe from the new source.
                self.request_keyframe(peer, now);
            }
        }
        self.video_source = video;
        // Keep the current audio source while it sends (no flapping between two tabs).
        let mut next_audio = HashMap::new();
        for (user, (_, peer)) in audio {
            let keep = self
                .audio_source
                .get(&user)
                .filter(|p| {
                    self.sessions.get(p).is_some_and(|s| {
                        s.last_audio
                            .is_some_and(|t| now.saturating_duration_since(t) < AUDIO_IDLE)
                    })
                })
                .copied();
            next_audio.insert(user, keep.unwrap_or(peer));
        }
        self.audio_source = next_audio;

        let peers: Vec<PeerId> = self.sessions.keys().copied().collect();
        for peer in peers {
            let Some(session) = self.sessions.get(&peer) else {
                continue;
            };
            let mut want = self.audio_wanted_by(session.user);
            want.extend(
                session
                    .view
                    .iter()
                    .filter(|u| self.video_source.contains_key(u))
                    .filter(|&&u| self.policy.forwards(u, session.user, TrackKind::Video))
                    .map(|&u| (u, TrackKind::Video)),
            );
            let Some(session) = self.sessions.get_mut(&peer) else {
                continue;
            };
            let restart = session.ice_restart;
            session.negotiate(&want);
            if restart && !session.ice_restart {
                let ufrag = session.ufrag();
                self.register(peer, ufrag);
            }
            self.dirty.insert(peer);
        }
    }

    fn audio_wanted_by(&self, user: UserId) -> BTreeSet<Want> {
        self.audio_source
            .keys()
            .filter(|&&u| u != user && self.policy.forwards(u, user, TrackKind::Audio))
            .map(|&u| (u, TrackKind::Audio))
            .collect()
    }

    /// Asks `peer` (a publisher) for a keyframe, at most once per [`PLI_INTERVAL`]; a request
    /// inside the interval is owed and sent when it ends.
    fn request_keyframe(&mut self, peer: PeerId, now: Instant) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        if session
            .last_pli
            .is_some_and(|t| now.saturating_duration_since(t) < PLI_INTERVAL)
        {
            session.pli_owed = true;
            return;
        }
        let mid = session.publish_video;
        let sent = session
            .rtc
            .writer(mid)
            .is_some_and(|mut w| w.request_keyframe(None, KeyframeRequestKind::Pli).is_ok());
        if sent {
            session.last_pli = Some(now);
            session.pli_owed = false;
            self.shared.stats.pli_sent();
            self.dirty.insert(peer);
        } else {
            // Not receiving yet: ask again on the next tick.
            session.pli_owed = true;
        }
    }

    /// Polls every session with pending output until all are idle.
    fn flush(&mut self) {
        let now = Instant::now();
        while let Some(peer) = self.dirty.pop_first() {
            self.poll(peer, now);
        }
    }

    fn poll(&mut self, peer: PeerId, now: Instant) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        // str0m schedules what commands and writes queued (checks, packets) on its next input.
        if let Err(e) = session.rtc.handle_input(Input::Timeout(now)) {
            tracing::debug!(room = self.id, peer, error = %e, "media timeout failed");
        }
        let mut media = vec![];
        let mut keyframes_wanted = vec![];
        loop {
            match session.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    session.wake_at = at;
                    break;
                }
                Ok(Output::Transmit(transmit)) => {
                    send(&self.shared.socket, &self.tcp_out, transmit);
                }
                Ok(Output::Event(event)) => match event {
                    Event::MediaData(data) => media.push(data),
                    Event::KeyframeRequest(request) => {
                        if let Some(user) = session.user_on(request.mid) {
                            keyframes_wanted.push(user);
                        }
                    }
                    Event::IceConnectionStateChange(state) => {
                        tracing::debug!(room = self.id, peer, ?state, "ICE state");
                    }
                    Event::Connected => {
                        tracing::debug!(room = self.id, peer, "media connected");
                    }
                    _ => {}
                },
                Err(e) => {
                    tracing::debug!(room = self.id, peer, error = %e, "media session failed");
                    session.wake_at = now + TICK;
                    break;
                }
            }
        }
        for data in media {
            self.on_media(peer, data, now);
        }
        for user in keyframes_wanted {
            if let Some(&source) = self.video_source.get(&user) {
                self.request_keyframe(source, now);
            }
        }
    }

    fn on_media(&mut self, peer: PeerId, data: MediaData, now: Instant) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        let packets = (**data.seq_range.end())
            .saturating_sub(**data.seq_range.start())
            .saturating_add(1);
        let bytes = data.data.len() as u64;
        self.shared.stats.received(packets, bytes);
        let user = session.user;
        let kind = if data.mid == session.publish_video {
            let header = vp8::parse_frame(&data.data);
            if !session.meter.is_live(now) {
                session.video_since = Some(now);
            }
            session.meter.on_frame(
                now,
                FrameFacts {
                    rtp_time: data.time.numer(),
                    bytes: data.data.len(),
                    keyframe: header.is_some_and(|h| h.keyframe),
                    size: header.and_then(|h| h.size),
                },
            );
            if session.meter.verdict().reason == Some(Unverified::NoVideo)
                && !self.video_source.contains_key(&user)
            {
                // First video of this user: make it a source now, not at the next tick.
                self.refresh(now);
            }
            if self.video_source.get(&user) != Some(&peer) {
                return;
            }
            TrackKind::Video
        } else if data.mid == session.publish_audio {
            let first = session.last_audio.is_none();
            session.last_audio = Some(now);
            if first && !self.audio_source.contains_key(&user) {
                self.refresh(now);
            }
            if self.audio_source.get(&user) != Some(&peer) {
                return;
            }
            TrackKind::Audio
        } else {
            return;
        };
        let step = match kind {
            TrackKind::Video => 3_000,
            TrackKind::Audio => 960,
        };
        for (other_peer, other) in &mut self.sessions {
            // The policy holds on every packet, before and after the renegotiation it causes.
            if other.user == user || !self.policy.forwards(user, other.user, kind) {
                continue;
            }
            let Some(slot) = other.live_slot(user, kind) else {
                continue;
            };
            let mid = slot.mid;
            let time = slot.rebase.map(peer, data.time, step);
            let Some(writer) = other.rtc.writer(mid) else {
                continue;
            };
            let Some(pt) = writer.match_params(data.params) else {
                continue;
            };
            if writer
                .write(pt, data.network_time, time, data.data.clone())
                .is_ok()
            {
                self.shared.stats.forwarded(packets, bytes);
                self.dirty.insert(*other_peer);
            }
        }
    }
}

fn send(
    socket: &UdpSocket,
    tcp_out: &HashMap<SocketAddr, (PeerId, mpsc::Sender<Vec<u8>>)>,
    transmit: Transmit,
) {
    match transmit.proto {
        Protocol::Udp => {
            // A full socket buffer drops the datagram, as the network would.
            let _ = socket.try_send_to(&transmit.contents, transmit.destination);
        }
        _ => {
            if let Some((_, out)) = tcp_out.get(&transmit.destination) {
                let _ = out.try_send(transmit.contents.to_vec());
            }
        }
    }
}
