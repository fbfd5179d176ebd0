//! The UDP socket shared by every room, and the demultiplexer: one task reads every datagram
//! and routes it to its room actor: STUN by the local ICE username fragment (learning the
//! sender's address), everything else (DTLS, SRTP, SRTCP) by the remote address that STUN
//! taught. Datagrams from any other address are dropped. The routing tables are owned by this
//! task and changed only through its channel (no lock in the hot path).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{NetInput, Route, RouteChange, stun};
use crate::stats::Stats;

/// The largest datagram read (WebRTC keeps under the path MTU; more is junk).
const MAX_DATAGRAM: usize = 2_048;

/// Reads the socket and routes datagrams until `stopping` is cancelled.
pub async fn demultiplex(
    socket: Arc<UdpSocket>,
    mut changes: mpsc::UnboundedReceiver<RouteChange>,
    stats: Arc<Stats>,
    stopping: CancellationToken,
) {
    let mut table = Table::default();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            biased;
            () = stopping.cancelled() => return,
            change = changes.recv() => match change {
                Some(change) => table.apply(change),
                None => return,
            },
            read = socket.recv_from(&mut buf) => match read {
                Ok((len, source)) => {
                    let data = &buf[..len];
                    match table.route(source, data) {
                        Some(route) => {
                            let input = NetInput::Datagram {
                                peer: route.peer,
                                source,
                                tcp: false,
                                data: data.to_vec(),
                            };
                            if route.to_room.try_send(input).is_err() {
                                stats.datagram_dropped();
                            }
                        }
                        None => stats.datagram_dropped(),
                    }
                }
                // ICMP errors (a peer went away) surface as read errors on some systems.
                Err(e) => tracing::debug!(error = %e, "media UDP read failed"),
            },
        }
    }
}

/// The demultiplexer's routing tables.
#[derive(Debug, Default)]
pub struct Table {
    by_ufrag: HashMap<String, Route>,
    by_address: HashMap<SocketAddr, Route>,
}

impl Table {
    pub fn apply(&mut self, change: RouteChange) {
        match change {
            RouteChange::AddUfrag { ufrag, route } => {
                self.by_ufrag.insert(ufrag, route);
            }
            RouteChange::RemovePeer { room, peer } => {
                self.by_ufrag
                    .retain(|_, r| !(r.room == room && r.peer == peer));
                self.by_address
                    .retain(|_, r| !(r.room == room && r.peer == peer));
            }
            RouteChange::Resolve { ufrag, reply } => {
                let _ = reply.send(self.by_ufrag.get(&ufrag).cloned());
            }
        }
    }

    /// Where a datagram from `source` goes (STUN teaches the address).
    pub fn route(&mut self, source: SocketAddr, data: &[u8]) -> Option<&Route> {
        if let Some(ufrag) = stun::local_ufrag(data)
            && let Some(route) = self.by_ufrag.get(ufrag)
        {
            let route = route.clone();
            self.by_address.insert(source, route);
        }
        self.by_address.get(&source)
    }
}
