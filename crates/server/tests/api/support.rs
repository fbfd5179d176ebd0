//! `spawn_app()`: the real server on 127.0.0.1:0 with a fresh SQLite database in a temporary
//! directory and a manual clock, plus a small typed client.

use std::sync::Arc;

use clap::Parser;
use jiff::Timestamp;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use ssgwan_domain::ManualClock;
use ssgwan_server::{
    attendance::Attendance,
    completion::CompletionJob,
    config::{Cli, Command, ServeArgs},
    reminders::ReminderJob,
    sweep::FileSweep,
};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// 2026-03-02 00:00 UTC: a Monday, 09:00 in Seoul.
pub const EPOCH: &str = "2026-03-02T00:00:00Z";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    /// The attendance actor: `settled()` once the frames that reach it have been handled.
    pub attendance: Attendance,
    /// The completion job: `run_now()` for a settling pass the test can wait for.
    pub completion: CompletionJob,
    /// The reminder job: `run_now()` for a pass after moving the clock.
    pub reminders: ReminderJob,
    /// The file sweep: `run_now()` for a pass the test can wait for.
    pub file_sweep: FileSweep,
    /// The media server (`None` with `--media off`): `snapshot()` of this server alone.
    pub media: Option<ssgwan_media::MediaServer>,
    /// Holds the temporary data directory for the lifetime of the test.
    pub _dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Serve arguments as the command line would give them, for a test server.
pub fn test_args(dir: &TempDir, extra: &[&str]) -> ServeArgs {
    let data_dir = dir.path().to_str().expect("utf-8 temp dir").to_owned();
    let mut argv = vec![
        "ssgwan",
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--web-dir",
        "/nonexistent",
        "--log-format",
        "pretty",
    ];
    // Attendance and completion run on short real-time ticks; the manual clock decides the time.
    // (A test that must not see background queries passes its own --completion-interval-ms.)
    argv.extend_from_slice(&["--attendance-tick-ms", "50"]);
    if !extra.contains(&"--completion-interval-ms") {
        argv.extend_from_slice(&["--completion-interval-ms", "100"]);
    }
    // Tests sign in dozens of users from one address; limits have their own test.
    if !extra.contains(&"--rate-limit-per-second") {
        argv.extend_from_slice(&["--rate-limit-per-second", "0"]);
    }
    // Tests create challenges by the dozen from one user; the daily limit has its own test.
    if !extra.contains(&"--challenge-daily-limit") {
        argv.extend_from_slice(&["--challenge-daily-limit", "0"]);
    }
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv)
        .expect("valid test arguments")
        .command
    {
        Command::Serve(args) => *args,
        Command::Migrate(_) | Command::Seed(_) | Command::Admin(_) => {
            unreachable!("serve was asked for")
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&["--dev-login"]).await
}

pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = test_args(&dir, extra);
    spawn_app_from(dir, args).await
}

pub async fn spawn_app_from(dir: TempDir, args: ServeArgs) -> TestApp {
    spawn_app_at(dir, args, EPOCH).await
}

/// Starts the server with its clock already at `instant` (for what happens at start).
pub async fn spawn_app_at(dir: TempDir, args: ServeArgs, instant: &str) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let clock = Arc::new(ManualClock::new(
        instant.parse::<Timestamp>().expect("instant"),
    ));
    // Built: the store is migrated and the background tasks run; the listener is bound.
    let built = ssgwan_server::build(&args, clock.clone())
        .await
        .expect("test server builds");
    let attendance = built.attendance();
    let completion = built.completion();
    let reminders = built.reminders();
    let file_sweep = built.file_sweep();
    let media = built.media();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(built.serve(listener, async move {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let app = TestApp {
        base,
        client,
        clock,
        attendance,
        completion,
        reminders,
        file_sweep,
        media,
        _dir: dir,
        shutdown: Some(tx),
        server: Some(server),
    };
    // Nothing left to wait for: the bound listener queues connections until serve accepts.
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "test server not ready: {body}");
    app
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a JSON request as `token` (or anonymously) and returns status and parsed body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        read(response).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// `ssgwan_db_queries_total` from `/metrics`: the statements the store has sent so far.
    pub async fn db_queries(&self) -> u64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|line| line.strip_prefix("ssgwan_db_queries_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v as u64)
            .unwrap_or_else(|| panic!("no ssgwan_db_queries_total in {text}"))
    }

    /// [`Self::db_queries`] once background work has gone quiet (the count unchanged for
    /// 300 ms), so that what a request set off in the background is counted with it.
    pub async fn settled_db_queries(&self) -> u64 {
        let mut last = self.db_queries().await;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let now = self.db_queries().await;
            if now == last {
                return now;
            }
            last = now;
        }
    }

    /// Signs in with the development login and returns the bearer token.
    pub async fn login(&self, nickname: &str) -> String {
        let (status, body) = self
            .post("/api/auth/dev-login", None, json!({ "nickname": nickname }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates a challenge from `valid_challenge()` with `overrides` applied; returns its id.
    pub async fn create_challenge(&self, token: &str, overrides: Value) -> i64 {
        let (status, body) = self
            .post(
                "/api/challenges",
                Some(token),
                merge(valid_challenge(), overrides),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("id")
    }

    pub fn set_now(&self, instant: &str) {
        self.clock.set(instant.parse().expect("instant"));
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A challenge that validates at [`EPOCH`]: two weeks from 2026-03-09, 06:00–07:00 Seoul.
pub fn valid_challenge() -> Value {
    json!({
        "title": "새벽 공부 Morning Study",
        "description": "매일 아침 한 시간 집중",
        "category": "STUDY",
        "capacity": 10,
        "startDate": "2026-03-09",
        "endDate": "2026-03-22",
        "daysOfWeek": ["MON", "TUE", "WED", "THU", "FRI"],
        "sessionStart": "06:00",
        "sessionEnd": "07:00",
        "timezone": "Asia/Seoul",
        "minMinutes": 30,
        "successRate": 80
    })
}

/// `base` with the keys of `overrides` replaced (a `null` override removes the key).
pub fn merge(mut base: Value, overrides: Value) -> Value {
    if let (Some(map), Some(over)) = (base.as_object_mut(), overrides.as_object()) {
        for (k, v) in over {
            if v.is_null() {
                map.remove(k);
            } else {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

/// Asserts an error response: status, code and (when given) the field.
#[track_caller]
pub fn assert_error(
    actual: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let (s, body) = actual;
    assert_eq!(*s, status, "status for {body}");
    assert_eq!(body["code"], code, "code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    if let Some(field) = field {
        assert_eq!(body["field"], field, "field in {body}");
    }
}

/// A WebSocket client for `/api/ws`, signed in with a bearer token.
pub struct Ws {
    pub stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// Frames read while looking for another kind, kept for later reads.
    backlog: std::collections::VecDeque<Value>,
}

impl TestApp {
    pub async fn ws(&self, token: &str) -> Ws {
        connect_ws(&self.base, token).await
    }

    /// Stops the server and hands back its data directory (for restarts on the same database).
    pub fn stop(mut self) -> TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.take_dir()
    }

    /// Stops the server as a signal would (sockets closed, background tasks finished and
    /// awaited), returns once `serve` has returned, and hands back the data directory.
    pub async fn shut_down(mut self) -> TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        self.take_dir()
    }

    fn take_dir(&mut self) -> TempDir {
        std::mem::replace(
            &mut self._dir,
            tempfile::tempdir().expect("placeholder dir"),
        )
    }
}

/// Opens `/api/ws` on the server at `base` (http://…) as the holder of `token`.
pub async fn connect_ws(base: &str, token: &str) -> Ws {
    connect_ws_with(base, token, &[]).await
}

/// [`connect_ws`] with extra request headers (e.g. `X-Forwarded-For`).
pub async fn connect_ws_with(base: &str, token: &str, headers: &[(&'static str, String)]) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/api/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, value.parse().expect("header value"));
    }
    let (stream, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    Ws {
        stream,
        backlog: Default::default(),
    }
}

impl Ws {
    pub fn from_stream(
        stream: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    ) -> Ws {
        Ws {
            stream,
            backlog: Default::default(),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        use futures::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                frame.to_string().into(),
            ))
            .await
            .expect("frame sent");
    }

    pub async fn send_text(&mut self, text: String) {
        use futures::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .expect("frame sent");
    }

    /// The next JSON frame (within 5 s).
    pub async fn next(&mut self) -> Value {
        self.try_next(std::time::Duration::from_secs(5))
            .await
            .expect("a frame within 5 s")
    }

    pub async fn try_next(&mut self, within: std::time::Duration) -> Option<Value> {
        if let Some(frame) = self.backlog.pop_front() {
            return Some(frame);
        }
        self.read(within).await
    }

    /// The next frame from the socket itself (not the backlog).
    async fn read(&mut self, within: std::time::Duration) -> Option<Value> {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                return Some(serde_json::from_str(&text).expect("server frames are JSON"));
            }
        }
    }

    /// The next frame of `kind` (within 15 s: a liveness bound, generous because the suite's
    /// load tests share the two cores); frames of other kinds stay in the backlog.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        if let Some(at) = self.backlog.iter().position(|f| f["type"] == kind) {
            return self.backlog.remove(at).expect("position is in range");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let frame = self.read(left).await.unwrap_or_else(|| {
                panic!("no {kind} frame within 15 s; backlog: {:?}", self.backlog)
            });
            if frame["type"] == kind {
                return frame;
            }
            self.backlog.push_back(frame);
        }
    }

    /// Asserts that no frame of `kind` arrives within `within`.
    pub async fn expect_none_of(&mut self, kind: &str, within: std::time::Duration) {
        if let Some(frame) = self.backlog.iter().find(|f| f["type"] == kind) {
            panic!("unexpected {kind} frame: {frame}");
        }
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.read(left).await {
                Some(frame) if frame["type"] == kind => panic!("unexpected {kind} frame: {frame}"),
                Some(frame) => self.backlog.push_back(frame),
                None => return,
            }
        }
    }

    /// Joins a room and returns the `joined` frame.
    pub async fn join(&mut self, room: i64, since: Option<i64>) -> Value {
        let mut frame = json!({ "type": "join", "room": room });
        if let Some(since) = since {
            frame["since"] = json!(since);
        }
        self.send(frame).await;
        self.next_of("joined").await
    }

    /// Reads (and drops) frames until the server closes the connection, within `within`;
    /// the close code it gave, or `None` when it closed without one (or did not close).
    pub async fn close_code(&mut self, within: std::time::Duration) -> Option<u16> {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code.into()),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) | Err(_) => return None,
            }
        }
    }

    /// Sends ping and expects pong: the connection is alive and in order.
    pub async fn assert_alive(&mut self) {
        self.send(json!({ "type": "ping" })).await;
        self.next_of("pong").await;
    }
}

/// Live video in tests: a real WebRTC client ([`TestPeer`], from the media crate) publishing
/// synthetic VP8 over UDP to the server's media server, negotiated over the socket.
pub use ssgwan_media::testing::{TestPeer, VideoSpec};

/// The server's `rtcOffer` frame as the media crate's [`ssgwan_media::Offer`].
pub fn offer_of(frame: &Value) -> ssgwan_media::Offer {
    let text = |v: &Value| v.as_str().expect("a string").to_owned();
    ssgwan_media::Offer {
        revision: frame["revision"].as_u64().expect("revision"),
        sdp: text(&frame["sdp"]),
        publish: ssgwan_media::PublishMids {
            video: text(&frame["publish"]["video"]),
            audio: text(&frame["publish"]["audio"]),
        },
        tracks: frame["tracks"]
            .as_array()
            .expect("tracks")
            .iter()
            .map(|t| ssgwan_media::TrackInfo {
                mid: text(&t["mid"]),
                user: t["user"].as_i64().expect("user"),
                kind: match t["kind"].as_str() {
                    Some("video") => ssgwan_media::TrackKind::Video,
                    Some("audio") => ssgwan_media::TrackKind::Audio,
                    other => panic!("track kind {other:?}"),
                },
            })
            .collect(),
    }
}

impl Ws {
    /// The next `rtcOffer` for `room`.
    pub async fn next_offer(&mut self, room: i64) -> ssgwan_media::Offer {
        loop {
            let frame = self.next_of("rtcOffer").await;
            if frame["room"] == room {
                return offer_of(&frame);
            }
        }
    }

    /// Starts this tab's media session in `room` with a new [`TestPeer`] that answers the first
    /// offer and connects (ICE and DTLS up); it publishes nothing yet.
    pub async fn start_media(&mut self, room: i64) -> TestPeer {
        self.send(json!({ "type": "rtcStart", "room": room })).await;
        let offer = self.next_offer(room).await;
        let (peer, answer) = TestPeer::connect(&offer)
            .await
            .expect("the test peer answers the server's offer");
        self.send(
            json!({ "type": "rtcAnswer", "room": room, "revision": offer.revision, "sdp": answer }),
        )
        .await;
        assert!(
            peer.wait_connected(std::time::Duration::from_secs(10))
                .await,
            "the test peer connected to the media server"
        );
        peer
    }

    /// Answers the next offer for `room` with `peer` (a renegotiation).
    pub async fn answer_next_offer(&mut self, room: i64, peer: &TestPeer) -> ssgwan_media::Offer {
        let offer = self.next_offer(room).await;
        let answer = peer
            .accept(&offer)
            .await
            .expect("the test peer answers the renegotiation");
        self.send(
            json!({ "type": "rtcAnswer", "room": room, "revision": offer.revision, "sdp": answer }),
        )
        .await;
        offer
    }

    /// Answers the `rtcOffer`s for `room` with `peer` until `done` holds (checked every 50 ms
    /// or after each frame) or `within` passes: whether it held. Other frames stay for later.
    pub async fn answer_offers_until(
        &mut self,
        room: i64,
        peer: &TestPeer,
        within: std::time::Duration,
        mut done: impl FnMut() -> bool,
    ) -> bool {
        let deadline = std::time::Instant::now() + within;
        while !done() {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            let at = self
                .backlog
                .iter()
                .position(|f| f["type"] == "rtcOffer" && f["room"] == room);
            let frame = match at {
                Some(at) => self.backlog.remove(at),
                None => self.read(std::time::Duration::from_millis(50)).await,
            };
            let Some(frame) = frame else { continue };
            if frame["type"] != "rtcOffer" || frame["room"] != room {
                self.backlog.push_back(frame);
                continue;
            }
            let offer = offer_of(&frame);
            let answer = peer.accept(&offer).await.expect("the peer answers");
            self.send(
                json!({ "type": "rtcAnswer", "room": room, "revision": offer.revision, "sdp": answer }),
            )
            .await;
        }
        true
    }

    /// Asserts that `peer` receives nothing more on any m-line (a change that stops what it
    /// receives), answering the offers the change brings: what was in flight settles for
    /// 700 ms, then nothing arrives for a second. `what` names what must stop.
    pub async fn receives_nothing_more(&mut self, room: i64, peer: &TestPeer, what: &str) {
        let total = || -> u64 { peer.received_all().values().map(|r| r.frames).sum() };
        self.answer_offers_until(room, peer, std::time::Duration::from_millis(700), || false)
            .await;
        let before = total();
        self.answer_offers_until(room, peer, std::time::Duration::from_secs(1), || false)
            .await;
        assert_eq!(total(), before, "{what} still arrives");
    }

    /// Shows `user`'s video on this tab: sends the view, answers the offers that come, and
    /// returns once `peer` has received frames of it (within 15 s).
    pub async fn sees_video_of(&mut self, room: i64, peer: &TestPeer, user: i64) {
        self.send(
            json!({ "type": "rtcView", "room": room, "tiles": [{ "user": user, "size": "large" }] }),
        )
        .await;
        // Frames counted on the m-line that carries the user now (a recycled m-line counts
        // from before), and then fresh ones on top: the video flows now.
        let mut base = None;
        let seen = self
            .answer_offers_until(room, peer, std::time::Duration::from_secs(15), || {
                let frames = peer.received_video_from(user).frames;
                match base {
                    None if frames > 0 => {
                        base = Some(frames);
                        false
                    }
                    None => false,
                    Some(base) => frames >= base + 5,
                }
            })
            .await;
        assert!(seen, "no video from user {user} within 15 s");
    }

    /// Drops the `camera` frames for `room` read so far: they tell of states before what the
    /// test does next (the user's other tabs' sessions included).
    pub fn forget_camera(&mut self, room: i64) {
        self.backlog
            .retain(|f| !(f["type"] == "camera" && f["room"] == room));
    }

    /// The next `camera` frame for `room` whose `verified` is `verified`. Earlier `camera`
    /// frames of the room are dropped (the verdict settles within the media server's window
    /// and grace); other frames, other rooms' included, stay for later reads.
    pub async fn camera_verdict(&mut self, room: i64, verified: bool) -> Value {
        let of_room = |f: &Value| f["type"] == "camera" && f["room"] == room;
        while let Some(at) = self.backlog.iter().position(of_room) {
            let frame = self.backlog.remove(at).expect("position is in range");
            if frame["verified"] == verified {
                return frame;
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let frame = self.read(left).await.unwrap_or_else(|| {
                panic!("no camera frame for room {room} with verified {verified} within 15 s")
            });
            if !of_room(&frame) {
                self.backlog.push_back(frame);
            } else if frame["verified"] == verified {
                return frame;
            }
        }
    }

    /// Publishes live video in `room` through a new [`TestPeer`] and returns once the server
    /// verified it (`camera {verified: true}`): from then on attendance counts.
    pub async fn go_on_camera(&mut self, room: i64) -> TestPeer {
        self.forget_camera(room);
        let peer = self.start_media(room).await;
        peer.publish_video(VideoSpec::live_camera());
        self.camera_verdict(room, true).await;
        peer
    }

    /// Stops `peer`'s video and returns once the server no longer verifies it (after the media
    /// server's grace): from then on attendance stops.
    pub async fn go_off_camera(&mut self, room: i64, peer: &TestPeer) -> Value {
        self.forget_camera(room);
        peer.stop_video();
        self.camera_verdict(room, false).await
    }
}

impl TestApp {
    /// [`Ws::go_on_camera`], then waits until the attendance tracker counts from the clock's
    /// current instant.
    pub async fn go_on_camera(&self, ws: &mut Ws, room: i64) -> TestPeer {
        let peer = ws.go_on_camera(room).await;
        self.attendance.settled().await;
        peer
    }

    /// Publishes live video in a second tab of a user whose first tab is verified already, and
    /// returns once this tab's video is verified too. (The `camera` frame tells the user's
    /// state, verified in either tab, so it cannot say when; the media server's count of
    /// verified publishers does.)
    pub async fn go_on_camera_in_another_tab(&self, ws: &mut Ws, room: i64) -> TestPeer {
        let media = self.media.as_ref().expect("a media server");
        let before = media.snapshot().verified_publishers;
        let peer = ws.start_media(room).await;
        peer.publish_video(VideoSpec::live_camera());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while media.snapshot().verified_publishers <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "the second tab's video was not verified within 15 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // The verdict is queued for the tab's task before the count is read, and the task
        // handles what is queued before the next frame: after this round trip it has told the
        // attendance tracker.
        ws.assert_alive().await;
        self.attendance.settled().await;
        peer
    }

    /// [`Ws::go_off_camera`], then waits until the attendance tracker stopped counting at the
    /// clock's current instant.
    pub async fn go_off_camera(&self, ws: &mut Ws, room: i64, peer: &TestPeer) {
        ws.go_off_camera(room, peer).await;
        self.attendance.settled().await;
    }

    /// One line of `/metrics`' value for `name`.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text");
        metric_value(&text, name)
    }
}

/// The value of the unlabelled line `name` in a Prometheus text exposition.
pub fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}
