//! Counters and gauges: atomics for [`crate::MediaServer::snapshot`], mirrored to the `metrics`
//! recorder (names `ssgwan_media_*`) for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::MediaStats;

/// Shared by the room actors (relaxed atomics: no lock in the hot path).
#[derive(Debug, Default)]
pub struct Stats {
    rooms: AtomicU64,
    peers: AtomicU64,
    verified_publishers: AtomicU64,
    packets_in: AtomicU64,
    bytes_in: AtomicU64,
    packets_forwarded: AtomicU64,
    bytes_forwarded: AtomicU64,
    plis_sent: AtomicU64,
    verdict_changes: AtomicU64,
    datagrams_dropped: AtomicU64,
}

impl Stats {
    pub fn room_opened(&self) {
        let n = self.rooms.fetch_add(1, Relaxed) + 1;
        metrics::gauge!("ssgwan_media_rooms").set(n as f64);
    }

    pub fn room_closed(&self) {
        let n = self.rooms.fetch_sub(1, Relaxed).saturating_sub(1);
        metrics::gauge!("ssgwan_media_rooms").set(n as f64);
    }

    pub fn peer_opened(&self) {
        let n = self.peers.fetch_add(1, Relaxed) + 1;
        metrics::gauge!("ssgwan_media_peers").set(n as f64);
    }

    pub fn peer_closed(&self) {
        let n = self.peers.fetch_sub(1, Relaxed).saturating_sub(1);
        metrics::gauge!("ssgwan_media_peers").set(n as f64);
    }

    pub fn received(&self, packets: u64, bytes: u64) {
        self.packets_in.fetch_add(packets, Relaxed);
        self.bytes_in.fetch_add(bytes, Relaxed);
        metrics::counter!("ssgwan_media_packets_received_total").increment(packets);
        metrics::counter!("ssgwan_media_bytes_received_total").increment(bytes);
    }

    pub fn forwarded(&self, packets: u64, bytes: u64) {
        self.packets_forwarded.fetch_add(packets, Relaxed);
        self.bytes_forwarded.fetch_add(bytes, Relaxed);
        metrics::counter!("ssgwan_media_packets_forwarded_total").increment(packets);
        metrics::counter!("ssgwan_media_bytes_forwarded_total").increment(bytes);
    }

    pub fn pli_sent(&self) {
        self.plis_sent.fetch_add(1, Relaxed);
        metrics::counter!("ssgwan_media_plis_sent_total").increment(1);
    }

    pub fn verdict_changed(&self, verified_before: bool, verified_now: bool) {
        self.verdict_changes.fetch_add(1, Relaxed);
        let label = if verified_now {
            "verified"
        } else {
            "unverified"
        };
        metrics::counter!("ssgwan_media_verdict_changes_total", "to" => label).increment(1);
        let n = match (verified_before, verified_now) {
            (false, true) => self.verified_publishers.fetch_add(1, Relaxed) + 1,
            (true, false) => self
                .verified_publishers
                .fetch_sub(1, Relaxed)
                .saturating_sub(1),
            _ => self.verified_publishers.load(Relaxed),
        };
        metrics::gauge!("ssgwan_media_verified_publishers").set(n as f64);
    }

    /// A publisher that was verified went away.
    pub fn verified_gone(&self) {
        let n = self
            .verified_publishers
            .fetch_sub(1, Relaxed)
            .saturating_sub(1);
        metrics::gauge!("ssgwan_media_verified_publishers").set(n as f64);
    }

    pub fn datagram_dropped(&self) {
        self.datagrams_dropped.fetch_add(1, Relaxed);
        metrics::counter!("ssgwan_media_datagrams_dropped_total").increment(1);
    }

    pub fn snapshot(&self) -> MediaStats {
        MediaStats {
            rooms: self.rooms.load(Relaxed),
            peers: self.peers.load(Relaxed),
            verified_publishers: self.verified_publishers.load(Relaxed),
            packets_in: self.packets_in.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            packets_forwarded: self.packets_forwarded.load(Relaxed),
            bytes_forwarded: self.bytes_forwarded.load(Relaxed),
            plis_sent: self.plis_sent.load(Relaxed),
            verdict_changes: self.verdict_changes.load(Relaxed),
            datagrams_dropped: self.datagrams_dropped.load(Relaxed),
        }
    }
}
