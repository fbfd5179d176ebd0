//! Ssgwan's built-in selective forwarding unit (SFU).
//!
//! Every browser tab in a live room has one WebRTC session ("peer") with this media server: it
//! publishes its camera (VP8) and microphone (Opus) once and receives the other members' tracks
//! from here. The server drives negotiation (it makes every offer, the client only answers), is
//! ICE-lite on one UDP socket shared by all rooms, and meters every publisher's video without
//! decoding it to decide whether a live camera is on ([`Verdict`]); the server crate turns that
//! verdict into attendance.
//!
//! The crate knows nothing about users, challenges or HTTP: the server calls [`MediaServer::open`]
//! for participants who joined a room and [`MediaServer::remove_user`] / [`MediaServer::close`]
//! when they leave; events for a peer come back through its [`PeerSink`].
//!
//! Design notes: `docs/media.md`. The contract with the server crate: section 2 of the issue-13
//! contract (the types re-exported here).

mod config;
mod events;
mod io;
pub mod presence;
mod room;
mod server;
mod session;
mod stats;
pub mod testing;
pub mod vp8;

pub use config::{MediaConfig, PresenceRules};
pub use events::{
    CloseReason, Offer, PeerEvent, PeerSink, PublishMids, Refusal, RoomPolicy, Tile, TileSize,
    TrackInfo, TrackKind, Unverified, Verdict,
};
pub use server::{MediaServer, MediaStats};

/// A room: the server's challenge-session room id.
pub type RoomId = i64;
/// A user of the product.
pub type UserId = i64;
/// One media session: the socket's connection id (one session per connection per room).
pub type PeerId = u64;
