//! Accepting and keeping HTTP connections, with the limits `axum::serve` does not have: a
//! connection must send a complete request head within the header timeout, a keep-alive
//! connection with nothing in flight is closed after the idle timeout, and at most
//! `max_connections` sockets are open at once (over the cap new connections are not accepted:
//! they wait in the kernel's listen backlog until one closes, so a flood of silent sockets
//! can never use up the file handles `/healthz`, the database and the uploads need).
//!
//! A permit of the cap travels with the socket, so an upgraded WebSocket keeps counting
//! until it closes. On shutdown the listener is closed, every connection is asked to finish
//! gracefully (in-flight requests complete), and [`serve`] returns once all have.

use std::{
    convert::Infallible,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, HttpBody},
    extract::Request,
    response::Response,
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::{Service, ServiceExt};

/// The connection limits (see the module comment and docs/operations.md).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From accept to a complete first request head.
    pub header_timeout: Duration,
    /// From the end of the last response to the next request, with nothing in flight.
    pub idle_timeout: Duration,
    /// Open sockets at most (WebSockets included).
    pub max_connections: usize,
}

/// How long a connection asked to close with nothing in flight may take before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` resolves, then drains the connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let cap = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.idle_timeout / 2)
        .keep_alive_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_full = false;
    loop {
        let permit = match cap.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection cap reached; new connections wait until one closes"
                    );
                    warned_full = true;
                }
                tokio::select! {
                    permit = cap.clone().acquire_owned() => permit.expect("the cap is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if cap.available_permits() > limits.max_connections / 10 {
            warned_full = false;
        }
        let service = make_service
            .call(remote)
            .await
            .unwrap_or_else(|never: Infallible| match never {});
        connections.spawn(serve_connection(
            builder.clone(),
            Counted {
                stream,
                _permit: permit,
            },
            service,
            limits,
            stop.clone(),
        ));
    }
    drop(listener);
    stop.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Like `axum::serve`: a full file table (`EMFILE`) may free up, so wait a moment and retry.
async fn accept_failed(err: io::Error) {
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One connection: hyper serves it while a watchdog closes it when it is silent too long.
async fn serve_connection<S>(
    builder: Arc<Builder<TokioExecutor>>,
    io: Counted,
    service: S,
    limits: ConnectionLimits,
    stop: CancellationToken,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let activity = Arc::new(Activity::new());
    let tracked = Tracked {
        inner: service,
        activity: activity.clone(),
    };
    let service =
        TowerToHyperService::new(tracked.map_request(|req: Request<Incoming>| req.map(Body::new)));
    let mut conn =
        std::pin::pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
    let mut deadline = Instant::now() + limits.header_timeout;
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::trace!(error = %err, "connection ended with an error");
                }
                return;
            }
            () = stop.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
                deadline = Instant::now() + CLOSE_GRACE;
            }
            () = tokio::time::sleep_until(deadline) => {
                match activity.quiet_until(limits) {
                    // Busy: look again later (the request timeout bounds the handlers).
                    None => deadline = Instant::now() + limits.header_timeout,
                    // Asked to close, nothing in flight, and still open: drop it.
                    Some(_) if closing => return,
                    Some(until) if until > Instant::now() => deadline = until,
                    Some(_) => {
                        tracing::debug!("closing a silent connection");
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                        deadline = Instant::now() + CLOSE_GRACE;
                    }
                }
            }
        }
    }
}

/// What a connection is doing: requests in flight (until their response body has been
/// sent), whether it has had one, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    /// `None` until the first request; then when the last response finished.
    last_done: Mutex<Option<Instant>>,
    accepted: Instant,
}

impl Activity {
    fn new() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            last_done: Mutex::new(None),
            accepted: Instant::now(),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let mut last = self.last_done.lock().unwrap_or_else(|e| e.into_inner());
        last.get_or_insert_with(Instant::now);
        InFlight(self.clone())
    }

    /// When the connection may be closed if nothing happens first; `None` while busy.
    fn quiet_until(&self, limits: ConnectionLimits) -> Option<Instant> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let last = *self.last_done.lock().unwrap_or_else(|e| e.into_inner());
        Some(match last {
            None => self.accepted + limits.header_timeout,
            Some(done) => done + limits.idle_timeout,
        })
    }
}

/// One request in flight; dropped with its response body (or the request's future).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last_done.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The service with each request counted in flight until its response body is done.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Service<Request> for Tracked<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let guard = self.activity.begin();
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| {
                Body::new(GuardedBody {
                    body,
                    _guard: guard,
                })
            }))
        })
    }
}

/// A response body that keeps its request in flight until it is sent or dropped.
struct GuardedBody {
    body: Body,
    _guard: InFlight,
}

impl HttpBody for GuardedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A socket holding its place under the connection cap for as long as it is open (through a
/// WebSocket upgrade too).
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Raises the soft limit of open files to the hard limit (as Go and nginx setups do) and
/// returns the limit now in force, or `None` where it cannot be read.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
            && current < maximum
            && setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(maximum),
                    maximum: Some(maximum),
                },
            )
            .is_ok()
        {
            return Some(maximum);
        }
        // `None` means unlimited.
        Some(limit.current.unwrap_or(u64::MAX))
    }
    #[cfg(not(unix))]
    {
        None
    }
}
