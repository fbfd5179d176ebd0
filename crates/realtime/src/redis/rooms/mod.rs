//! [`Rooms`] shared by several nodes through Redis.
//!
//! Each node keeps its own connections in a [`LocalRooms`] and delivers to them; Redis carries
//! what the nodes must share:
//!
//! - **Presence.** `…:room:<room>:tabs` is a hash with one field per tab on any node,
//!   `<node>:<connection>`, whose value is `<user>|<camera><mic>|<member info JSON>`. First tab,
//!   last tab and the media union are computed over every node's tabs inside Lua scripts, so two
//!   nodes changing one room at once cannot both see a "first tab". `…:node:<node>:rooms` lists
//!   the rooms a node has tabs in, and `…:nodes` every node.
//! - **Liveness.** Each node refreshes `…:node:<node>:alive` (expiring after `node_ttl`, 30 s)
//!   every `heartbeat` (10 s). Readers ignore the tabs of a node whose key is gone, so a dead
//!   node's users drop out of [`members`](Rooms::members) within `node_ttl`; then the next
//!   heartbeat of any live node sweeps its tabs away and reports who left (or whose media
//!   changed) as [`PresenceEvent`]s — exactly one node reports each.
//! - **Fan-out.** One pub/sub channel per room, `…:room:<room>`; a node subscribes while it has
//!   connections in the room (before its presence is visible, so it misses nothing addressed to
//!   them). A message is `<origin node>\n<target>\n<frame>`, the target being `*` (everyone),
//!   `-<user>` (everyone but that user) or `=<user>` (that user only), or `!` for a control
//!   message whose body is an [`Eviction`](crate::Eviction) as JSON (take users out of the room,
//!   or close a session's sockets in a user's personal channel). The origin delivers to its own
//!   connections directly and the others ignore their own messages.
//!
//! **Redis outages.** Operations fail with [`RealtimeError::Unavailable`] within the client's
//! timeout. The pub/sub connection reconnects by itself and subscribes again; the heartbeat
//! notices that its key is gone (Redis restarted empty, or this node was taken for dead) or that
//! a presence write failed, and then re-registers this node's connections room by room, removing
//! what it should no longer hold; the users that this changes for the others are reported as
//! [`PresenceEvent`]s too.

mod codec;
mod liveness;
mod scripts;
mod subscriber;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ::redis::Script;
use async_trait::async_trait;
use tokio::sync::{Notify, RwLock, mpsc};
use tokio_util::sync::{CancellationToken, DropGuard};

use self::{
    codec::{Target, encode_eviction, encode_message, encode_tab, members_of, parse_media},
    subscriber::{SubscriberCommand, Subscriptions},
};
use super::RedisClient;
use crate::{
    Connection, ConnectionId, Eviction, Joined, LocalRooms, Media, Member, MemberInfo,
    RealtimeError, RealtimeResult, RoomId, Rooms, UserId,
};
pub use liveness::{PresenceEvent, PresenceEvents};

/// Liveness settings of a [`RedisRooms`] node.
#[derive(Debug, Clone)]
pub struct RedisRoomsOptions {
    /// This node's id (random when `None`); unique among the nodes sharing the Redis.
    pub node_id: Option<String>,
    /// How often the node proves it is alive and sweeps dead nodes.
    pub heartbeat: Duration,
    /// How long after its last heartbeat a node counts as dead.
    pub node_ttl: Duration,
}

impl Default for RedisRoomsOptions {
    fn default() -> Self {
        Self {
            node_id: None,
            heartbeat: Duration::from_secs(10),
            node_ttl: Duration::from_secs(30),
        }
    }
}

struct Inner {
    redis: RedisClient,
    node: String,
    /// `prefix:`
    base: String,
    heartbeat: Duration,
    node_ttl: Duration,
    local: LocalRooms,
    events: mpsc::UnboundedSender<PresenceEvent>,
    subscriptions: Mutex<Subscriptions>,
    subscriber: mpsc::UnboundedSender<SubscriberCommand>,
    pubsub_up: AtomicBool,
    /// Taken shared by presence changes and exclusively by a re-registration of one room, so
    /// that it sees this node's connections and Redis agree.
    presence: RwLock<()>,
    /// A presence write failed: Redis may hold something this node no longer has.
    dirty: AtomicBool,
    /// Users whose leave Redis may not have recorded, to report as left once it has.
    missed_leaves: Mutex<Vec<(RoomId, Member)>>,
    resync_now: Notify,
}

/// Rooms shared by every node through Redis. Dropping it stops its heartbeat (like a crash:
/// the other nodes sweep its users out after `node_ttl`); [`shutdown`](Self::shutdown) lets them
/// do so at their next heartbeat.
pub struct RedisRooms {
    inner: Arc<Inner>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
}

impl std::fmt::Debug for RedisRooms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRooms")
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

impl RedisRooms {
    /// Starts a node (inside a Tokio runtime): its heartbeat and sweeper task and its pub/sub
    /// connection, both retrying until Redis answers. Returns the rooms and the presence events
    /// this node must report to the rooms (see [`PresenceEvent`]).
    pub fn start(redis: RedisClient, options: RedisRoomsOptions) -> (RedisRooms, PresenceEvents) {
        if options.heartbeat * 2 > options.node_ttl {
            tracing::warn!(
                heartbeat = ?options.heartbeat,
                node_ttl = ?options.node_ttl,
                "the node TTL should be several heartbeats long, or live nodes will look dead"
            );
        }
        let node = options
            .node_id
            .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()));
        let (events, events_rx) = mpsc::unbounded_channel();
        let (subscriber, commands) = mpsc::unbounded_channel();
        let base = redis.key("");
        let inner = Arc::new(Inner {
            redis,
            node,
            base,
            heartbeat: options.heartbeat,
            node_ttl: options.node_ttl,
            local: LocalRooms::new(),
            events,
            subscriptions: Mutex::new(Subscriptions::default()),
            subscriber,
            pubsub_up: AtomicBool::new(false),
            presence: RwLock::new(()),
            dirty: AtomicBool::new(true),
            missed_leaves: Mutex::new(Vec::new()),
            resync_now: Notify::new(),
        });
        let stop = CancellationToken::new();
        tokio::spawn(inner.clone().run_subscriber(commands, stop.clone()));
        tokio::spawn(inner.clone().run_heartbeat(stop.clone()));
        let rooms = RedisRooms {
            inner,
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
        };
        (rooms, events_rx)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.inner.node
    }

    /// Stops the heartbeat and pub/sub and marks this node dead at once, so that the next
    /// heartbeat of another node sweeps its remaining users out (and reports them as left).
    pub async fn shutdown(&self) -> RealtimeResult<()> {
        self.stop.cancel();
        let inner = &self.inner;
        inner
            .redis
            .query(::redis::cmd("DEL").arg(inner.alive_key()))
            .await
    }
}

impl Inner {
    fn alive_key(&self) -> String {
        format!("{}node:{}:alive", self.base, self.node)
    }

    fn nodes_key(&self) -> String {
        format!("{}nodes", self.base)
    }

    fn rooms_key(&self) -> String {
        format!("{}node:{}:rooms", self.base, self.node)
    }

    fn channel(&self, room: RoomId) -> String {
        format!("{}room:{room}", self.base)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.node_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    fn report(&self, events: Vec<PresenceEvent>) {
        for event in events {
            let _ = self.events.send(event);
        }
    }

    async fn script<T: ::redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[String],
    ) -> RealtimeResult<T> {
        let mut invocation = script.key(&self.base);
        invocation.arg(&self.node);
        for arg in args {
            invocation.arg(arg);
        }
        self.redis.invoke(&invocation).await
    }
}

#[async_trait]
impl Rooms for RedisRooms {
    fn camera_on_here(&self, room: RoomId, user: UserId) -> bool {
        self.inner.local.camera_on_here(room, user)
    }

    fn node_id(&self) -> &str {
        RedisRooms::node_id(self)
    }

    async fn shutdown(&self) -> RealtimeResult<()> {
        RedisRooms::shutdown(self).await
    }

    async fn join(
        &self,
        room: RoomId,
        member: MemberInfo,
        connection: Connection,
        media: Media,
    ) -> RealtimeResult<Joined> {
        let inner = &self.inner;
        let _shared = inner.presence.read().await;
        let user = member.user_id;
        let id = connection.id;
        let rejoin = inner.local.has_tab(room, user, id);
        let registered = async {
            inner.subscribe(room).await?;
            // Local first: a frame another node sends as soon as it sees the new tab must find it.
            inner
                .local
                .join(room, member.clone(), connection, media)
                .await?;
            let value = encode_tab(&member, media);
            let reply: Vec<String> = inner
                .script(
                    &scripts::JOIN,
                    &[
                        room.to_string(),
                        id.to_string(),
                        user.to_string(),
                        value,
                        inner.ttl_ms().to_string(),
                    ],
                )
                .await?;
            match reply.as_slice() {
                [first, revived, tabs @ ..] => Ok((
                    first == "1",
                    revived == "1",
                    members_of(tabs, Some(&member))?,
                )),
                _ => Err(RealtimeError::Unexpected(format!(
                    "join answered {reply:?}"
                ))),
            }
        }
        .await;
        inner.join_ended(room);
        match registered {
            Ok((first_tab, revived, members)) => {
                if revived {
                    // Redis had lost this node (restarted empty, or took it for dead).
                    inner.mark_dirty();
                    inner.resync_now.notify_one();
                }
                Ok(Joined { first_tab, members })
            }
            Err(err) => {
                if !rejoin {
                    inner.local.leave(room, user, id).await?;
                }
                inner.maybe_unsubscribe(room);
                inner.mark_dirty();
                Err(err)
            }
        }
    }

    async fn leave(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
    ) -> RealtimeResult<Option<bool>> {
        let inner = &self.inner;
        let _shared = inner.presence.read().await;
        let member = inner
            .local
            .members(room)
            .await?
            .into_iter()
            .find(|m| m.info.user_id == user);
        if inner.local.leave(room, user, connection).await?.is_none() {
            return Ok(None);
        }
        inner.maybe_unsubscribe(room);
        match inner
            .script::<i64>(
                &scripts::LEAVE,
                &[room.to_string(), connection.to_string(), user.to_string()],
            )
            .await
        {
            Ok(last) => Ok(Some(last == 1)),
            Err(err) => {
                if let Some(member) = member {
                    inner
                        .missed_leaves
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((room, member));
                }
                inner.mark_dirty();
                Err(err)
            }
        }
    }

    async fn set_media(
        &self,
        room: RoomId,
        user: UserId,
        connection: ConnectionId,
        media: Media,
    ) -> RealtimeResult<Option<Member>> {
        let inner = &self.inner;
        let _shared = inner.presence.read().await;
        if !inner.local.has_tab(room, user, connection) {
            return Ok(None);
        }
        inner.local.set_media(room, user, connection, media).await?;
        let Some(info) = inner.local.info(room, user) else {
            return Ok(None);
        };
        let value = encode_tab(&info, media);
        let reply: Vec<String> = match inner
            .script(
                &scripts::SET_MEDIA,
                &[
                    room.to_string(),
                    connection.to_string(),
                    user.to_string(),
                    value,
                ],
            )
            .await
        {
            Ok(reply) => reply,
            Err(err) => {
                inner.mark_dirty();
                return Err(err);
            }
        };
        match reply.as_slice() {
            [before, after] if before == after => Ok(None),
            [_, after] => {
                let media = parse_media(after)
                    .ok_or_else(|| RealtimeError::Unexpected(format!("media {after:?}")))?;
                Ok(Some(Member {
                    info,
                    camera: media.camera,
                    mic: media.mic,
                }))
            }
            _ => Err(RealtimeError::Unexpected(format!(
                "set_media answered {reply:?}"
            ))),
        }
    }

    async fn broadcast(
        &self,
        room: RoomId,
        frame: Arc<str>,
        except: Option<UserId>,
    ) -> RealtimeResult<()> {
        let inner = &self.inner;
        inner.local.deliver(room, &frame, except);
        let target = except.map_or(Target::All, Target::AllBut);
        let message = encode_message(&inner.node, &target, &frame);
        inner
            .redis
            .query::<i64>(
                ::redis::cmd("PUBLISH")
                    .arg(inner.channel(room))
                    .arg(message),
            )
            .await?;
        Ok(())
    }

    async fn broadcast_except(
        &self,
        room: RoomId,
        frame: Arc<str>,
        except: &[UserId],
    ) -> RealtimeResult<()> {
        let inner = &self.inner;
        inner.local.deliver_except(room, &frame, except);
        let target = match except {
            [] => Target::All,
            [one] => Target::AllBut(*one),
            many => Target::AllButMany(many.to_vec()),
        };
        let message = encode_message(&inner.node, &target, &frame);
        inner
            .redis
            .query::<i64>(
                ::redis::cmd("PUBLISH")
                    .arg(inner.channel(room))
                    .arg(message),
            )
            .await?;
        Ok(())
    }

    async fn send_to_user(
        &self,
        room: RoomId,
        user: UserId,
        frame: Arc<str>,
    ) -> RealtimeResult<bool> {
        let inner = &self.inner;
        let here = inner.local.deliver_to(room, user, &frame);
        let message = encode_message(&inner.node, &Target::User(user), &frame);
        let there: i64 = inner
            .script(
                &scripts::SEND_TO_USER,
                &[
                    room.to_string(),
                    user.to_string(),
                    inner.channel(room),
                    message,
                ],
            )
            .await?;
        Ok(here || there == 1)
    }

    async fn evict(&self, eviction: Eviction) -> RealtimeResult<()> {
        let inner = &self.inner;
        inner.local.evict_here(&eviction);
        let message = encode_eviction(&inner.node, &eviction);
        inner
            .redis
            .query::<i64>(
                ::redis::cmd("PUBLISH")
                    .arg(inner.channel(eviction.room))
                    .arg(message),
            )
            .await?;
        Ok(())
    }

    async fn is_member(&self, room: RoomId, user: UserId) -> RealtimeResult<bool> {
        Ok(self
            .members(room)
            .await?
            .iter()
            .any(|m| m.info.user_id == user))
    }

    async fn members(&self, room: RoomId) -> RealtimeResult<Vec<Member>> {
        let tabs: Vec<String> = self
            .inner
            .script(&scripts::MEMBERS, &[room.to_string()])
            .await?;
        members_of(&tabs, None)
    }

    async fn ping(&self) -> RealtimeResult<()> {
        self.inner.redis.ping().await?;
        if self.inner.pubsub_up.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(RealtimeError::Unavailable(
                "the pub/sub connection is down".into(),
            ))
        }
    }
}
