//! Network I/O: the UDP socket shared by every room (with the demultiplexer that routes each
//! datagram to its room) and the ICE-TCP listener.

pub mod stun;
pub mod tcp;
pub mod udp;

use std::net::SocketAddr;

use tokio::sync::mpsc;

use crate::{PeerId, RoomId};

/// Bytes from the network for one room actor.
#[derive(Debug)]
pub enum NetInput {
    /// A datagram (UDP, or one RFC 4571 frame of an ICE-TCP connection) for `peer`.
    Datagram {
        peer: PeerId,
        source: SocketAddr,
        tcp: bool,
        data: Vec<u8>,
    },
    /// An ICE-TCP connection from `source` now carries `peer`'s traffic; frames to send on it
    /// go into `out`.
    TcpAttached {
        peer: PeerId,
        source: SocketAddr,
        out: mpsc::Sender<Vec<u8>>,
    },
}

/// Where datagrams for one peer go.
#[derive(Debug, Clone)]
pub struct Route {
    pub room: RoomId,
    pub peer: PeerId,
    pub to_room: mpsc::Sender<NetInput>,
}

/// Changes of the demultiplexer's tables, from the room actors.
#[derive(Debug)]
pub enum RouteChange {
    /// STUN with this local ICE username fragment belongs to the route.
    AddUfrag { ufrag: String, route: Route },
    /// The peer is gone: forget its fragments and addresses.
    RemovePeer { room: RoomId, peer: PeerId },
    /// An ICE-TCP connection asks whose fragment this is.
    Resolve {
        ufrag: String,
        reply: tokio::sync::oneshot::Sender<Option<Route>>,
    },
}
