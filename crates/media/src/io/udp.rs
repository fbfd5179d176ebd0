//! The UDP socket shared by every room, and the demultiplexer: one task reads every datagram
//! and routes it to its room actor: STUN by the local ICE username fragment (learning the
//! sender's address), everything else (DTLS, SRTP, SRTCP) by the remote address that STUN
//! taught. Datagrams from any other address are dropped. The routing tables are owned by this
//! task and changed only through its channel (no lock in the hot path).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{NetInput, Route, RouteChange, stun};
use crate::stats::Stats;
use crate::{PeerId, RoomId};

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

/// At most this many remote addresses are remembered per peer (the oldest is forgotten): STUN
/// with a known fragment from forged sources cannot grow the table without bound.
const ADDRESSES_PER_PEER: usize = 8;

/// The demultiplexer's routing tables.
#[derive(Debug, Default)]
pub struct Table {
    by_ufrag: HashMap<String, Route>,
    by_address: HashMap<SocketAddr, Route>,
    addresses: HashMap<(RoomId, PeerId), VecDeque<SocketAddr>>,
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
                for address in self.addresses.remove(&(room, peer)).unwrap_or_default() {
                    self.by_address.remove(&address);
                }
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
            self.learn(source, route);
        }
        self.by_address.get(&source)
    }

    fn learn(&mut self, source: SocketAddr, route: Route) {
        let key = (route.room, route.peer);
        if let Some(previous) = self.by_address.insert(source, route) {
            let previous_key = (previous.room, previous.peer);
            if previous_key == key {
                return;
            }
            if let Some(list) = self.addresses.get_mut(&previous_key) {
                list.retain(|a| *a != source);
            }
        }
        let list = self.addresses.entry(key).or_default();
        list.push_back(source);
        if list.len() > ADDRESSES_PER_PEER
            && let Some(oldest) = list.pop_front()
        {
            self.by_address.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding_request(username: &str) -> Vec<u8> {
        let mut attrs = vec![0x00, 0x06];
        attrs.extend((username.len() as u16).to_be_bytes());
        attrs.extend(username.as_bytes());
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        let mut msg = vec![0x00, 0x01];
        msg.extend((attrs.len() as u16).to_be_bytes());
        msg.extend([0x21, 0x12, 0xa4, 0x42]);
        msg.extend([7; 12]);
        msg.extend(attrs);
        msg
    }

    fn table_with_peer(peer: PeerId) -> (Table, mpsc::Receiver<NetInput>) {
        let (to_room, rx) = mpsc::channel(8);
        let mut table = Table::default();
        table.apply(RouteChange::AddUfrag {
            ufrag: format!("frag{peer}"),
            route: Route {
                room: 1,
                peer,
                to_room,
            },
        });
        (table, rx)
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn media_is_routed_only_from_an_address_that_sent_stun_with_a_known_fragment() {
        let (mut table, _rx) = table_with_peer(5);
        let rtp = [0x80u8, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(table.route(addr(4000), &rtp).is_none(), "no STUN yet");
        assert!(
            table
                .route(addr(4000), &binding_request("other:x"))
                .is_none()
        );
        let routed = table.route(addr(4000), &binding_request("frag5:x"));
        assert_eq!(routed.map(|r| r.peer), Some(5));
        assert_eq!(table.route(addr(4000), &rtp).map(|r| r.peer), Some(5));
        assert!(table.route(addr(4001), &rtp).is_none(), "another address");
    }

    #[test]
    fn a_removed_peer_is_forgotten_with_its_addresses() {
        let (mut table, _rx) = table_with_peer(5);
        table.route(addr(4000), &binding_request("frag5:x"));
        table.apply(RouteChange::RemovePeer { room: 1, peer: 5 });
        assert!(table.route(addr(4000), &[0x80; 12]).is_none());
        assert!(
            table
                .route(addr(4000), &binding_request("frag5:x"))
                .is_none()
        );
    }

    #[test]
    fn forged_sources_cannot_grow_the_table_without_bound() {
        let (mut table, _rx) = table_with_peer(5);
        for port in 0..100 {
            table.route(addr(5000 + port), &binding_request("frag5:x"));
        }
        assert_eq!(table.by_address.len(), ADDRESSES_PER_PEER);
        // The most recent addresses are the ones kept.
        assert!(table.route(addr(5099), &[0x80; 12]).is_some());
        assert!(table.route(addr(5000), &[0x80; 12]).is_none());
    }
}
