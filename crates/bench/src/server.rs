//! The `ssgwan serve` under test: started on a throwaway SQLite database (rate limits off, dev
//! login on) and stopped when dropped, with what the scenarios need to drive it (sign-in,
//! challenge bodies, dates in Seoul).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};
use futures::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

/// A WebSocket to the server.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The server under test, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_server(binary: &PathBuf, extra: &[&str]) -> anyhow::Result<Server> {
    start_server_in(binary, tempfile::tempdir()?, extra).await
}

pub async fn start_server_in(
    binary: &PathBuf,
    dir: tempfile::TempDir,
    extra: &[&str],
) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(binary)
        .args([
            "serve",
            "--dev-login",
            "--rate-limit-per-second",
            "0",
            // Load tests open thousands of sockets from one address, as fast as they can.
            "--ws-sockets-per-address",
            "0",
            "--ws-sockets-per-user",
            "0",
            "--ws-frames-per-second",
            "0",
            "--challenge-daily-limit",
            "0",
            "--web-dir",
            "/nonexistent",
            // Media on free ports: the default (the HTTP port over UDP, and the next TCP port)
            // could collide with another node of a cluster scenario.
            "--media-udp-addr",
            "127.0.0.1:0",
            "--media-tcp-addr",
            "127.0.0.1:0",
            "--addr",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let base = format!("http://127.0.0.1:{port}");
    let db = dir.path().join("ssgwan.db");
    let server = Server {
        child,
        base,
        _dir: dir,
        db,
    };
    let client = Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("server did not become ready")
}

pub async fn login(client: &Client, base: &str, nickname: &str) -> anyhow::Result<String> {
    let body: Value = client
        .post(format!("{base}/api/auth/dev-login"))
        .json(&json!({ "nickname": nickname }))
        .send()
        .await?
        .json()
        .await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .context("no token")
}

const CATEGORIES: [&str; 6] = ["STUDY", "WORKOUT", "MORNING", "READING", "HOBBY", "ETC"];

/// The words challenge titles and descriptions are made of (and searched for).
pub const WORDS: [&str; 12] = [
    "새벽",
    "독서",
    "러닝",
    "코딩",
    "영어",
    "명상",
    "스트레칭",
    "요가",
    "Study",
    "Focus",
    "Piano",
    "Drawing",
];

pub fn challenge_body(i: usize, capacity: i64) -> Value {
    json!({
        "title": format!("{} {} 챌린지 #{i}", WORDS[i % WORDS.len()], WORDS[(i / 12) % WORDS.len()]),
        "description": format!("{} 함께 해요. Session {}", WORDS[(i * 7) % WORDS.len()], i),
        "category": CATEGORIES[i % CATEGORIES.len()],
        "capacity": capacity,
        "startDate": start_date(),
        "endDate": start_date(),
        "sessionStart": "06:00",
        "sessionEnd": "07:00",
        "minMinutes": 30,
    })
}

/// A start date a few days ahead of today in Seoul, so every challenge is recruiting.
pub fn start_date() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
        + 3;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today in Seoul and a session window around now (from this minute, 30 minutes long), or
/// `None` when that would cross midnight.
pub fn session_happening_now() -> Option<(String, String, String)> {
    let local =
        jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Seoul").ok()?);
    let start = i32::from(local.hour()) * 60 + i32::from(local.minute());
    let end = start + 30;
    (end < 24 * 60).then(|| {
        (
            local.date().to_string(),
            format!("{:02}:{:02}", start / 60, start % 60),
            format!("{:02}:{:02}", end / 60, end % 60),
        )
    })
}

/// Opens the server's WebSocket at `base` signed in with `token`.
pub async fn connect(base: &str, token: &str) -> anyhow::Result<Socket> {
    let url = format!("{}/api/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// Reads until a frame of `kind` arrives, each frame within `patience`.
pub async fn until(socket: &mut Socket, kind: &str, patience: Duration) -> anyhow::Result<Value> {
    loop {
        let message = tokio::time::timeout(patience, socket.next())
            .await?
            .context("closed")??;
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text)?;
            if frame["type"] == kind {
                return Ok(frame);
            }
        }
    }
}

/// Starts `socket`'s media session in `room` and publishes live (synthetic VP8) video through a
/// [`ssgwan_media::testing::TestPeer`]: attendance counts only the video the server's media
/// server verifies. Frames before the offer are dropped. Keep the peer as long as the video
/// should count.
pub async fn go_on_camera(
    socket: &mut Socket,
    room: i64,
) -> anyhow::Result<ssgwan_media::testing::TestPeer> {
    use futures::SinkExt;
    let text = |frame: serde_json::Value| Message::Text(frame.to_string().into());
    socket
        .send(text(
            serde_json::json!({ "type": "rtcStart", "room": room }),
        ))
        .await?;
    let frame = until(socket, "rtcOffer", Duration::from_secs(15)).await?;
    let string = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .context("a string in rtcOffer")
    };
    let mut tracks = Vec::new();
    for track in frame["tracks"].as_array().context("tracks")? {
        tracks.push(ssgwan_media::TrackInfo {
            mid: string(&track["mid"])?,
            user: track["user"].as_i64().context("user")?,
            kind: if track["kind"] == "audio" {
                ssgwan_media::TrackKind::Audio
            } else {
                ssgwan_media::TrackKind::Video
            },
        });
    }
    let offer = ssgwan_media::Offer {
        revision: frame["revision"].as_u64().context("revision")?,
        sdp: string(&frame["sdp"])?,
        publish: ssgwan_media::PublishMids {
            video: string(&frame["publish"]["video"])?,
            audio: string(&frame["publish"]["audio"])?,
        },
        tracks,
    };
    let (peer, answer) = ssgwan_media::testing::TestPeer::connect(&offer)
        .await
        .map_err(|e| anyhow::anyhow!("test peer: {e}"))?;
    socket
        .send(text(serde_json::json!({
            "type": "rtcAnswer", "room": room, "revision": offer.revision, "sdp": answer
        })))
        .await?;
    peer.publish_video(ssgwan_media::testing::VideoSpec::live_camera());
    Ok(peer)
}
