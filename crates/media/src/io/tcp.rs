//! ICE over TCP, passive (RFC 6544), framed per RFC 4571 (a 16-bit length before each packet).
//!
//! A connection is bound to a peer by its first frame: a STUN binding request whose username
//! carries the peer's local fragment (the demultiplexer resolves it). After that every frame of
//! the connection goes to that peer's room actor, and the actor's packets for the connection's
//! address go back through it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{NetInput, RouteChange, stun};
use crate::stats::Stats;

/// A connection must present its STUN request this soon.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `stopping` is cancelled.
pub async fn listen(
    listener: TcpListener,
    routes: mpsc::UnboundedSender<RouteChange>,
    stats: Arc<Stats>,
    stopping: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stopping.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, source)) => {
                    let _ = stream.set_nodelay(true);
                    let routes = routes.clone();
                    let stats = stats.clone();
                    let stopping = stopping.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = stopping.cancelled() => {}
                            () = connection(stream, source, routes, stats) => {}
                        }
                    });
                }
                Err(e) => {
                    tracing::debug!(error = %e, "media TCP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn read_frame(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<Vec<u8>> {
    let len = stream.read_u16().await.ok()?;
    let mut frame = vec![0u8; usize::from(len)];
    stream.read_exact(&mut frame).await.ok()?;
    Some(frame)
}

async fn connection(
    stream: TcpStream,
    source: SocketAddr,
    routes: mpsc::UnboundedSender<RouteChange>,
    stats: Arc<Stats>,
) {
    let (mut reader, mut writer) = stream.into_split();
    let Ok(Some(first)) = tokio::time::timeout(FIRST_FRAME_TIMEOUT, read_frame(&mut reader)).await
    else {
        return;
    };
    let Some(ufrag) = stun::local_ufrag(&first) else {
        stats.datagram_dropped();
        return;
    };
    let (reply, route) = oneshot::channel();
    let resolve = RouteChange::Resolve {
        ufrag: ufrag.to_owned(),
        reply,
    };
    if routes.send(resolve).is_err() {
        return;
    }
    let Ok(Some(route)) = route.await else {
        stats.datagram_dropped();
        return;
    };
    let (out, mut outgoing) = mpsc::channel::<Vec<u8>>(512);
    let attached = NetInput::TcpAttached {
        peer: route.peer,
        source,
        out,
    };
    if route.to_room.send(attached).await.is_err() {
        return;
    }
    let write = async move {
        while let Some(packet) = outgoing.recv().await {
            let Ok(len) = u16::try_from(packet.len()) else {
                continue;
            };
            if writer.write_u16(len).await.is_err() || writer.write_all(&packet).await.is_err() {
                return;
            }
        }
    };
    let read = async move {
        let mut next = Some(first);
        while let Some(data) = next.take() {
            let input = NetInput::Datagram {
                peer: route.peer,
                source,
                tcp: true,
                data,
            };
            if route.to_room.try_send(input).is_err() {
                stats.datagram_dropped();
            }
            next = read_frame(&mut reader).await;
        }
    };
    // The connection ends when either direction ends (the room dropped its sender, or EOF).
    tokio::select! {
        () = write => {}
        () = read => {}
    }
}
