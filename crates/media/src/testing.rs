//! A WebRTC test client for the media server: [`TestPeer`], a str0m client that drives its own
//! UDP socket in its own task (no shared I/O with the server), so tests exercise real ICE,
//! DTLS and SRTP on 127.0.0.1.
//!
//! ```ignore
//! let peer = TestPeer::new().await?;
//! let answer = peer.accept(&offer).await?;      // offer: the `Offer` the server delivered
//! media.answer(room, peer_id, offer.revision, answer);
//! peer.wait_connected(Duration::from_secs(5)).await;
//! peer.publish_video(VideoSpec::live_camera()); // synthetic VP8 the server's meter reads
//! let got = peer.received_video_from(other_user); // frames, bytes, keyframes, resolution
//! ```
//!
//! It publishes synthetic VP8 frames (valid frame tags, keyframes with the start code and size:
//! no encoder needed) at a chosen rate and size, answers keyframe requests with a keyframe,
//! optionally sends Opus-shaped audio (60-byte packets every 20 ms), and counts what arrives per
//! mid. Use it from a multi-threaded or current-thread tokio runtime alike.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::media::{MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::{Offer, TrackKind, UserId, vp8};

/// What the test peer publishes on the camera m-line.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSpec {
    /// Frames per second.
    pub fps: u32,
    /// Payload bytes of a delta frame.
    pub bytes_per_frame: usize,
    /// A keyframe every this many frames (the first frame is always one).
    pub keyframe_interval: u32,
    /// Payload bytes of a keyframe.
    pub keyframe_bytes: usize,
    /// Width written in the VP8 keyframe header.
    pub width: u16,
    /// Height written in the VP8 keyframe header.
    pub height: u16,
}

impl VideoSpec {
    /// Roughly what a live 640x480 camera sends at 15 fps.
    pub fn live_camera() -> VideoSpec {
        VideoSpec {
            fps: 15,
            bytes_per_frame: 2_500,
            keyframe_interval: 60,
            keyframe_bytes: 12_000,
            width: 640,
            height: 480,
        }
    }

    /// What a black or disabled track sends: frames at full rate, but tiny.
    pub fn tiny_frames() -> VideoSpec {
        VideoSpec {
            bytes_per_frame: 40,
            keyframe_bytes: 120,
            ..VideoSpec::live_camera()
        }
    }
}

/// What a test peer received on one mid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// Media frames (or audio packets).
    pub frames: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// VP8 keyframes.
    pub keyframes: u64,
    /// Resolution of the last VP8 keyframe.
    pub width: Option<u16>,
    /// Resolution of the last VP8 keyframe.
    pub height: Option<u16>,
}

/// A str0m client driving its own socket (UDP, or one ICE-TCP connection) in its own task
/// (it stops when dropped).
pub struct TestPeer {
    commands: mpsc::UnboundedSender<PeerCommand>,
    state: Arc<Mutex<PeerState>>,
    local: SocketAddr,
}

#[derive(Debug, Default)]
struct PeerState {
    received: HashMap<String, Received>,
    tracks: HashMap<(UserId, TrackKind), String>,
    connected: bool,
    keyframe_requests: u64,
    frames_sent: u64,
}

enum PeerCommand {
    Accept(Offer, oneshot::Sender<Result<String, TestPeerError>>),
    Video(Option<VideoSpec>),
    Audio(bool),
}

/// Why the test peer could not answer an offer.
#[derive(Debug)]
pub struct TestPeerError(pub String);

impl std::fmt::Display for TestPeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestPeerError {}

impl TestPeer {
    /// A new test peer with its UDP socket bound on 127.0.0.1 and its task running.
    pub async fn new() -> Result<TestPeer, TestPeerError> {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| TestPeerError(format!("bind: {e}")))?;
        let local = socket
            .local_addr()
            .map_err(|e| TestPeerError(format!("local address: {e}")))?;
        let candidate =
            Candidate::host(local, "udp").map_err(|e| TestPeerError(format!("candidate: {e}")))?;
        Ok(TestPeer::start(Net::Udp(socket), local, candidate))
    }

    /// A new test peer that reaches the server only over ICE-TCP: it connects to `server` (the
    /// media server's TCP address) and offers one active TCP candidate, no UDP.
    pub async fn new_tcp(server: SocketAddr) -> Result<TestPeer, TestPeerError> {
        let stream = tokio::net::TcpStream::connect(server)
            .await
            .map_err(|e| TestPeerError(format!("connect {server}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let local = stream
            .local_addr()
            .map_err(|e| TestPeerError(format!("local address: {e}")))?;
        let candidate = Candidate::builder()
            .tcp()
            .host(local)
            .tcptype(str0m::net::TcpType::Active)
            .build()
            .map_err(|e| TestPeerError(format!("candidate: {e}")))?;
        let (mut reader, mut writer) = stream.into_split();
        let (out, mut outgoing) = mpsc::channel::<Vec<u8>>(1_024);
        let (incoming, frames) = mpsc::channel::<Vec<u8>>(1_024);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Some(packet) = outgoing.recv().await {
                let Ok(len) = u16::try_from(packet.len()) else {
                    continue;
                };
                if writer.write_u16(len).await.is_err() || writer.write_all(&packet).await.is_err()
                {
                    return;
                }
            }
        });
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            loop {
                let Ok(len) = reader.read_u16().await else {
                    return;
                };
                let mut frame = vec![0u8; usize::from(len)];
                if reader.read_exact(&mut frame).await.is_err()
                    || incoming.send(frame).await.is_err()
                {
                    return;
                }
            }
        });
        Ok(TestPeer::start(
            Net::Tcp {
                server,
                out,
                frames,
            },
            local,
            candidate,
        ))
    }

    fn start(net: Net, local: SocketAddr, candidate: Candidate) -> TestPeer {
        let now = Instant::now();
        let mut rtc = Rtc::builder()
            .clear_codecs()
            .enable_vp8(true)
            .enable_opus(true, false)
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .build(now);
        rtc.add_local_candidate(candidate);
        let state = Arc::new(Mutex::new(PeerState::default()));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let driver = Driver {
            rtc,
            net,
            local,
            state: state.clone(),
            publish_video: None,
            publish_audio: None,
            video: None,
            audio: false,
            frame_index: 0,
            audio_index: 0,
            next_video: now,
            next_audio: now,
            keyframe_owed: true,
        };
        tokio::spawn(driver.run(command_rx));
        TestPeer {
            commands,
            state,
            local,
        }
    }

    /// A new peer that answers its first offer: returns the peer and the answer SDP.
    pub async fn connect(offer: &Offer) -> Result<(TestPeer, String), TestPeerError> {
        let peer = TestPeer::new().await?;
        let answer = peer.accept(offer).await?;
        Ok((peer, answer))
    }

    /// Applies a server offer and returns the answer SDP to send back with `offer.revision`.
    pub async fn accept(&self, offer: &Offer) -> Result<String, TestPeerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(PeerCommand::Accept(offer.clone(), reply))
            .map_err(|_| TestPeerError("the peer task ended".into()))?;
        answer
            .await
            .map_err(|_| TestPeerError("the peer task ended".into()))?
    }

    /// The peer's own UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Starts (or changes) the synthetic camera on the offer's `publish.video` m-line.
    pub fn publish_video(&self, spec: VideoSpec) {
        let _ = self.commands.send(PeerCommand::Video(Some(spec)));
    }

    /// Stops sending video.
    pub fn stop_video(&self) {
        let _ = self.commands.send(PeerCommand::Video(None));
    }

    /// Starts or stops Opus-shaped audio on `publish.audio`.
    pub fn publish_audio(&self, on: bool) {
        let _ = self.commands.send(PeerCommand::Audio(on));
    }

    fn with_state<T>(&self, f: impl FnOnce(&PeerState) -> T) -> T {
        match self.state.lock() {
            Ok(state) => f(&state),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// True once ICE and DTLS are up.
    pub fn is_connected(&self) -> bool {
        self.with_state(|s| s.connected)
    }

    /// Waits until ICE and DTLS are up; false on timeout.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.is_connected() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.is_connected()
    }

    /// What arrived on `mid` so far.
    pub fn received(&self, mid: &str) -> Received {
        self.with_state(|s| s.received.get(mid).cloned().unwrap_or_default())
    }

    /// What arrived on `user`'s video m-line so far (per the tracks of the last accepted offer).
    pub fn received_video_from(&self, user: UserId) -> Received {
        self.received_from(user, TrackKind::Video)
    }

    /// What arrived on `user`'s m-line of `kind` so far.
    pub fn received_from(&self, user: UserId, kind: TrackKind) -> Received {
        self.with_state(|s| {
            s.tracks
                .get(&(user, kind))
                .and_then(|mid| s.received.get(mid))
                .cloned()
                .unwrap_or_default()
        })
    }

    /// Everything received, by mid.
    pub fn received_all(&self) -> HashMap<String, Received> {
        self.with_state(|s| s.received.clone())
    }

    /// Keyframe requests (PLI/FIR) the server sent this peer.
    pub fn keyframe_requests(&self) -> u64 {
        self.with_state(|s| s.keyframe_requests)
    }

    /// Video frames written so far.
    pub fn frames_sent(&self) -> u64 {
        self.with_state(|s| s.frames_sent)
    }
}

/// The test peer's one path to the server.
enum Net {
    Udp(UdpSocket),
    /// An ICE-TCP connection: frames (RFC 4571) go out through `out` and come in on `frames`.
    Tcp {
        server: SocketAddr,
        out: mpsc::Sender<Vec<u8>>,
        frames: mpsc::Receiver<Vec<u8>>,
    },
}

impl Net {
    async fn recv(&mut self, buf: &mut [u8]) -> Option<(Protocol, SocketAddr, Vec<u8>)> {
        match self {
            Net::Udp(socket) => {
                let (len, source) = socket.recv_from(buf).await.ok()?;
                Some((Protocol::Udp, source, buf.get(..len)?.to_vec()))
            }
            Net::Tcp { server, frames, .. } => match frames.recv().await {
                Some(frame) => Some((Protocol::Tcp, *server, frame)),
                // The connection is gone: nothing will arrive again.
                None => std::future::pending().await,
            },
        }
    }

    fn send(&self, transmit: &str0m::net::Transmit) {
        match self {
            Net::Udp(socket) => {
                let _ = socket.try_send_to(&transmit.contents, transmit.destination);
            }
            Net::Tcp { out, .. } => {
                if transmit.proto == Protocol::Tcp {
                    let _ = out.try_send(transmit.contents.to_vec());
                }
            }
        }
    }
}

struct Driver {
    rtc: Rtc,
    net: Net,
    local: SocketAddr,
    state: Arc<Mutex<PeerState>>,
    publish_video: Option<Mid>,
    publish_audio: Option<Mid>,
    video: Option<VideoSpec>,
    audio: bool,
    frame_index: u64,
    audio_index: u64,
    next_video: Instant,
    next_audio: Instant,
    keyframe_owed: bool,
}

const AUDIO_PACKET: Duration = Duration::from_millis(20);

impl Driver {
    fn state(&self) -> std::sync::MutexGuard<'_, PeerState> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<PeerCommand>) {
        let mut buf = vec![0u8; 2_048];
        loop {
            let Some(mut wake) = self.drain() else {
                return;
            };
            if self.video.is_some() {
                wake = wake.min(self.next_video);
            }
            if self.audio {
                wake = wake.min(self.next_audio);
            }
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => {
                        self.command(command);
                        // str0m schedules work (ICE checks after an answer) on its next input.
                        let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                    }
                    None => return,
                },
                read = self.net.recv(&mut buf) => {
                    if let Some((proto, source, data)) = read
                        && let Ok(contents) = data.as_slice().try_into()
                    {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto,
                            source,
                            destination: self.local,
                            contents,
                        });
                        let _ = self.rtc.handle_input(input);
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    let _ = self.rtc.handle_input(Input::Timeout(now));
                    self.write_media(now);
                }
            }
        }
    }

    /// Polls output until str0m wants a timeout (returned); `None` when the session is dead.
    fn drain(&mut self) -> Option<Instant> {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return Some(at),
                Ok(Output::Transmit(t)) => {
                    self.net.send(&t);
                }
                Ok(Output::Event(event)) => self.event(event),
                Err(e) => {
                    tracing::debug!(error = %e, "test peer session ended");
                    return None;
                }
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected => self.state().connected = true,
            Event::MediaData(data) => {
                let header = vp8::parse_frame(&data.data);
                let video = data.params.spec().codec.is_video();
                let mut state = self.state();
                let entry = state.received.entry(data.mid.to_string()).or_default();
                entry.frames += 1;
                entry.bytes += data.data.len() as u64;
                if video && let Some(h) = header.filter(|h| h.keyframe) {
                    entry.keyframes += 1;
                    if let Some((w, h)) = h.size {
                        entry.width = Some(w);
                        entry.height = Some(h);
                    }
                }
            }
            Event::KeyframeRequest(_) => {
                self.keyframe_owed = true;
                self.state().keyframe_requests += 1;
            }
            _ => {}
        }
    }

    fn command(&mut self, command: PeerCommand) {
        match command {
            PeerCommand::Accept(offer, reply) => {
                let _ = reply.send(self.accept(&offer));
            }
            PeerCommand::Video(spec) => {
                if spec.is_some() && self.video.is_none() {
                    self.next_video = Instant::now();
                    self.keyframe_owed = true;
                }
                self.video = spec;
            }
            PeerCommand::Audio(on) => {
                self.audio = on;
                self.next_audio = Instant::now();
            }
        }
    }

    fn accept(&mut self, offer: &Offer) -> Result<String, TestPeerError> {
        let sdp = SdpOffer::from_sdp_string(&offer.sdp)
            .map_err(|e| TestPeerError(format!("offer SDP: {e}")))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(sdp)
            .map_err(|e| TestPeerError(format!("accept offer: {e}")))?;
        self.publish_video = Some(Mid::from(offer.publish.video.as_str()));
        self.publish_audio = Some(Mid::from(offer.publish.audio.as_str()));
        let mut state = self.state();
        state.tracks = offer
            .tracks
            .iter()
            .map(|t| ((t.user, t.kind), t.mid.clone()))
            .collect();
        Ok(answer.to_sdp_string())
    }

    fn write_media(&mut self, now: Instant) {
        if let Some(spec) = self.video.clone()
            && now >= self.next_video
        {
            let fps = spec.fps.max(1);
            self.next_video += Duration::from_secs(1) / fps;
            if self.next_video < now {
                self.next_video = now;
            }
            let keyframe = self.keyframe_owed
                || (spec.keyframe_interval > 0
                    && self
                        .frame_index
                        .is_multiple_of(u64::from(spec.keyframe_interval)));
            let len = if keyframe {
                spec.keyframe_bytes
            } else {
                spec.bytes_per_frame
            };
            let frame = vp8::synthetic_frame(
                keyframe,
                spec.width,
                spec.height,
                len,
                self.frame_index as u8,
            );
            let time = MediaTime::from_90khz(self.frame_index * 90_000 / u64::from(fps));
            if self.write(self.publish_video, MediaKind::Video, now, time, frame) {
                self.keyframe_owed &= !keyframe;
                self.state().frames_sent += 1;
            }
            self.frame_index += 1;
        }
        if self.audio && now >= self.next_audio {
            self.next_audio += AUDIO_PACKET;
            if self.next_audio < now {
                self.next_audio = now;
            }
            let time = MediaTime::new(
                self.audio_index * 960,
                str0m::media::Frequency::FORTY_EIGHT_KHZ,
            );
            let packet = vec![0xfc; 60];
            self.write(self.publish_audio, MediaKind::Audio, now, time, packet);
            self.audio_index += 1;
        }
    }

    fn write(
        &mut self,
        mid: Option<Mid>,
        kind: MediaKind,
        now: Instant,
        time: MediaTime,
        data: Vec<u8>,
    ) -> bool {
        let Some(mid) = mid else {
            return false;
        };
        let Some(writer) = self.rtc.writer(mid) else {
            return false;
        };
        let pt = writer
            .payload_params()
            .find(|p| p.spec().codec.is_video() == (kind == MediaKind::Video))
            .map(|p| p.pt());
        let Some(pt) = pt else {
            return false;
        };
        writer.write(pt, now, time, data).is_ok()
    }
}

/// A [`crate::PeerSink`] that queues events into a channel (for tests and load clients).
pub struct ChannelSink(pub mpsc::UnboundedSender<crate::PeerEvent>);

impl ChannelSink {
    /// A sink and the receiver of its events.
    pub fn new() -> (Arc<ChannelSink>, mpsc::UnboundedReceiver<crate::PeerEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Arc::new(ChannelSink(tx)), rx)
    }
}

impl crate::PeerSink for ChannelSink {
    fn deliver(&self, event: crate::PeerEvent) {
        let _ = self.0.send(event);
    }
}
