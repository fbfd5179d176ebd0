//! A node's mailbox: messages addressed to one node (not to a room), over Redis pub/sub. Each
//! node subscribes, on a pub/sub connection of its own, to the channel
//! `prefix:node:{node}:{topic}`; anyone may [`post`](RedisMailbox::post) to it. Used to route a
//! live room's media signaling to the node whose media server holds the room.
//!
//! Delivery is at most once and in order per sender (one connection, one task): a message posted
//! while the addressee is not subscribed is lost, and `post` says so (it returns how many
//! subscribers got it, 0 when the node is gone or reconnecting). Callers that must not lose a
//! message treat 0 as a failure and recover (the media router ends the session it concerned).

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{RedisClient, within};
use crate::RealtimeResult;

/// Messages received but not taken yet; a receiver this far behind loses the newest ones (and a
/// warning is logged).
const INBOX: usize = 4096;

/// Posting to any node's mailbox on `topic`, and this node's own mailbox.
#[derive(Debug, Clone)]
pub struct RedisMailbox {
    redis: RedisClient,
    topic: String,
}

impl RedisMailbox {
    /// Starts receiving this node's (`node`) mail on `topic` until `stop`: the receiver gets
    /// each message's payload. It (re)connects by itself with a short back-off.
    pub fn start(
        redis: RedisClient,
        node: &str,
        topic: &str,
        stop: CancellationToken,
    ) -> (RedisMailbox, mpsc::Receiver<Vec<u8>>) {
        let mailbox = RedisMailbox {
            redis,
            topic: topic.to_owned(),
        };
        let (inbox, received) = mpsc::channel(INBOX);
        let channel = mailbox.channel(node);
        tokio::spawn(receive(mailbox.redis.clone(), channel, inbox, stop));
        (mailbox, received)
    }

    /// The channel of `node`'s mailbox.
    fn channel(&self, node: &str) -> String {
        self.redis.key(&format!("node:{node}:{}", self.topic))
    }

    /// Posts `payload` to `node`'s mailbox; returns how many subscribers received it (0: the
    /// node is not listening, the message is lost).
    pub async fn post(&self, node: &str, payload: &[u8]) -> RealtimeResult<usize> {
        self.redis
            .query(::redis::cmd("PUBLISH").arg(self.channel(node)).arg(payload))
            .await
    }
}

/// The receiving side: one pub/sub connection subscribed to `channel`, reconnected until `stop`.
async fn receive(
    redis: RedisClient,
    channel: String,
    inbox: mpsc::Sender<Vec<u8>>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    while !stop.is_cancelled() {
        let subscribed = async {
            let mut pubsub = within(redis.timeout(), redis.client.get_async_pubsub()).await?;
            within(redis.timeout(), pubsub.subscribe(&channel)).await?;
            RealtimeResult::Ok(pubsub)
        };
        let pubsub = match stop.run_until_cancelled(subscribed).await {
            None => return,
            Some(Ok(pubsub)) => pubsub,
            Some(Err(err)) => {
                tracing::debug!(error = %err, %channel, "mailbox not subscribed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        let (mut sink, mut stream) = pubsub.split();
        let mut ping = tokio::time::interval(Duration::from_secs(5));
        ping.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                message = stream.next() => match message {
                    Some(message) => {
                        let payload = message.get_payload_bytes().to_vec();
                        match inbox.try_send(payload) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                tracing::warn!(%channel, "mailbox full: a message was dropped");
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => return,
                        }
                    }
                    None => break,
                },
                _ = ping.tick() => {
                    if within(redis.timeout(), sink.ping::<::redis::Value>()).await.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::warn!(%channel, "mailbox connection lost; reconnecting");
    }
}
