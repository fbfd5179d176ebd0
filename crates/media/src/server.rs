//! The handle the server crate holds: it starts the media tasks and sends them commands.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use str0m::Candidate;
use str0m::net::TcpType;
use tokio_util::sync::CancellationToken;

use crate::io::{tcp, udp};
use crate::room::{self, Command, Shared};
use crate::stats::Stats;
use crate::{MediaConfig, PeerId, PeerSink, RoomId, RoomPolicy, Tile, UserId};

/// A cheap, cloneable handle to the running media server.
#[derive(Clone)]
pub struct MediaServer {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    udp_bound: SocketAddr,
    tcp_bound: Option<SocketAddr>,
    runtime: tokio::runtime::Handle,
}

/// Counters and gauges of the media server (the same figures go to the `metrics` recorder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// Rooms with at least one peer.
    pub rooms: u64,
    /// Open media sessions.
    pub peers: u64,
    /// Users whose video is verified now.
    pub verified_publishers: u64,
    /// RTP packets received from publishers.
    pub packets_in: u64,
    /// RTP payload bytes received from publishers.
    pub bytes_in: u64,
    /// RTP packets forwarded to subscribers.
    pub packets_forwarded: u64,
    /// RTP payload bytes forwarded to subscribers.
    pub bytes_forwarded: u64,
    /// Keyframe requests (PLI) sent to publishers.
    pub plis_sent: u64,
    /// Changes of a publisher's verdict.
    pub verdict_changes: u64,
    /// Datagrams dropped: from an address that did not complete ICE, or a room falling behind.
    pub datagrams_dropped: u64,
}

impl MediaServer {
    /// Binds the sockets and starts the I/O and room tasks; they stop when `stopping` is cancelled.
    pub async fn start(
        config: MediaConfig,
        stopping: CancellationToken,
    ) -> std::io::Result<MediaServer> {
        let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        let socket = Arc::new(tokio::net::UdpSocket::bind(config.udp_addr).await?);
        let udp_bound = socket.local_addr()?;
        let udp_local = SocketAddr::new(config.public_ip, udp_bound.port());
        let listener = match config.tcp_addr {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        let tcp_bound = match &listener {
            Some(l) => Some(l.local_addr()?),
            None => None,
        };
        let tcp_local = tcp_bound.map(|bound| SocketAddr::new(config.public_ip, bound.port()));
        let mut candidates = vec![
            Candidate::host(udp_local, "udp")
                .map_err(|e| invalid(format!("media UDP candidate {udp_local}: {e}")))?,
        ];
        if let Some(addr) = tcp_local {
            let candidate = Candidate::builder()
                .tcp()
                .host(addr)
                .tcptype(TcpType::Passive)
                .build()
                .map_err(|e| invalid(format!("media TCP candidate {addr}: {e}")))?;
            candidates.push(candidate);
        }
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let cert = crypto
            .dtls_provider
            .generate_certificate()
            .ok_or_else(|| invalid("the crypto provider made no DTLS certificate".into()))?;
        let stats = Arc::new(Stats::default());
        let (routes, route_changes) = tokio::sync::mpsc::unbounded_channel();
        let runtime = tokio::runtime::Handle::current();
        runtime.spawn(udp::demultiplex(
            socket.clone(),
            route_changes,
            stats.clone(),
            stopping.clone(),
        ));
        if let Some(listener) = listener {
            runtime.spawn(tcp::listen(
                listener,
                routes.clone(),
                stats.clone(),
                stopping.clone(),
            ));
        }
        let shared = Arc::new(Shared {
            socket,
            routes,
            stats,
            rules: config.presence,
            candidates,
            udp_local,
            tcp_local,
            crypto,
            cert,
            rooms: Mutex::new(HashMap::new()),
            stopping,
        });
        Ok(MediaServer {
            inner: Arc::new(Inner {
                shared,
                runtime,
                udp_bound,
                tcp_bound,
            }),
        })
    }

    /// The bound UDP address (port resolved). Offers advertise `public_ip` with this port.
    pub fn udp_addr(&self) -> SocketAddr {
        self.inner.udp_bound
    }

    /// The bound ICE-TCP address, if any. Offers advertise `public_ip` with this port.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.inner.tcp_bound
    }

    /// Sends a command to the room's actor; `Open` starts the actor when the room has none.
    fn send(&self, room: RoomId, command: Command) {
        let shared = &self.inner.shared;
        if shared.stopping.is_cancelled() {
            if let Command::Open { sink, .. } = command {
                sink.deliver(crate::PeerEvent::Closed(crate::CloseReason::Unavailable));
            }
            return;
        }
        let Ok(mut rooms) = shared.rooms.lock() else {
            return;
        };
        let command = match rooms.get(&room) {
            Some(handle) => match handle.commands.send(command) {
                Ok(()) => return,
                // The actor ended (it removes itself first; this is a stale entry).
                Err(failed) => failed.0,
            },
            None => command,
        };
        if matches!(command, Command::Open { .. }) {
            let handle = room::spawn(room, shared.clone(), &self.inner.runtime);
            let _ = handle.commands.send(command);
            rooms.insert(room, handle);
        }
    }

    /// A new media session for `peer` (replaces one with the same id: the old one gets
    /// `Closed{Replaced}`). An unverified `NoVideo` verdict and the first `Offer` are delivered to
    /// `sink` soon after.
    pub fn open(&self, room: RoomId, peer: PeerId, user: UserId, sink: Arc<dyn PeerSink>) {
        self.send(
            room,
            Command::Open {
                peer,
                user,
                sink,
                policy: None,
            },
        );
    }

    /// [`MediaServer::open`] with the room's forwarding policy as of now, applied before the
    /// session starts (and to the room's other sessions: it replaces the room's policy).
    pub fn open_with_policy(
        &self,
        room: RoomId,
        peer: PeerId,
        user: UserId,
        policy: RoomPolicy,
        sink: Arc<dyn PeerSink>,
    ) {
        self.send(
            room,
            Command::Open {
                peer,
                user,
                sink,
                policy: Some(policy),
            },
        );
    }

    /// Replaces the room's forwarding policy (who is stopped, who blocked whom): packets that
    /// break it stop at once, and the sessions it changes are renegotiated. Nothing happens for
    /// a room without sessions here; [`MediaServer::open_with_policy`] gives a new room its
    /// policy.
    pub fn set_room_policy(&self, room: RoomId, policy: RoomPolicy) {
        self.send(room, Command::Policy(policy));
    }

    /// The answer to the offer with `revision`; refusals come back as `PeerEvent::Refused`
    /// (no event when the room or peer has no session: the caller knows it never opened one).
    pub fn answer(&self, room: RoomId, peer: PeerId, revision: u64, sdp: String) {
        self.send(
            room,
            Command::Answer {
                peer,
                revision,
                sdp,
            },
        );
    }

    /// Which members' videos this peer shows now (its own user and more than 25 are ignored).
    pub fn view(&self, room: RoomId, peer: PeerId, tiles: Vec<Tile>) {
        self.send(room, Command::View { peer, tiles });
    }

    /// ICE restart: a fresh offer with new ICE credentials follows.
    pub fn restart_ice(&self, room: RoomId, peer: PeerId) {
        self.send(room, Command::RestartIce { peer });
    }

    /// Ends the session of `peer` in `room`; no event back.
    pub fn close(&self, room: RoomId, peer: PeerId) {
        self.send(room, Command::Close { peer });
    }

    /// Ends every session of `user` in `room`; each gets `Closed{Left}`.
    pub fn remove_user(&self, room: RoomId, user: UserId) {
        self.send(room, Command::RemoveUser { user });
    }

    /// Ends every session in `room`, telling each `reason` (e.g. `Moved` when this node gives
    /// the room up).
    pub fn close_room(&self, room: RoomId, reason: crate::CloseReason) {
        self.send(room, Command::CloseAll { reason });
    }

    /// The rooms with a running actor here (sessions open, or just ended).
    pub fn rooms(&self) -> Vec<RoomId> {
        match self.inner.shared.rooms.lock() {
            Ok(rooms) => rooms.keys().copied().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The current counters and gauges.
    pub fn snapshot(&self) -> MediaStats {
        self.inner.shared.stats.snapshot()
    }
}
