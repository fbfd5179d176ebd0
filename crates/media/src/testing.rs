//! A WebRTC test client for the media server (the skeleton; the real client follows).
//!
//! `TestPeer` answers the server's offers, connects over UDP with its own socket and task,
//! publishes synthetic VP8 frames and counts what it receives per mid.

use std::time::Duration;

use crate::Offer;

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

/// A str0m client driving its own UDP socket in its own task.
pub struct TestPeer {
    _private: (),
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
    /// A new test peer with its socket bound on 127.0.0.1 and its task running.
    pub async fn new() -> Result<TestPeer, TestPeerError> {
        Ok(TestPeer { _private: () })
    }

    /// Applies a server offer and returns the answer SDP to send back with `offer.revision`.
    pub async fn accept(&self, _offer: &Offer) -> Result<String, TestPeerError> {
        Err(TestPeerError("not built yet".into()))
    }

    /// A new peer that answers its first offer: returns the peer and the answer SDP.
    pub async fn connect(offer: &Offer) -> Result<(TestPeer, String), TestPeerError> {
        let peer = TestPeer::new().await?;
        let answer = peer.accept(offer).await?;
        Ok((peer, answer))
    }

    /// Starts (or changes) the synthetic camera on the offer's `publish.video` m-line.
    pub fn publish_video(&self, _spec: VideoSpec) {}

    /// Stops sending video.
    pub fn stop_video(&self) {}

    /// Starts or stops Opus-shaped audio on `publish.audio`.
    pub fn publish_audio(&self, _on: bool) {}

    /// Waits until ICE and DTLS are up; false on timeout.
    pub async fn wait_connected(&self, _timeout: Duration) -> bool {
        false
    }

    /// What arrived on `mid` so far.
    pub fn received(&self, _mid: &str) -> Received {
        Received::default()
    }

    /// What arrived from `user`'s video m-line so far (per the tracks of the last accepted offer).
    pub fn received_video_from(&self, _user: crate::UserId) -> Received {
        Received::default()
    }
}
