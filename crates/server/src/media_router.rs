//! Which node's media server holds a live room, and the way to it.
//!
//! On one node every media session is this node's. With several nodes (Redis), a room's media
//! lives on one node: the holder of the room's media lease ([`media_lease`]). A tab whose
//! socket is on another node still gets its session from the owner: the owner's offers carry
//! the owner's media addresses, so the browser's media goes straight to it, and only the
//! signaling travels between the nodes, through each node's Redis mailbox (`node:{id}:media`):
//! the socket's node posts the tab's commands (open, answer, view, restart, close) to the
//! owner, and the owner posts the session's events (offers, verdicts, closes) back. The
//! attendance and presence of a tab stay on its socket's node, which turns the verdicts it
//! receives into camera states as for a local session.
//!
//! The first node to open a session in a room whose lease is free takes the lease (when its
//! media server is on) and renews it every second while it has the room; it gives it up when
//! the room empties. If the owner dies, its lease lapses ([`LEASE_TTL`]); every other node
//! watches the owners of the rooms it routes to and ends those sessions with
//! [`CloseReason::Moved`], and the tabs start again, on the new owner (the first node to open
//! claims the lease). A node that loses a lease it held ends the room's sessions the same way.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use ssgwan_media::{CloseReason, MediaServer, PeerEvent, PeerId, PeerSink, RoomPolicy, Tile};
use ssgwan_realtime::{Leases, RedisMailbox, RoomId, UserId, media_lease};
use tokio::sync::mpsc;

use crate::tasks::Background;

/// How long a media lease lasts unless renewed: at most this long after its owner died, the
/// room's tabs are told to start again.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often the owner renews its leases and the other nodes check the owners they route to.
const WATCH_EVERY: Duration = Duration::from_secs(1);
/// A lease just claimed is not given up by the renewal pass for this long, whether or not its
/// room has an actor yet (the claim comes before the open).
const FRESH_CLAIM: Duration = Duration::from_secs(3);
/// The mailbox topic of media signaling.
const TOPIC: &str = "media";

/// This node has no media server and no other node holds the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// The media sessions of this node's tabs, wherever the room's media lives.
#[derive(Clone)]
pub struct MediaRouter {
    local: Option<MediaServer>,
    cluster: Option<Arc<Cluster>>,
}

/// What several nodes need: the leases, the mailbox and the sessions routed to other nodes.
struct Cluster {
    node: String,
    leases: Arc<dyn Leases>,
    outbox: mpsc::UnboundedSender<Outgoing>,
    /// Sessions of this node's tabs held by another node, by (room, peer).
    remote: Mutex<HashMap<(RoomId, PeerId), Remote>>,
    /// Rooms whose lease this node holds, with when it was claimed first.
    owned: Mutex<HashMap<RoomId, Instant>>,
    /// Tells a session's events from those of the session it replaced.
    next_session: std::sync::atomic::AtomicU64,
}

/// A session of one of this node's tabs that another node holds.
struct Remote {
    node: String,
    session: u64,
    sink: Arc<dyn PeerSink>,
}

/// What the nodes post to each other's media mailbox.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Mail {
    /// To the owner: open a session for a tab of node `from`.
    Open {
        room: RoomId,
        peer: PeerId,
        user: UserId,
        session: u64,
        from: String,
        /// The room's forwarding policy as of the open.
        policy: RoomPolicy,
    },
    /// To the owner: the room's forwarding policy changed.
    Policy {
        room: RoomId,
        policy: RoomPolicy,
    },
    Answer {
        room: RoomId,
        peer: PeerId,
        revision: u64,
        sdp: String,
    },
    View {
        room: RoomId,
        peer: PeerId,
        tiles: Vec<Tile>,
    },
    Restart {
        room: RoomId,
        peer: PeerId,
    },
    Close {
        room: RoomId,
        peer: PeerId,
    },
    RemoveUser {
        room: RoomId,
        user: UserId,
    },
    /// To the socket's node: an event of the session `session`.
    Event {
        room: RoomId,
        peer: PeerId,
        session: u64,
        event: PeerEvent,
    },
}

struct Outgoing {
    node: String,
    mail: Mail,
}

impl MediaRouter {
    /// One node: every session is `local`'s (none with `--media off`).
    pub fn single(local: Option<MediaServer>) -> MediaRouter {
        MediaRouter {
            local,
            cluster: None,
        }
    }

    /// Several nodes: starts this node's mailbox, the outbox and the lease watch, until the
    /// background tasks stop.
    pub fn clustered(
        local: Option<MediaServer>,
        node: &str,
        leases: Arc<dyn Leases>,
        redis: ssgwan_realtime::RedisClient,
        background: &Background,
    ) -> MediaRouter {
        let (mailbox, inbox) = RedisMailbox::start(redis, node, TOPIC, background.stopping());
        let (outbox, outgoing) = mpsc::unbounded_channel();
        let cluster = Arc::new(Cluster {
            node: node.to_owned(),
            leases,
            outbox,
            remote: Mutex::new(HashMap::new()),
            owned: Mutex::new(HashMap::new()),
            next_session: std::sync::atomic::AtomicU64::new(1),
        });
        let router = MediaRouter {
            local,
            cluster: Some(cluster),
        };
        let stop = background.stopping();
        let sender = router.clone();
        background.spawn("media outbox", async move {
            stop.run_until_cancelled(sender.send_all(mailbox, outgoing))
                .await;
        });
        let stop = background.stopping();
        let receiver = router.clone();
        background.spawn("media inbox", async move {
            stop.run_until_cancelled(receiver.receive_all(inbox)).await;
        });
        let stop = background.stopping();
        let watcher = router.clone();
        background.spawn("media leases", async move {
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                watcher.renew_owned().await;
                watcher.watch_owners().await;
            }
            watcher.release_all().await;
        });
        router
    }

    /// Whether a session may be had here at all: this node has a media server, or other nodes
    /// may (the room's owner decides).
    pub fn may_serve(&self) -> bool {
        self.local.is_some() || self.cluster.is_some()
    }

    /// This node's own media server (`None` with `--media off`).
    pub fn local(&self) -> Option<&MediaServer> {
        self.local.as_ref()
    }

    /// A new media session for `peer`, on the node that holds the room (taking the room here
    /// when nobody does and this node's media server is on), held to the room's forwarding
    /// `policy` (which replaces the room's). Events come back through `sink`.
    pub async fn open(
        &self,
        room: RoomId,
        peer: PeerId,
        user: UserId,
        policy: RoomPolicy,
        sink: Arc<dyn PeerSink>,
    ) -> Result<(), Unavailable> {
        let Some(cluster) = &self.cluster else {
            let media = self.local.as_ref().ok_or(Unavailable)?;
            media.open_with_policy(room, peer, user, policy, sink);
            return Ok(());
        };
        // A session this tab had on another node ends there (a new one replaces it here).
        if let Some(old) = cluster.take_remote(room, peer) {
            cluster.post(&old.node, Mail::Close { room, peer });
        }
        let lease = media_lease(room);
        for _ in 0..3 {
            if let Some(media) = &self.local {
                match cluster.leases.claim(&lease, &cluster.node, LEASE_TTL).await {
                    Ok(true) => {
                        cluster.owned().entry(room).or_insert_with(Instant::now);
                        media.open_with_policy(room, peer, user, policy, sink);
                        return Ok(());
                    }
                    Ok(false) => {}
                    Err(err) => {
                        // Redis is down: serve the tab here rather than not at all.
                        tracing::warn!(error = %err, room, "media lease unknown; serving the room here");
                        media.open_with_policy(room, peer, user, policy, sink);
                        return Ok(());
                    }
                }
            }
            match cluster.leases.holder(&lease).await {
                Ok(Some(owner)) if owner != cluster.node => {
                    let session = cluster
                        .next_session
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    cluster.remote().insert(
                        (room, peer),
                        Remote {
                            node: owner.clone(),
                            session,
                            sink,
                        },
                    );
                    cluster.post(
                        &owner,
                        Mail::Open {
                            room,
                            peer,
                            user,
                            session,
                            from: cluster.node.clone(),
                            policy: policy.clone(),
                        },
                    );
                    metrics::counter!("ssgwan_media_sessions_routed_total").increment(1);
                    return Ok(());
                }
                // Lapsed or released between the claim and the look-up: claim again.
                Ok(_) if self.local.is_some() => {}
                Ok(_) | Err(_) => return Err(Unavailable),
            }
        }
        Err(Unavailable)
    }

    /// The room's forwarding policy changed: it goes to the node that holds the room (and to
    /// this node's media server, which ignores it when it has no session in the room).
    pub async fn set_policy(&self, room: RoomId, policy: RoomPolicy) {
        if let Some(cluster) = &self.cluster {
            match cluster.leases.holder(&media_lease(room)).await {
                Ok(Some(owner)) if owner != cluster.node => {
                    cluster.post(
                        &owner,
                        Mail::Policy {
                            room,
                            policy: policy.clone(),
                        },
                    );
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, room, "media owner unknown; policy applied here only");
                }
            }
        }
        if let Some(media) = &self.local {
            media.set_room_policy(room, policy);
        }
    }

    /// The answer to the offer with `revision`.
    pub fn answer(&self, room: RoomId, peer: PeerId, revision: u64, sdp: String) {
        let mail = Mail::Answer {
            room,
            peer,
            revision,
            sdp,
        };
        self.command(room, peer, mail, |media, mail| {
            if let Mail::Answer { revision, sdp, .. } = mail {
                media.answer(room, peer, revision, sdp);
            }
        });
    }

    /// Which members' videos this peer shows now.
    pub fn view(&self, room: RoomId, peer: PeerId, tiles: Vec<Tile>) {
        let mail = Mail::View { room, peer, tiles };
        self.command(room, peer, mail, |media, mail| {
            if let Mail::View { tiles, .. } = mail {
                media.view(room, peer, tiles);
            }
        });
    }

    /// ICE restart: a fresh offer follows.
    pub fn restart_ice(&self, room: RoomId, peer: PeerId) {
        self.command(room, peer, Mail::Restart { room, peer }, |media, _| {
            media.restart_ice(room, peer);
        });
    }

    /// Ends the session of `peer` in `room`; no event back.
    pub fn close(&self, room: RoomId, peer: PeerId) {
        if let Some(cluster) = &self.cluster
            && let Some(old) = cluster.take_remote(room, peer)
        {
            cluster.post(&old.node, Mail::Close { room, peer });
            return;
        }
        if let Some(media) = &self.local {
            media.close(room, peer);
        }
    }

    /// Ends every session of `user` in `room` here and on the nodes this node routes the
    /// room's tabs to (each gets `Closed{Left}`).
    pub fn remove_user(&self, room: RoomId, user: UserId) {
        if let Some(media) = &self.local {
            media.remove_user(room, user);
        }
        if let Some(cluster) = &self.cluster {
            let nodes: HashSet<String> = cluster
                .remote()
                .iter()
                .filter(|((r, _), _)| *r == room)
                .map(|(_, remote)| remote.node.clone())
                .collect();
            for node in nodes {
                cluster.post(&node, Mail::RemoveUser { room, user });
            }
        }
    }

    /// A command for a session: to the node holding it, or to this node's media server.
    fn command(
        &self,
        room: RoomId,
        peer: PeerId,
        mail: Mail,
        here: impl FnOnce(&MediaServer, Mail),
    ) {
        if let Some(cluster) = &self.cluster {
            let owner = cluster
                .remote()
                .get(&(room, peer))
                .map(|remote| remote.node.clone());
            if let Some(owner) = owner {
                cluster.post(&owner, mail);
                return;
            }
        }
        if let Some(media) = &self.local {
            here(media, mail);
        }
    }

    /// Posts the outbox's mail in order, one at a time. Mail that reaches nobody ends the
    /// session it was about: the other node is gone.
    async fn send_all(
        &self,
        mailbox: RedisMailbox,
        mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    ) {
        while let Some(Outgoing { node, mail }) = outgoing.recv().await {
            let payload = match serde_json::to_vec(&mail) {
                Ok(payload) => payload,
                Err(err) => {
                    tracing::error!(error = %err, "media mail not encoded");
                    continue;
                }
            };
            let delivered = match mailbox.post(&node, &payload).await {
                Ok(receivers) => receivers > 0,
                Err(err) => {
                    tracing::warn!(error = %err, %node, "media mail not posted");
                    false
                }
            };
            metrics::counter!(
                "ssgwan_media_mail_total",
                "delivered" => if delivered { "true" } else { "false" }
            )
            .increment(1);
            if !delivered {
                self.undelivered(&node, mail);
            }
        }
    }

    /// Mail to `node` reached nobody.
    fn undelivered(&self, node: &str, mail: Mail) {
        match mail {
            // The tab's node is gone: its session here has nobody to tell.
            Mail::Event {
                room, peer, event, ..
            } => {
                if !matches!(event, PeerEvent::Closed(_))
                    && let Some(media) = &self.local
                {
                    media.close(room, peer);
                }
            }
            // The owner is gone: the tab starts again (on the next owner).
            Mail::Open { room, peer, .. }
            | Mail::Answer { room, peer, .. }
            | Mail::View { room, peer, .. }
            | Mail::Restart { room, peer } => {
                if let Some(cluster) = &self.cluster {
                    cluster.moved(room, peer, node);
                }
            }
            Mail::Close { .. } | Mail::RemoveUser { .. } | Mail::Policy { .. } => {}
        }
    }

    /// Handles the mail other nodes post to this one.
    async fn receive_all(&self, mut inbox: mpsc::Receiver<Vec<u8>>) {
        while let Some(payload) = inbox.recv().await {
            match serde_json::from_slice::<Mail>(&payload) {
                Ok(mail) => self.receive(mail).await,
                Err(err) => tracing::warn!(error = %err, "media mail not understood"),
            }
        }
    }

    async fn receive(&self, mail: Mail) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        match mail {
            Mail::Open {
                room,
                peer,
                user,
                session,
                from,
                policy,
            } => {
                let sink = Arc::new(RemoteSink {
                    node: from.clone(),
                    room,
                    peer,
                    session,
                    outbox: cluster.outbox.clone(),
                });
                let Some(media) = &self.local else {
                    sink.deliver(PeerEvent::Closed(CloseReason::Unavailable));
                    return;
                };
                match cluster
                    .leases
                    .claim(&media_lease(room), &cluster.node, LEASE_TTL)
                    .await
                {
                    Ok(false) => sink.deliver(PeerEvent::Closed(CloseReason::Moved)),
                    Ok(true) | Err(_) => {
                        cluster.owned().entry(room).or_insert_with(Instant::now);
                        media.open_with_policy(room, peer, user, policy, sink);
                    }
                }
            }
            Mail::Event {
                room,
                peer,
                session,
                event,
            } => {
                let sink = {
                    let mut remote = cluster.remote();
                    match remote.get(&(room, peer)) {
                        Some(r) if r.session == session => {
                            let sink = r.sink.clone();
                            if matches!(event, PeerEvent::Closed(_)) {
                                remote.remove(&(room, peer));
                            }
                            Some(sink)
                        }
                        _ => None,
                    }
                };
                if let Some(sink) = sink {
                    sink.deliver(event);
                }
            }
            other => {
                let Some(media) = &self.local else {
                    return;
                };
                match other {
                    Mail::Answer {
                        room,
                        peer,
                        revision,
                        sdp,
                    } => media.answer(room, peer, revision, sdp),
                    Mail::View { room, peer, tiles } => media.view(room, peer, tiles),
                    Mail::Restart { room, peer } => media.restart_ice(room, peer),
                    Mail::Close { room, peer } => media.close(room, peer),
                    Mail::RemoveUser { room, user } => media.remove_user(room, user),
                    Mail::Policy { room, policy } => media.set_room_policy(room, policy),
                    Mail::Open { .. } | Mail::Event { .. } => {}
                }
            }
        }
    }

    /// Renews the leases of the rooms this node's media server holds, gives up those of rooms
    /// it no longer has, and ends the sessions of rooms whose lease another node took.
    async fn renew_owned(&self) {
        let (Some(cluster), Some(media)) = (&self.cluster, &self.local) else {
            return;
        };
        let live: HashSet<RoomId> = media.rooms().into_iter().collect();
        let mut rooms: Vec<(RoomId, Option<Instant>)> = cluster
            .owned()
            .iter()
            .map(|(room, since)| (*room, Some(*since)))
            .collect();
        // Rooms opened here while the lease was unknown (Redis down) are claimed now.
        for room in &live {
            if !rooms.iter().any(|(r, _)| r == room) {
                rooms.push((*room, None));
            }
        }
        for (room, since) in rooms {
            let lease = media_lease(room);
            let fresh = since.is_some_and(|since| since.elapsed() < FRESH_CLAIM);
            if !live.contains(&room) && !fresh {
                cluster.owned().remove(&room);
                if let Err(err) = cluster.leases.release(&lease, &cluster.node).await {
                    tracing::debug!(error = %err, room, "media lease not released");
                }
                continue;
            }
            match cluster.leases.claim(&lease, &cluster.node, LEASE_TTL).await {
                Ok(true) => {
                    cluster.owned().entry(room).or_insert_with(Instant::now);
                }
                Ok(false) => {
                    tracing::warn!(
                        room,
                        "another node took the room's media; ending its sessions here"
                    );
                    cluster.owned().remove(&room);
                    media.close_room(room, CloseReason::Moved);
                    metrics::counter!("ssgwan_media_rooms_moved_total").increment(1);
                }
                Err(err) => tracing::debug!(error = %err, room, "media lease not renewed"),
            }
        }
    }

    /// Ends the sessions routed to a node that no longer holds their room (it died, or gave
    /// the room up): their tabs start again, on the room's next owner.
    async fn watch_owners(&self) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let routed: HashMap<RoomId, HashSet<String>> = {
            let mut routed: HashMap<RoomId, HashSet<String>> = HashMap::new();
            for ((room, _), remote) in cluster.remote().iter() {
                routed.entry(*room).or_default().insert(remote.node.clone());
            }
            routed
        };
        for (room, nodes) in routed {
            let holder = match cluster.leases.holder(&media_lease(room)).await {
                Ok(holder) => holder,
                Err(_) => continue,
            };
            for node in nodes {
                if holder.as_deref() != Some(node.as_str()) {
                    let peers: Vec<PeerId> = cluster
                        .remote()
                        .iter()
                        .filter(|((r, _), remote)| *r == room && remote.node == node)
                        .map(|((_, peer), _)| *peer)
                        .collect();
                    for peer in peers {
                        cluster.moved(room, peer, &node);
                        cluster.post(&node, Mail::Close { room, peer });
                    }
                }
            }
        }
    }

    /// Gives up every lease this node holds (it is stopping: its media server is ending the
    /// sessions with `Unavailable`, and their tabs may start again on another node at once).
    async fn release_all(&self) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let rooms: Vec<RoomId> = cluster.owned().keys().copied().collect();
        for room in rooms {
            let _ = cluster
                .leases
                .release(&media_lease(room), &cluster.node)
                .await;
        }
    }
}

impl Cluster {
    fn remote(&self) -> std::sync::MutexGuard<'_, HashMap<(RoomId, PeerId), Remote>> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn owned(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Instant>> {
        self.owned.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_remote(&self, room: RoomId, peer: PeerId) -> Option<Remote> {
        self.remote().remove(&(room, peer))
    }

    fn post(&self, node: &str, mail: Mail) {
        let _ = self.outbox.send(Outgoing {
            node: node.to_owned(),
            mail,
        });
    }

    /// The session of `peer` that `node` held is over: its tab is told to start again.
    fn moved(&self, room: RoomId, peer: PeerId, node: &str) {
        let removed = {
            let mut remote = self.remote();
            match remote.get(&(room, peer)) {
                Some(r) if r.node == node => remote.remove(&(room, peer)),
                _ => None,
            }
        };
        if let Some(remote) = removed {
            remote.sink.deliver(PeerEvent::Closed(CloseReason::Moved));
        }
    }
}

/// Where the owner delivers the events of a session whose tab is on another node: into the
/// outbox, in order.
struct RemoteSink {
    node: String,
    room: RoomId,
    peer: PeerId,
    session: u64,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

impl PeerSink for RemoteSink {
    fn deliver(&self, event: PeerEvent) {
        let _ = self.outbox.send(Outgoing {
            node: self.node.clone(),
            mail: Mail::Event {
                room: self.room,
                peer: self.peer,
                session: self.session,
                event,
            },
        });
    }
}
