//! The writer half of a connection: drains the bounded queue into the socket, pings the
//! client every [`PING_EVERY`], and closes the socket with the connection's [`CloseReason`]
//! when it must go: 1013 when the client is too slow to keep up, a 4xxx code when the server
//! closes it for another reason (docs/protocol.md).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{SinkExt, stream::SplitSink};
use ssgwan_realtime::{CloseReason, Connection, Outbound};
use tokio_util::sync::CancellationToken;

use super::PING_EVERY;

pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbound: Outbound,
    connection: Connection,
    done: CancellationToken,
) {
    let closing = connection.closing();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            () = done.cancelled() => break,
            () = closing.cancelled() => {
                // Say why, if the client still listens.
                send_close(&mut sink, &mut outbound, &connection).await;
                break;
            }
            frame = outbound.recv() => match frame {
                Some(frame) => Message::Text(Utf8Bytes::from(&*frame)),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        // A send blocks when the client stops reading; its queue then overflows and the slow
        // flag fires, which must win over the blocked send. Any other close lets the send
        // finish (within a second) and then flushes the queue.
        let sent = {
            let send = sink.send(message);
            tokio::pin!(send);
            tokio::select! {
                sent = &mut send => sent.is_ok(),
                () = closing.cancelled() => {
                    connection.close_reason() != Some(CloseReason::TOO_SLOW)
                        && matches!(
                            tokio::time::timeout(Duration::from_secs(1), &mut send).await,
                            Ok(Ok(()))
                        )
                }
                () = tokio::time::sleep(Duration::from_secs(10)) => {
                    metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
                    false
                }
            }
        };
        if !sent {
            if closing.is_cancelled() {
                count_close(&connection);
            }
            break;
        }
    }
    done.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

fn count_close(connection: &Connection) {
    match connection.close_reason() {
        Some(reason) if reason == CloseReason::TOO_SLOW => {
            metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
        }
        Some(reason) => {
            metrics::counter!("ssgwan_ws_closed_total", "code" => reason.code.to_string())
                .increment(1);
        }
        None => {}
    }
}

/// Sends the close frame; unless the client is too slow, first what is still queued (at most
/// the queue's byte budget, within a second): the frames that explain the close (the refusals
/// before a flood is closed, a `left` frame).
async fn send_close(
    sink: &mut SplitSink<WebSocket, Message>,
    outbound: &mut Outbound,
    connection: &Connection,
) {
    count_close(connection);
    let reason = connection.close_reason().unwrap_or(CloseReason::TOO_SLOW);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        if reason != CloseReason::TOO_SLOW {
            while let Ok(frame) = outbound.try_recv() {
                if sink
                    .send(Message::Text(Utf8Bytes::from(&*frame)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        let _ = sink.send(close_message(reason)).await;
    })
    .await;
}

/// The close frame for `reason`.
pub(super) fn close_message(reason: CloseReason) -> Message {
    Message::Close(Some(CloseFrame {
        code: reason.code,
        reason: Utf8Bytes::from_static(reason.reason),
    }))
}
