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
//!   `-<user>` (everyone but that user) or `=<user>` (that user only). The origin delivers to its
//!   own connections directly and the others ignore their own messages.
//!
//! **Redis outages.** Operations fail with [`RealtimeError::Unavailable`] within the client's
//! timeout. The pub/sub connection reconnects by itself and subscribes again; the heartbeat
//! notices that its key is gone (Redis restarted empty, or this node was taken for dead) or that
//! a presence write failed, and then re-registers this node's connections room by room, removing
//! what it should no longer hold; the users that this changes for the others are reported as
//! [`PresenceEvent`]s too.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ::redis::{Script, aio::PubSubSink};
use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::{Notify, RwLock, mpsc, oneshot};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{RedisClient, within};
use crate::{
    Connection, ConnectionId, Joined, LocalRooms, Media, Member, MemberInfo, RealtimeError,
    RealtimeResult, RoomId, Rooms, UserId,
};

/// What changed in a room because of a node dying or re-registering after a Redis outage,
/// rather than because of a connection of this node. The server turns these into `presence`
/// frames for the room (`join`, `leave`, `media`) and broadcasts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceEvent {
    /// `member` is in the room again (this node re-registered their tabs).
    Joined { room: RoomId, member: Member },
    /// `member`'s last tab is gone (their node died), with their last known media.
    Left { room: RoomId, member: Member },
    /// `member` is still in the room but their combined media changed.
    Changed { room: RoomId, member: Member },
}

/// The stream of [`PresenceEvent`]s that [`RedisRooms::start`] returns.
pub type PresenceEvents = mpsc::UnboundedReceiver<PresenceEvent>;

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

/// Helpers every presence script starts with. KEYS[1] is the `prefix:` and ARGV[1] this node.
const PRELUDE: &str = r#"
local P = KEYS[1]
local me_node = ARGV[1]
local function alive_key(node) return P .. 'node:' .. node .. ':alive' end
local function rooms_key(node) return P .. 'node:' .. node .. ':rooms' end
local function tabs_key(room) return P .. 'room:' .. room .. ':tabs' end
local live = {}
local function is_live(node)
  if node == me_node then return true end
  local v = live[node]
  if v == nil then
    v = redis.call('EXISTS', alive_key(node)) == 1
    live[node] = v
  end
  return v
end
local function node_of(field) return string.match(field, '^(.*):[^:]*$') end
local function user_of(value) return string.match(value, '^(-?%d+)|') end
local function media_of(value) return string.match(value, '^%-?%d+|([01])([01])|') end
local function live_entries(tabs)
  local all = redis.call('HGETALL', tabs)
  local out = {}
  for i = 1, #all, 2 do
    if is_live(node_of(all[i])) then
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
  return out
end
-- Per user: {camera, mic, a value}, the union over the given values.
local function union(into, value)
  local u = user_of(value)
  local c, m = media_of(value)
  local e = into[u]
  if not e then
    into[u] = {c, m, value}
  else
    if c == '1' then e[1] = '1' end
    if m == '1' then e[2] = '1' end
  end
end
"#;

/// ARGV: node, room, connection, user, value, node ttl ms.
/// Returns {first tab 0/1, node was revived 0/1, field, value, …} (live tabs, the new one included).
const JOIN: &str = r#"
local room, user, value = ARGV[2], ARGV[4], ARGV[5]
local tabs = tabs_key(room)
local me = me_node .. ':' .. ARGV[3]
local revived = 0
if redis.call('SET', alive_key(me_node), '1', 'PX', ARGV[6], 'NX') then revived = 1 end
redis.call('SADD', P .. 'nodes', me_node)
redis.call('SADD', rooms_key(me_node), room)
local entries = live_entries(tabs)
local first = 1
local out = {0, revived}
for i = 1, #entries, 2 do
  -- A tab joining again (already in the room) is not a first tab either.
  if user_of(entries[i + 1]) == user then first = 0 end
  if entries[i] ~= me then
    out[#out + 1] = entries[i]
    out[#out + 1] = entries[i + 1]
  end
end
out[1] = first
redis.call('HSET', tabs, me, value)
out[#out + 1] = me
out[#out + 1] = value
return out
"#;

/// ARGV: node, room, connection, user. Returns 1 when that was the user's last live tab.
const LEAVE: &str = r#"
local room, user = ARGV[2], ARGV[4]
local tabs = tabs_key(room)
redis.call('HDEL', tabs, me_node .. ':' .. ARGV[3])
local all = redis.call('HGETALL', tabs)
local last, mine = 1, false
for i = 1, #all, 2 do
  local node = node_of(all[i])
  if node == me_node then mine = true end
  if user_of(all[i + 1]) == user and is_live(node) then last = 0 end
end
if not mine then redis.call('SREM', rooms_key(me_node), room) end
return last
"#;

/// ARGV: node, room, connection, user, value. Returns {media before, media after} as "cm".
const SET_MEDIA: &str = r#"
local room, user, value = ARGV[2], ARGV[4], ARGV[5]
local tabs = tabs_key(room)
local me = me_node .. ':' .. ARGV[3]
local entries = live_entries(tabs)
local before, after = {}, {}
for i = 1, #entries, 2 do
  if user_of(entries[i + 1]) == user then
    union(before, entries[i + 1])
    if entries[i] ~= me then union(after, entries[i + 1]) end
  end
end
union(after, value)
redis.call('HSET', tabs, me, value)
redis.call('SADD', rooms_key(me_node), room)
local b = before[user]
local a = after[user]
return {b and (b[1] .. b[2]) or '', a[1] .. a[2]}
"#;

/// ARGV: node, room. Returns the live tabs: field, value, …
const MEMBERS: &str = r#"
return live_entries(tabs_key(ARGV[2]))
"#;

/// ARGV: node, room, user, channel, message. Publishes when the user has a live tab on another
/// node; returns whether it did.
const SEND_TO_USER: &str = r#"
local entries = live_entries(tabs_key(ARGV[2]))
for i = 1, #entries, 2 do
  if node_of(entries[i]) ~= me_node and user_of(entries[i + 1]) == ARGV[3] then
    redis.call('PUBLISH', ARGV[4], ARGV[5])
    return 1
  end
end
return 0
"#;

/// ARGV: node, dead node. Removes a dead node's tabs; returns events: room, kind, "cm", value, …
const SWEEP: &str = r#"
local dead = ARGV[2]
if redis.call('EXISTS', alive_key(dead)) == 1 then return {} end
local events = {}
for _, room in ipairs(redis.call('SMEMBERS', rooms_key(dead))) do
  local tabs = tabs_key(room)
  local all = redis.call('HGETALL', tabs)
  local gone, rest = {}, {}
  for i = 1, #all, 2 do
    if node_of(all[i]) == dead then
      redis.call('HDEL', tabs, all[i])
      union(gone, all[i + 1])
    else
      union(rest, all[i + 1])
    end
  end
  for u, g in pairs(gone) do
    local r = rest[u]
    if not r then
      for _, x in ipairs({room, 'left', g[1] .. g[2], g[3]}) do events[#events + 1] = x end
    else
      local c = (g[1] == '1' or r[1] == '1') and '1' or '0'
      local m = (g[2] == '1' or r[2] == '1') and '1' or '0'
      if c .. m ~= r[1] .. r[2] then
        for _, x in ipairs({room, 'changed', r[1] .. r[2], r[3]}) do events[#events + 1] = x end
      end
    end
  end
end
redis.call('DEL', rooms_key(dead))
redis.call('SREM', P .. 'nodes', dead)
return events
"#;

/// ARGV: node, room, then field, value, … of the tabs this node has in the room. Makes Redis
/// hold exactly those for this node; returns events as SWEEP does.
const RESYNC_ROOM: &str = r#"
local room = ARGV[2]
local tabs = tabs_key(room)
local desired = {}
local any = false
for i = 3, #ARGV, 2 do
  desired[ARGV[i]] = ARGV[i + 1]
  any = true
end
local all = redis.call('HGETALL', tabs)
local before, after = {}, {}
for i = 1, #all, 2 do
  union(before, all[i + 1])
  if node_of(all[i]) == me_node then
    if not desired[all[i]] then redis.call('HDEL', tabs, all[i]) end
  else
    union(after, all[i + 1])
  end
end
for field, value in pairs(desired) do
  redis.call('HSET', tabs, field, value)
  union(after, value)
end
if any then
  redis.call('SADD', rooms_key(me_node), room)
else
  redis.call('SREM', rooms_key(me_node), room)
end
local events = {}
for u, a in pairs(after) do
  local b = before[u]
  if not b then
    for _, x in ipairs({room, 'joined', a[1] .. a[2], a[3]}) do events[#events + 1] = x end
  elseif b[1] .. b[2] ~= a[1] .. a[2] then
    for _, x in ipairs({room, 'changed', a[1] .. a[2], a[3]}) do events[#events + 1] = x end
  end
end
for u, b in pairs(before) do
  if not after[u] then
    for _, x in ipairs({room, 'left', b[1] .. b[2], b[3]}) do events[#events + 1] = x end
  end
end
return events
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

static JOIN_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(JOIN));
static LEAVE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(LEAVE));
static SET_MEDIA_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SET_MEDIA));
static MEMBERS_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(MEMBERS));
static SEND_TO_USER_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SEND_TO_USER));
static SWEEP_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SWEEP));
static RESYNC_ROOM_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(RESYNC_ROOM));

/// A tab's value in a room's presence hash.
fn encode_tab(info: &MemberInfo, media: Media) -> String {
    let json = serde_json::to_string(info).unwrap_or_else(|_| "{}".into());
    format!(
        "{}|{}{}|{json}",
        info.user_id,
        u8::from(media.camera),
        u8::from(media.mic)
    )
}

fn decode_tab(value: &str) -> RealtimeResult<(MemberInfo, Media)> {
    let bad = || RealtimeError::Unexpected(format!("not a presence entry: {value:?}"));
    let mut parts = value.splitn(3, '|');
    let (_user, media, json) = match (parts.next(), parts.next(), parts.next()) {
        (Some(user), Some(media), Some(json)) => (user, media, json),
        _ => return Err(bad()),
    };
    let info: MemberInfo = serde_json::from_str(json).map_err(|_| bad())?;
    let media = parse_media(media).ok_or_else(bad)?;
    Ok((info, media))
}

fn parse_media(cm: &str) -> Option<Media> {
    match cm.as_bytes() {
        [c, m] => Some(Media {
            camera: *c == b'1',
            mic: *m == b'1',
        }),
        _ => None,
    }
}

/// Members (by user id) from a flat `field, value, …` list; `me` overrides the info of its user.
fn members_of(flat: &[String], me: Option<&MemberInfo>) -> RealtimeResult<Vec<Member>> {
    let mut members: BTreeMap<UserId, Member> = BTreeMap::new();
    for pair in flat.chunks(2) {
        let [_field, value] = pair else {
            return Err(RealtimeError::Unexpected("odd presence reply".into()));
        };
        let (info, media) = decode_tab(value)?;
        let member = members.entry(info.user_id).or_insert_with(|| Member {
            info: me
                .filter(|m| m.user_id == info.user_id)
                .cloned()
                .unwrap_or(info),
            camera: false,
            mic: false,
        });
        member.camera |= media.camera;
        member.mic |= media.mic;
    }
    Ok(members.into_values().collect())
}

/// Events from a flat `room, kind, "cm", value, …` list.
fn events_of(flat: &[String]) -> Vec<PresenceEvent> {
    flat.chunks(4)
        .filter_map(|event| {
            let [room, kind, media, value] = event else {
                return None;
            };
            let room: RoomId = room.parse().ok()?;
            let (info, _) = decode_tab(value).ok()?;
            let media = parse_media(media)?;
            let member = Member {
                info,
                camera: media.camera,
                mic: media.mic,
            };
            match kind.as_str() {
                "joined" => Some(PresenceEvent::Joined { room, member }),
                "left" => Some(PresenceEvent::Left { room, member }),
                "changed" => Some(PresenceEvent::Changed { room, member }),
                _ => None,
            }
        })
        .collect()
}

/// Who a pub/sub message is for.
enum Target {
    All,
    AllBut(UserId),
    User(UserId),
}

impl Target {
    fn encode(&self) -> String {
        match self {
            Target::All => "*".into(),
            Target::AllBut(user) => format!("-{user}"),
            Target::User(user) => format!("={user}"),
        }
    }

    fn decode(text: &str) -> Option<Target> {
        if text == "*" {
            return Some(Target::All);
        }
        let (kind, user) = text.split_at_checked(1)?;
        let user = user.parse().ok()?;
        match kind {
            "-" => Some(Target::AllBut(user)),
            "=" => Some(Target::User(user)),
            _ => None,
        }
    }
}

/// Which room channels this node wants and which it has.
#[derive(Debug, Default)]
struct Subscriptions {
    /// Joins under way per room (their connection is not in `local` yet).
    joining: HashMap<RoomId, usize>,
    /// Rooms whose channel the pub/sub connection is subscribed to now.
    subscribed: HashSet<RoomId>,
}

enum SubscriberCommand {
    Subscribe(RoomId, oneshot::Sender<RealtimeResult<()>>),
    Unsubscribe(RoomId),
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
        let mut connection = inner.redis.connection();
        inner
            .redis
            .bounded(
                ::redis::cmd("DEL")
                    .arg(inner.alive_key())
                    .query_async::<()>(&mut connection),
            )
            .await
    }
}

impl Inner {
    fn alive_key(&self) -> String {
        format!("{}node:{}:alive", self.base, self.node)
    }

    fn channel(&self, room: RoomId) -> String {
        format!("{}room:{room}", self.base)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.node_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn subscriptions(&self) -> std::sync::MutexGuard<'_, Subscriptions> {
        self.subscriptions.lock().unwrap_or_else(|e| e.into_inner())
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
        let mut connection = self.redis.connection();
        self.redis
            .bounded(invocation.invoke_async(&mut connection))
            .await
    }

    /// Makes sure this node receives `room`'s channel; counts a join under way until
    /// [`joined`](Self::joined) or [`join_failed`](Self::join_failed).
    async fn subscribe(&self, room: RoomId) -> RealtimeResult<()> {
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
    fn join_ended(&self, room: RoomId) {
        let mut subs = self.subscriptions();
        if let Some(n) = subs.joining.get_mut(&room) {
            *n -= 1;
            if *n == 0 {
                subs.joining.remove(&room);
            }
        }
    }

    /// Unsubscribes from `room` if nothing here needs it any more.
    fn maybe_unsubscribe(&self, room: RoomId) {
        if !self.local.has_room(room) {
            let _ = self.subscriber.send(SubscriberCommand::Unsubscribe(room));
        }
    }

    fn deliver(&self, channel: &str, payload: &[u8]) {
        let Some(room) = channel
            .strip_prefix(&self.base)
            .and_then(|rest| rest.strip_prefix("room:"))
            .and_then(|id| id.parse::<RoomId>().ok())
        else {
            return;
        };
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        let mut parts = text.splitn(3, '\n');
        let (Some(origin), Some(target), Some(frame)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        if origin == self.node {
            return;
        }
        let frame: Arc<str> = Arc::from(frame);
        match Target::decode(target) {
            Some(Target::All) => self.local.deliver(room, &frame, None),
            Some(Target::AllBut(user)) => self.local.deliver(room, &frame, Some(user)),
            Some(Target::User(user)) => {
                self.local.deliver_to(room, user, &frame);
            }
            None => {}
        }
    }

    fn message(&self, target: &Target, frame: &str) -> String {
        format!("{}\n{}\n{frame}", self.node, target.encode())
    }

    /// The pub/sub connection: (re)connects, subscribes to the rooms this node has connections
    /// in, delivers messages and serves subscription changes, until `stop`.
    async fn run_subscriber(
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
        stream: &mut ::redis::aio::PubSubStream,
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

    /// Every `heartbeat`: proves this node alive (re-registering everything when it has to) and
    /// sweeps dead nodes, until `stop`.
    async fn run_heartbeat(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
                () = self.resync_now.notified() => {}
            }
            let beat = if self.dirty.swap(false, Ordering::AcqRel) {
                self.resync().await
            } else {
                match self.refresh_alive().await {
                    Ok(true) => Ok(()),
                    Ok(false) => self.resync().await,
                    Err(err) => Err(err),
                }
            };
            if let Err(err) = beat {
                tracing::warn!(node = %self.node, error = %err, "Redis presence heartbeat failed");
                self.mark_dirty();
                continue;
            }
            if let Err(err) = self.sweep().await {
                tracing::warn!(node = %self.node, error = %err, "sweeping dead nodes failed");
            }
        }
    }

    /// Extends this node's alive key; false when it was gone.
    async fn refresh_alive(&self) -> RealtimeResult<bool> {
        let mut connection = self.redis.connection();
        let mut pipe = ::redis::pipe();
        pipe.cmd("SET")
            .arg(self.alive_key())
            .arg("1")
            .arg("PX")
            .arg(self.ttl_ms())
            .arg("XX")
            .sadd(format!("{}nodes", self.base), &self.node)
            .ignore();
        let (set,): (Option<String>,) = self
            .redis
            .bounded(pipe.query_async(&mut connection))
            .await?;
        Ok(set.is_some())
    }

    /// Makes Redis hold exactly this node's connections again, room by room.
    async fn resync(&self) -> RealtimeResult<()> {
        let mut connection = self.redis.connection();
        let mut pipe = ::redis::pipe();
        pipe.cmd("SET")
            .arg(self.alive_key())
            .arg("1")
            .arg("PX")
            .arg(self.ttl_ms())
            .ignore()
            .sadd(format!("{}nodes", self.base), &self.node)
            .ignore()
            .smembers(format!("{}node:{}:rooms", self.base, self.node));
        let (registered,): (Vec<RoomId>,) = self
            .redis
            .bounded(pipe.query_async(&mut connection))
            .await?;
        let mut rooms: HashSet<RoomId> = registered.into_iter().collect();
        rooms.extend(self.local.room_ids());
        let missed: Vec<(RoomId, Member)> = self
            .missed_leaves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        rooms.extend(missed.iter().map(|(room, _)| *room));
        for room in rooms {
            let _exclusive = self.presence.write().await;
            let mut args: Vec<String> = vec![room.to_string()];
            for tab in self.local.tabs_in(room) {
                args.push(format!("{}:{}", self.node, tab.connection));
                args.push(encode_tab(&tab.info, tab.media));
            }
            let events: Vec<String> = self.script(&RESYNC_ROOM_SCRIPT, &args).await?;
            let mut events = events_of(&events);
            // A leave whose write timed out may have been applied later: Redis no longer
            // holds the tab, and nobody told the room. Report those users unless they are back.
            let missed_here: Vec<&Member> = missed
                .iter()
                .filter(|(r, _)| *r == room)
                .map(|(_, m)| m)
                .collect();
            if !missed_here.is_empty() {
                let tabs: Vec<String> = self.script(&MEMBERS_SCRIPT, &[room.to_string()]).await?;
                let present = members_of(&tabs, None)?;
                for member in missed_here {
                    let user = member.info.user_id;
                    let reported = events.iter().any(|e| {
                        matches!(e, PresenceEvent::Left { member, .. } if member.info.user_id == user)
                    });
                    if !reported && !present.iter().any(|m| m.info.user_id == user) {
                        events.push(PresenceEvent::Left {
                            room,
                            member: member.clone(),
                        });
                    }
                }
            }
            self.report(events);
        }
        self.missed_leaves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|m| !missed.contains(m));
        tracing::info!(node = %self.node, "presence re-registered in Redis");
        Ok(())
    }

    /// Sweeps the tabs of every node whose alive key expired.
    async fn sweep(&self) -> RealtimeResult<()> {
        let mut connection = self.redis.connection();
        let nodes: Vec<String> = self
            .redis
            .bounded(
                ::redis::cmd("SMEMBERS")
                    .arg(format!("{}nodes", self.base))
                    .query_async(&mut connection),
            )
            .await?;
        for node in nodes.iter().filter(|n| **n != self.node) {
            let events: Vec<String> = self
                .script(&SWEEP_SCRIPT, std::slice::from_ref(node))
                .await?;
            if !events.is_empty() {
                tracing::info!(node = %self.node, dead = %node, "swept a dead node's presence");
            }
            self.report(events_of(&events));
        }
        Ok(())
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
                    &JOIN_SCRIPT,
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
                &LEAVE_SCRIPT,
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
                &SET_MEDIA_SCRIPT,
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
        let message = inner.message(&target, &frame);
        let mut connection = inner.redis.connection();
        inner
            .redis
            .bounded(
                ::redis::cmd("PUBLISH")
                    .arg(inner.channel(room))
                    .arg(message)
                    .query_async::<i64>(&mut connection),
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
        let message = inner.message(&Target::User(user), &frame);
        let there: i64 = inner
            .script(
                &SEND_TO_USER_SCRIPT,
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
            .script(&MEMBERS_SCRIPT, &[room.to_string()])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_entries_round_trip() {
        let info = MemberInfo {
            user_id: -3,
            nickname: "a|b\nc".into(),
            profile_image: Some("x".into()),
        };
        let media = Media {
            camera: true,
            mic: false,
        };
        assert_eq!(
            decode_tab(&encode_tab(&info, media)).ok(),
            Some((info, media))
        );
    }
}
