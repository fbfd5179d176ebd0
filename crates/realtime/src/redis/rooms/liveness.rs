//! Liveness of the nodes sharing [`RedisRooms`](super::RedisRooms): every `heartbeat` a node
//! extends its alive key (expiring after `node_ttl`) and sweeps away the tabs of the nodes whose
//! key is gone; when its own key was lost (Redis restarted empty, or it was taken for dead) or
//! a presence write failed, it re-registers its connections room by room instead. Whatever this
//! changes for the others is reported as a [`PresenceEvent`].

use std::{
    collections::HashSet,
    sync::{Arc, atomic::Ordering},
};

use ::redis::Pipeline;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    Inner,
    codec::{encode_tab, events_of, members_of},
    scripts,
};
use crate::{Member, RealtimeResult, RoomId};

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

impl Inner {
    /// Every `heartbeat`: proves this node alive (re-registering everything when it has to) and
    /// sweeps dead nodes, until `stop`.
    pub(super) async fn run_heartbeat(self: Arc<Self>, stop: CancellationToken) {
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

    /// Adds to `pipe` what proves this node alive for `node_ttl` (only when its alive key is
    /// still there, with `only_if_alive`) and lists it among the nodes. The pipe's first answer
    /// is whether the key was set.
    fn prove_alive<'p>(&self, pipe: &'p mut Pipeline, only_if_alive: bool) -> &'p mut Pipeline {
        pipe.cmd("SET")
            .arg(self.alive_key())
            .arg("1")
            .arg("PX")
            .arg(self.ttl_ms());
        if only_if_alive {
            pipe.arg("XX");
        }
        pipe.sadd(self.nodes_key(), &self.node).ignore()
    }

    /// Extends this node's alive key; false when it was gone.
    async fn refresh_alive(&self) -> RealtimeResult<bool> {
        let mut pipe = ::redis::pipe();
        self.prove_alive(&mut pipe, true);
        let (set,): (Option<String>,) = self.redis.query_pipe(&pipe).await?;
        Ok(set.is_some())
    }

    /// Makes Redis hold exactly this node's connections again, room by room.
    async fn resync(&self) -> RealtimeResult<()> {
        let mut pipe = ::redis::pipe();
        self.prove_alive(&mut pipe, false)
            .smembers(self.rooms_key());
        let (_set, registered): (Option<String>, Vec<RoomId>) =
            self.redis.query_pipe(&pipe).await?;
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
            let events: Vec<String> = self.script(&scripts::RESYNC_ROOM, &args).await?;
            let mut events = events_of(&events);
            // A leave whose write timed out may have been applied later: Redis no longer
            // holds the tab, and nobody told the room. Report those users unless they are back.
            let missed_here: Vec<&Member> = missed
                .iter()
                .filter(|(r, _)| *r == room)
                .map(|(_, m)| m)
                .collect();
            if !missed_here.is_empty() {
                let tabs: Vec<String> = self.script(&scripts::MEMBERS, &[room.to_string()]).await?;
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
        let nodes: Vec<String> = self
            .redis
            .query(::redis::cmd("SMEMBERS").arg(self.nodes_key()))
            .await?;
        for node in nodes.iter().filter(|n| **n != self.node) {
            let events: Vec<String> = self
                .script(&scripts::SWEEP, std::slice::from_ref(node))
                .await?;
            if !events.is_empty() {
                tracing::info!(node = %self.node, dead = %node, "swept a dead node's presence");
            }
            self.report(events_of(&events));
        }
        Ok(())
    }
}
