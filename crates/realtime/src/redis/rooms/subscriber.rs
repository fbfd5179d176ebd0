//! The pub/sub side of [`RedisRooms`](super::RedisRooms): one connection per node, subscribed
//! to the channel of every room this node has connections in (or a join under way in). It
//! reconnects by itself with a short back-off, subscribes again to what it needs, and delivers
//! other nodes' messages to this node's connections. Until it is up, joins fail with
//! `Unavailable` rather than miss frames.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use ::redis::aio::{PubSubSink, PubSubStream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{
    Inner,
    codec::{Target, decode_eviction, decode_message},
};
use crate::{RealtimeError, RealtimeResult, RoomId, redis::within};

/// Which room channels this node wants and which it has.
#[derive(Debug, Default)]
pub(super) struct Subscriptions {
    /// Joins under way per room (their connection is not in `local` yet).
    pub(super) joining: HashMap<RoomId, usize>,
    /// Rooms whose channel the pub/sub connection is subscribed to now.
    pub(super) subscribed: HashSet<RoomId>,
}

pub(super) enum SubscriberCommand {
    Subscribe(RoomId, oneshot::Sender<RealtimeResult<()>>),
    Unsubscribe(RoomId),
}

impl Inner {
    pub(super) fn subscriptions(&self) -> std::sync::MutexGuard<'_, Subscriptions> {
        self.subscriptions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sure this node receives `room`'s channel; counts a join under way until
    /// [`join_ended`](Self::join_ended).
    pub(super) async fn subscribe(&self, room: RoomId) -> RealtimeResult<()> {
        let subscribed = {
            let mut subs = self.subscriptions();
            *subs.joining.entry(room).or_default() += 1;
            subs.subscribed.contains(&room)
        };
        if subscribed {
            return Ok(());
        }
        if !self.pubsub_up.load(Ordering::Acquire) {
            return Err(RealtimeError::Unavailable(
                "the pub/sub connection is down".into(),
            ));
        }
        let (ack, done) = oneshot::channel();
        self.subscriber
            .send(SubscriberCommand::Subscribe(room, ack))
            .map_err(|_| RealtimeError::Unavailable("the node is shutting down".into()))?;
        match tokio::time::timeout(self.redis.timeout() * 2, done).await {
            Ok(Ok(result)) => result,
            _ => Err(RealtimeError::Unavailable(
                "subscribing to the room timed out".into(),
            )),
        }
    }

    /// A join under way ended (its connection is now local, or it failed).
    pub(super) fn join_ended(&self, room: RoomId) {
        let mut subs = self.subscriptions();
        if let Some(n) = subs.joining.get_mut(&room) {
            *n -= 1;
            if *n == 0 {
                subs.joining.remove(&room);
            }
        }
    }

    /// Unsubscribes from `room` if nothing here needs it any more.
    pub(super) fn maybe_unsubscribe(&self, room: RoomId) {
        if !self.local.has_room(room) {
            let _ = self.subscriber.send(SubscriberCommand::Unsubscribe(room));
        }
    }

    /// Delivers a message from another node to this node's connections in its room.
    fn deliver(&self, channel: &str, payload: &[u8]) {
        let Some(room) = channel
            .strip_prefix(&self.base)
            .and_then(|rest| rest.strip_prefix("room:"))
            .and_then(|id| id.parse::<RoomId>().ok())
        else {
            return;
        };
        let Some((origin, target, frame)) = decode_message(payload) else {
            return;
        };
        if origin == self.node {
            return;
        }
        if target == Target::Control {
            if let Some(eviction) = decode_eviction(frame).filter(|e| e.room == room) {
                self.local.evict_here(&eviction);
            }
            return;
        }
        let frame: Arc<str> = Arc::from(frame);
        match target {
            Target::All => self.local.deliver(room, &frame, None),
            Target::AllBut(user) => self.local.deliver(room, &frame, Some(user)),
            Target::AllButMany(users) => self.local.deliver_except(room, &frame, &users),
            Target::User(user) => {
                self.local.deliver_to(room, user, &frame);
            }
            Target::Control => {}
        }
    }

    /// The pub/sub connection: (re)connects, subscribes to the rooms this node has connections
    /// in, delivers messages and serves subscription changes, until `stop`.
    pub(super) async fn run_subscriber(
        self: Arc<Self>,
        mut commands: mpsc::UnboundedReceiver<SubscriberCommand>,
        stop: CancellationToken,
    ) {
        let mut backoff = Duration::from_millis(100);
        while !stop.is_cancelled() {
            let connected =
                within(self.redis.timeout(), self.redis.client.get_async_pubsub()).await;
            let Ok(pubsub) = connected else {
                // Refuse what was asked meanwhile, then wait a little.
                while let Ok(command) = commands.try_recv() {
                    if let SubscriberCommand::Subscribe(_, ack) = command {
                        let _ = ack.send(Err(RealtimeError::Unavailable(
                            "the pub/sub connection is down".into(),
                        )));
                    }
                }
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            };
            backoff = Duration::from_millis(100);
            let (mut sink, mut stream) = pubsub.split();
            if self
                .serve_subscriptions(&mut sink, &mut stream, &mut commands, &stop)
                .await
            {
                return;
            }
            tracing::warn!(node = %self.node, "Redis pub/sub connection lost; reconnecting");
        }
    }

    /// Serves one pub/sub connection; returns true when stopped, false when the connection failed.
    async fn serve_subscriptions(
        &self,
        sink: &mut PubSubSink,
        stream: &mut PubSubStream,
        commands: &mut mpsc::UnboundedReceiver<SubscriberCommand>,
        stop: &CancellationToken,
    ) -> bool {
        let timeout = self.redis.timeout();
        let wanted: Vec<RoomId> = {
            let subs = self.subscriptions();
            let mut rooms: HashSet<RoomId> = subs.joining.keys().copied().collect();
            rooms.extend(self.local.room_ids());
            rooms.into_iter().collect()
        };
        if !wanted.is_empty() {
            let channels: Vec<String> = wanted.iter().map(|r| self.channel(*r)).collect();
            if within(timeout, sink.subscribe(&channels)).await.is_err() {
                return false;
            }
        }
        self.subscriptions().subscribed = wanted.into_iter().collect();
        self.pubsub_up.store(true, Ordering::Release);
        let mut ping = tokio::time::interval(self.heartbeat.min(Duration::from_secs(5)));
        ping.tick().await;
        let stopped = loop {
            tokio::select! {
                () = stop.cancelled() => break true,
                message = stream.next() => match message {
                    Some(message) => self.deliver(message.get_channel_name(), message.get_payload_bytes()),
                    None => break false,
                },
                command = commands.recv() => match command {
                    None => break true,
                    Some(SubscriberCommand::Subscribe(room, ack)) => {
                        if self.subscriptions().subscribed.contains(&room) {
                            let _ = ack.send(Ok(()));
                            continue;
                        }
                        match within(timeout, sink.subscribe(self.channel(room))).await {
                            Ok(()) => {
                                self.subscriptions().subscribed.insert(room);
                                let _ = ack.send(Ok(()));
                            }
                            Err(err) => {
                                let _ = ack.send(Err(err));
                                break false;
                            }
                        }
                    }
                    Some(SubscriberCommand::Unsubscribe(room)) => {
                        let drop_it = {
                            let mut subs = self.subscriptions();
                            let unused = !subs.joining.contains_key(&room) && !self.local.has_room(room);
                            unused && subs.subscribed.remove(&room)
                        };
                        if drop_it && within(timeout, sink.unsubscribe(self.channel(room))).await.is_err() {
                            break false;
                        }
                    }
                },
                _ = ping.tick() => {
                    if within(timeout, sink.ping::<::redis::Value>()).await.is_err() {
                        break false;
                    }
                }
            }
        };
        self.pubsub_up.store(false, Ordering::Release);
        self.subscriptions().subscribed.clear();
        stopped
    }
}
