//! The writer half of a connection: drains the bounded queue into the socket, pings the
//! client every [`PING_EVERY`], and closes the socket with 1013 when the client is too slow to
//! keep up.

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{SinkExt, stream::SplitSink};
use tokio_util::sync::CancellationToken;

use super::PING_EVERY;

pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbound: tokio::sync::mpsc::Receiver<Arc<str>>,
    slow: CancellationToken,
    done: CancellationToken,
) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            () = done.cancelled() => break,
            () = slow.cancelled() => {
                // The client fell behind while we were idle: say why, if it still listens.
                close_slow(&mut sink).await;
                break;
            }
            frame = outbound.recv() => match frame {
                Some(frame) => Message::Text(Utf8Bytes::from(&*frame)),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        // A send blocks when the client stops reading; its queue then overflows and the slow
        // flag fires, which must win over the blocked send.
        let sent = tokio::select! {
            sent = sink.send(message) => sent.is_ok(),
            () = slow.cancelled() => {
                metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
                false
            }
            () = tokio::time::sleep(Duration::from_secs(10)) => {
                metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
                false
            }
        };
        if !sent {
            break;
        }
    }
    done.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

async fn close_slow(sink: &mut SplitSink<WebSocket, Message>) {
    metrics::counter!("ssgwan_ws_closed_slow_total").increment(1);
    let close = CloseFrame {
        code: 1013,
        reason: Utf8Bytes::from_static("too slow: messages were piling up"),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        sink.send(Message::Close(Some(close))),
    )
    .await;
}
