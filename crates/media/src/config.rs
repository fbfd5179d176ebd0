//! Configuration of the media server and of its presence meter.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Where the media server listens and what it advertises.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The UDP socket shared by every room (ICE-lite host candidate). Port 0 = any free port.
    pub udp_addr: SocketAddr,
    /// ICE over TCP (passive, RFC 4571 framing) as a second candidate; `None` = no TCP candidate.
    pub tcp_addr: Option<SocketAddr>,
    /// The address put in the candidates of every offer (the ports are the bound ones).
    pub public_ip: IpAddr,
    /// When a publisher's video counts as a live camera.
    pub presence: PresenceRules,
}

/// The rule that turns received video into a verdict: verified iff, over the last `window`,
/// frames per second >= `min_fps` and mean bytes per frame >= `min_bytes_per_frame`; a verified
/// publisher stays verified through a hiccup shorter than `grace`.
///
/// The defaults are placeholders until the Chromium measurements (live fake camera, disabled
/// track, black clip, still image) are recorded in `docs/media.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceRules {
    /// Minimum frames per second (distinct RTP timestamps) over the window.
    pub min_fps: f64,
    /// Minimum mean payload bytes per frame over the window: between what a disabled, black or
    /// still track sends and what a live camera sends.
    pub min_bytes_per_frame: u32,
    /// The sliding measurement window.
    pub window: Duration,
    /// How long a verified publisher may fall below the rule (or stop) before becoming unverified.
    pub grace: Duration,
}

impl Default for PresenceRules {
    fn default() -> Self {
        PresenceRules {
            min_fps: 5.0,
            min_bytes_per_frame: 200,
            window: Duration::from_secs(2),
            grace: Duration::from_secs(3),
        }
    }
}
