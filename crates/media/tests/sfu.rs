//! The media server for real: str0m test peers on 127.0.0.1 with real ICE, DTLS and SRTP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ssgwan_media::testing::{ChannelSink, Received, TestPeer, VideoSpec};
use ssgwan_media::{
    CloseReason, MediaConfig, MediaServer, Offer, PeerEvent, PeerId, PresenceRules, Refusal, Tile,
    TileSize, TrackKind, Unverified, UserId,
};
use tokio_util::sync::CancellationToken;

const ROOM: i64 = 7;
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct Server {
    media: MediaServer,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn server() -> Server {
    server_on(LOCALHOST).await
}

/// A media server bound on `bind` (port 0) that advertises 127.0.0.1.
async fn server_on(bind: IpAddr) -> Server {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let stop = CancellationToken::new();
    let config = MediaConfig {
        udp_addr: SocketAddr::new(bind, 0),
        tcp_addr: Some(SocketAddr::new(bind, 0)),
        public_ip: LOCALHOST,
        presence: PresenceRules::default(),
    };
    let media = MediaServer::start(config, stop.clone())
        .await
        .expect("the media server starts");
    Server { media, stop }
}

/// A room member: a test peer whose offers are answered automatically (unless `manual`), and
/// everything its sink received.
struct Member {
    peer_id: PeerId,
    user: UserId,
    peer: Arc<TestPeer>,
    events: Arc<Mutex<Vec<PeerEvent>>>,
}

impl Member {
    async fn join(media: &MediaServer, peer_id: PeerId, user: UserId) -> Member {
        let peer = TestPeer::new().await.expect("a test peer");
        Member::join_with(media, peer_id, user, true, peer).await
    }

    async fn join_with(
        media: &MediaServer,
        peer_id: PeerId,
        user: UserId,
        auto: bool,
        peer: TestPeer,
    ) -> Member {
        let (sink, mut rx) = ChannelSink::new();
        media.open(ROOM, peer_id, user, sink);
        let peer = Arc::new(peer);
        let events = Arc::new(Mutex::new(vec![]));
        let first = loop {
            let event = tokio::time::timeout(Duration::from_secs(15), rx.recv())
                .await
                .expect("an offer within 5 s")
                .expect("the sink stays open");
            events.lock().expect("events").push(event.clone());
            if let PeerEvent::Offer(offer) = event {
                break offer;
            }
        };
        let answer = peer.accept(&first).await.expect("the peer answers");
        media.answer(ROOM, peer_id, first.revision, answer);
        let (task_media, task_peer, task_events) = (media.clone(), peer.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                task_events.lock().expect("events").push(event.clone());
                if let PeerEvent::Offer(offer) = event
                    && auto
                    && let Ok(answer) = task_peer.accept(&offer).await
                {
                    task_media.answer(ROOM, peer_id, offer.revision, answer);
                }
            }
        });
        Member {
            peer_id,
            user,
            peer,
            events,
        }
    }

    fn events(&self) -> Vec<PeerEvent> {
        self.events.lock().expect("events").clone()
    }

    fn last_offer(&self) -> Option<Offer> {
        self.events().into_iter().rev().find_map(|e| match e {
            PeerEvent::Offer(o) => Some(o),
            _ => None,
        })
    }

    fn verdicts(&self) -> Vec<ssgwan_media::Verdict> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                PeerEvent::Verdict(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    fn last_reason(&self) -> Option<Option<Unverified>> {
        self.verdicts().last().map(|v| v.reason)
    }

    fn closed(&self) -> Vec<CloseReason> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                PeerEvent::Closed(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn view(&self, media: &MediaServer, users: &[UserId]) {
        let tiles = users
            .iter()
            .map(|&user| Tile {
                user,
                size: TileSize::Small,
            })
            .collect();
        media.view(ROOM, self.peer_id, tiles);
    }

    fn video_from(&self, user: UserId) -> Received {
        self.peer.received_video_from(user)
    }
}

async fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(check(), "timed out after {timeout:?} waiting for: {what}");
}

fn m_lines(sdp: &str) -> usize {
    sdp.lines().filter(|l| l.starts_with("m=")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_receives_the_publishers_frames_and_the_publisher_is_verified() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    assert!(a.peer.wait_connected(Duration::from_secs(15)).await);
    assert!(b.peer.wait_connected(Duration::from_secs(15)).await);
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());

    eventually(
        "B decodes A's keyframe and frames",
        Duration::from_secs(15),
        || {
            let got = b.video_from(a.user);
            got.frames >= 15 && got.keyframes >= 1
        },
    )
    .await;
    let got = b.video_from(a.user);
    assert_eq!((got.width, got.height), (Some(640), Some(480)));
    eventually("A is verified", Duration::from_secs(15), || {
        a.last_reason() == Some(None)
    })
    .await;
    let verdicts = a.verdicts();
    assert_eq!(
        verdicts[0].reason,
        Some(Unverified::NoVideo),
        "{verdicts:?}"
    );
    let verified = verdicts.last().expect("a verdict");
    assert!(verified.verified && verified.fps >= 5.0);
    assert_eq!((verified.width, verified.height), (Some(640), Some(480)));
    // B publishes nothing: still NoVideo, and A never gets its own video back.
    assert_eq!(b.last_reason(), Some(Some(Unverified::NoVideo)));
    assert_eq!(a.video_from(a.user), Received::default());
    let stats = media.snapshot();
    assert_eq!((stats.rooms, stats.peers), (1, 2));
    assert!(
        stats.packets_forwarded > 0 && stats.bytes_forwarded > 0,
        "{stats:?}"
    );
    assert!(stats.verified_publishers >= 1, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_does_not_view_the_publisher_gets_no_video() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    let c = Member::join(media, 3, 300).await;
    c.view(media, &[a.user]);
    b.view(media, &[c.user]); // someone else, who does not publish
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("C receives A", Duration::from_secs(15), || {
        c.video_from(a.user).frames >= 15
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let video_to_b: u64 = b.peer.received_all().values().map(|r| r.frames).sum();
    assert_eq!(video_to_b, 0, "B got {:?}", b.peer.received_all());
    let offer = b.last_offer().expect("B's offer");
    assert!(offer.tracks.is_empty(), "{:?}", offer.tracks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_frames_like_a_black_picture_are_not_verified() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    a.peer.publish_video(VideoSpec::tiny_frames());
    eventually(
        "A's frames are judged tiny",
        Duration::from_secs(15),
        || a.last_reason() == Some(Some(Unverified::TinyFrames)),
    )
    .await;
    assert!(
        a.verdicts().iter().all(|v| !v.verified),
        "{:?}",
        a.verdicts()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_who_stops_becomes_stalled_after_the_grace() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("A is verified", Duration::from_secs(15), || {
        a.last_reason() == Some(None)
    })
    .await;
    a.peer.stop_video();
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        a.last_reason(),
        Some(None),
        "still verified inside the grace"
    );
    eventually("A is stalled", Duration::from_secs(6), || {
        a.last_reason() == Some(Some(Unverified::Stalled))
    })
    .await;
    let after = stopped.elapsed();
    assert!(
        after >= Duration::from_secs(3),
        "stalled after only {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_of_twenty_members_leaves_the_viewers_sdp_bounded() {
    let server = server().await;
    let media = &server.media;
    let b = Member::join(media, 1, 1).await;
    let mut most = 0;
    for batch in 0..5 {
        let mut members = vec![];
        for i in 0..4 {
            let user = 100 + batch * 4 + i;
            let m = Member::join(media, user as PeerId, user).await;
            m.peer.publish_video(VideoSpec::live_camera());
            m.peer.publish_audio(true);
            members.push(m);
        }
        let users: Vec<UserId> = members.iter().map(|m| m.user).collect();
        b.view(media, &users);
        let what = format!("B receives batch {batch}");
        eventually(&what, Duration::from_secs(15), || {
            users.iter().all(|&u| b.video_from(u).frames > 0)
        })
        .await;
        for m in &members {
            media.remove_user(ROOM, m.user);
        }
        eventually("B's offer drops the batch", Duration::from_secs(15), || {
            b.last_offer().is_some_and(|o| o.tracks.is_empty())
        })
        .await;
        let sdp = b.last_offer().expect("an offer").sdp;
        most = most.max(m_lines(&sdp));
    }
    // 2 publish m-lines + 4 videos + 4 audios, reused by every batch.
    assert!(most <= 10, "B's SDP grew to {most} m-lines");
    assert!(b.closed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_an_older_offer_is_refused_and_junk_is_a_bad_answer() {
    let server = server().await;
    let media = &server.media;
    let peer = TestPeer::new().await.expect("a test peer");
    let a = Member::join_with(media, 1, 100, false, peer).await;
    eventually("A connects", Duration::from_secs(15), || {
        a.peer.is_connected()
    })
    .await;
    media.restart_ice(ROOM, a.peer_id);
    eventually("a second offer", Duration::from_secs(15), || {
        a.last_offer().is_some_and(|o| o.revision == 2)
    })
    .await;
    let second = a.last_offer().expect("revision 2");
    let stale = a.peer.accept(&second).await.expect("an answer");
    media.answer(ROOM, a.peer_id, 1, stale.clone());
    media.answer(ROOM, a.peer_id, 2, "v=0\r\nthis is not SDP".into());
    media.answer(ROOM, a.peer_id, 9, stale.clone());
    eventually("three refusals", Duration::from_secs(15), || {
        a.events()
            .iter()
            .filter(|e| matches!(e, PeerEvent::Refused(_)))
            .count()
            == 3
    })
    .await;
    let refusals: Vec<Refusal> = a
        .events()
        .into_iter()
        .filter_map(|e| match e {
            PeerEvent::Refused(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(refusals[0], Refusal::StaleRevision);
    assert!(matches!(refusals[1], Refusal::BadAnswer(_)), "{refusals:?}");
    assert!(matches!(refusals[2], Refusal::BadAnswer(_)), "{refusals:?}");
    // The right answer still applies: the session lives on.
    media.answer(ROOM, a.peer_id, 2, stale);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let count = a
        .events()
        .iter()
        .filter(|e| matches!(e, PeerEvent::Refused(_)))
        .count();
    assert_eq!(count, 3);
    assert!(a.closed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_user_closes_every_session_of_that_user_with_left() {
    let server = server().await;
    let media = &server.media;
    let tab1 = Member::join(media, 1, 100).await;
    let tab2 = Member::join(media, 2, 100).await;
    let other = Member::join(media, 3, 200).await;
    media.remove_user(ROOM, 100);
    eventually("both tabs closed", Duration::from_secs(15), || {
        tab1.closed() == [CloseReason::Left] && tab2.closed() == [CloseReason::Left]
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(other.closed().is_empty());
    assert_eq!(media.snapshot().peers, 1);
    // A new open with the same peer id replaces the old session.
    let again = Member::join(media, 3, 200).await;
    eventually(
        "the old session is replaced",
        Duration::from_secs(15),
        || other.closed() == [CloseReason::Replaced],
    )
    .await;
    assert!(again.closed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyframe_requests_for_many_new_subscribers_are_coalesced_to_one_per_second() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    a.peer.publish_video(VideoSpec {
        keyframe_interval: 0,
        ..VideoSpec::live_camera()
    });
    eventually("A's video arrives", Duration::from_secs(15), || {
        media.snapshot().packets_in > 20
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = a.peer.keyframe_requests();
    let started = Instant::now();
    let mut subscribers = vec![];
    for i in 0..8 {
        let m = Member::join(media, 10 + i, 200 + i as UserId).await;
        m.view(media, &[a.user]);
        subscribers.push(m);
    }
    eventually(
        "every subscriber got a keyframe",
        Duration::from_secs(15),
        || {
            subscribers
                .iter()
                .all(|m| m.video_from(a.user).keyframes >= 1)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let requests = a.peer.keyframe_requests() - before;
    let allowed = started.elapsed().as_secs() + 1;
    assert!(
        requests <= allowed,
        "{requests} keyframe requests in {:?}",
        started.elapsed()
    );
    assert!(requests >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_on_the_media_ports_changes_nothing() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    let junk = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mut payloads: Vec<Vec<u8>> = vec![vec![], vec![0; 1], vec![0xff; 1500], vec![0x80; 12]];
    // STUN-looking headers with lying lengths, DTLS-looking and RTP-looking junk.
    payloads.push(vec![
        0, 1, 0xff, 0xff, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    payloads.push([22u8, 254, 253].iter().copied().cycle().take(64).collect());
    payloads.push((0..200u8).collect());
    for p in &payloads {
        let _ = junk.send_to(p, media.udp_addr()).await;
    }
    if let Some(tcp) = media.tcp_addr() {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(tcp).await.expect("connect");
        let _ = stream
            .write_all(&[0x00, 0x05, 1, 2, 3, 4, 5, 0xff, 0xff, 9])
            .await;
    }
    eventually("B still receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= 15
    })
    .await;
    assert!(media.snapshot().datagrams_dropped >= payloads.len() as u64 - 1);
    assert!(a.closed().is_empty() && b.closed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_throughput_one_publisher_to_ten_subscribers() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let mut subscribers = vec![];
    for i in 0..10 {
        let m = Member::join(media, 10 + i, 200 + i as UserId).await;
        m.view(media, &[a.user]);
        subscribers.push(m);
    }
    a.peer.publish_video(VideoSpec {
        fps: 30,
        bytes_per_frame: 6_000,
        ..VideoSpec::live_camera()
    });
    eventually("all subscribers receive", Duration::from_secs(15), || {
        subscribers.iter().all(|m| m.video_from(a.user).frames > 0)
    })
    .await;
    let before = media.snapshot();
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = media.snapshot();
    let cpu = process_cpu_seconds() - cpu_before;
    let secs = started.elapsed().as_secs_f64();
    let packets = (after.packets_forwarded - before.packets_forwarded) as f64 / secs;
    let bytes = (after.bytes_forwarded - before.bytes_forwarded) as f64 / secs;
    eprintln!(
        "forwarding 1 -> 10 (30 fps x 6 kB): {packets:.0} packets/s, {:.1} Mbit/s forwarded; \
         CPU of the whole test process (server and 11 peers, this build's profile): {:.0}% of one core",
        bytes * 8.0 / 1e6,
        cpu / secs * 100.0
    );
    assert!(packets > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_reaches_the_server_over_ice_tcp_alone() {
    let server = server().await;
    let media = &server.media;
    let tcp = media.tcp_addr().expect("a TCP candidate");
    let a_peer = TestPeer::new_tcp(tcp).await.expect("a TCP test peer");
    let a = Member::join_with(media, 1, 100, true, a_peer).await;
    let b_peer = TestPeer::new_tcp(tcp).await.expect("a TCP test peer");
    let b = Member::join_with(media, 2, 200, true, b_peer).await;
    // Liveness bounds, generous: this runs beside the throughput test on two cores.
    assert!(a.peer.wait_connected(Duration::from_secs(30)).await);
    assert!(b.peer.wait_connected(Duration::from_secs(30)).await);
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("B receives A over TCP", Duration::from_secs(30), || {
        b.video_from(a.user).keyframes >= 1 && b.video_from(a.user).frames >= 15
    })
    .await;
    eventually("A is verified", Duration::from_secs(15), || {
        a.last_reason() == Some(None)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_goes_to_every_other_member_without_a_tile() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    let c = Member::join(media, 3, 300).await;
    a.peer.publish_audio(true);
    eventually("B and C hear A", Duration::from_secs(15), || {
        b.peer.received_from(a.user, TrackKind::Audio).frames >= 25
            && c.peer.received_from(a.user, TrackKind::Audio).frames >= 25
    })
    .await;
    // A never hears itself, and nobody got video.
    assert_eq!(
        a.peer.received_from(a.user, TrackKind::Audio),
        Received::default()
    );
    assert_eq!(b.video_from(a.user), Received::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_with_two_publishing_tabs_is_forwarded_once_from_the_latest_verified_tab() {
    let server = server().await;
    let media = &server.media;
    let tab1 = Member::join(media, 1, 100).await;
    let b = Member::join(media, 3, 200).await;
    b.view(media, &[100]);
    tab1.peer.publish_video(VideoSpec::live_camera());
    eventually("B sees tab 1 (640x480)", Duration::from_secs(15), || {
        b.video_from(100).width == Some(640)
    })
    .await;
    let tab2 = Member::join(media, 2, 100).await;
    tab2.peer.publish_video(VideoSpec {
        width: 1280,
        height: 720,
        ..VideoSpec::live_camera()
    });
    eventually(
        "B switches to tab 2 (1280x720)",
        Duration::from_secs(15),
        || b.video_from(100).width == Some(1280),
    )
    .await;
    let offer = b.last_offer().expect("an offer");
    let videos = offer
        .tracks
        .iter()
        .filter(|t| t.user == 100 && t.kind == TrackKind::Video)
        .count();
    assert_eq!(videos, 1, "{:?}", offer.tracks);
    // Either tab hears nothing of its own user.
    assert_eq!(tab2.video_from(100), Received::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_never_connects_times_out_after_thirty_seconds() {
    let server = server().await;
    let media = &server.media;
    let (sink, mut rx) = ChannelSink::new();
    media.open(ROOM, 1, 100, sink);
    let opened = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(40), async {
        while let Some(event) = rx.recv().await {
            if let PeerEvent::Closed(reason) = event {
                return Some(reason);
            }
        }
        None
    })
    .await
    .expect("closed within 40 s");
    assert_eq!(closed, Some(CloseReason::Timeout));
    assert!(opened.elapsed() >= Duration::from_secs(30));
    assert_eq!(media.snapshot().peers, 0);
}

/// User plus system CPU time of this process (Linux `/proc/self/stat`, 100 ticks per second);
/// 0 where it cannot be read.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_bound_on_every_interface_advertises_its_public_ip() {
    let server = server_on(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).await;
    let media = &server.media;
    assert!(media.udp_addr().ip().is_unspecified());
    let a = Member::join(media, 1, 100).await;
    let offer = a.last_offer().expect("an offer");
    let port = media.udp_addr().port();
    assert!(
        offer.sdp.contains(&format!("127.0.0.1 {port} typ host")),
        "{}",
        offer.sdp
    );
    let b = Member::join(media, 2, 200).await;
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("B receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= 15
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_tile_stops_that_video_and_frees_its_m_line() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("B receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= 15
    })
    .await;
    let lines = m_lines(&b.last_offer().expect("an offer").sdp);
    b.view(media, &[]);
    eventually(
        "B's offer no longer carries A",
        Duration::from_secs(15),
        || b.last_offer().is_some_and(|o| o.tracks.is_empty()),
    )
    .await;
    let mid = b
        .events()
        .into_iter()
        .find_map(|e| match e {
            PeerEvent::Offer(o) => o.tracks.first().map(|t| t.mid.clone()),
            _ => None,
        })
        .expect("the mid that carried A");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped = b.peer.received(&mid).frames;
    assert!(stopped >= 15);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(b.peer.received(&mid).frames, stopped, "video kept coming");
    let offer = b.last_offer().expect("an offer");
    assert_eq!(m_lines(&offer.sdp), lines, "the m-line stays, inactive");
    assert!(offer.sdp.contains("a=inactive"), "{}", offer.sdp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_restart_brings_new_credentials_and_media_keeps_flowing() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("B receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= 15
    })
    .await;
    let ufrag = |sdp: &str| {
        sdp.lines()
            .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
            .map(str::to_owned)
    };
    let before = b.last_offer().expect("an offer");
    media.restart_ice(ROOM, b.peer_id);
    eventually("a restart offer", Duration::from_secs(15), || {
        b.last_offer().is_some_and(|o| o.revision > before.revision)
    })
    .await;
    let after = b.last_offer().expect("the restart offer");
    assert_ne!(ufrag(&after.sdp), ufrag(&before.sdp));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let frames = b.video_from(a.user).frames;
    eventually("B still receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= frames + 15
    })
    .await;
    assert!(b.closed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_closes_every_session_as_unavailable() {
    let server = server().await;
    let media = server.media.clone();
    let a = Member::join(&media, 1, 100).await;
    let b = Member::join(&media, 2, 200).await;
    server.stop.cancel();
    eventually(
        "both closed as unavailable",
        Duration::from_secs(15),
        || a.closed() == [CloseReason::Unavailable] && b.closed() == [CloseReason::Unavailable],
    )
    .await;
    // An open after the stop is refused the same way.
    let (sink, mut rx) = ChannelSink::new();
    media.open(ROOM, 3, 300, sink);
    let event = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("an event");
    assert_eq!(event, Some(PeerEvent::Closed(CloseReason::Unavailable)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_answers_are_refused_without_harming_the_room() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    b.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    eventually("B receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= 15
    })
    .await;
    // A stranger session that answers nothing sensible.
    let (sink, mut rx) = ChannelSink::new();
    media.open(ROOM, 3, 300, sink);
    let offer = loop {
        match tokio::time::timeout(Duration::from_secs(15), rx.recv()).await {
            Ok(Some(PeerEvent::Offer(offer))) => break offer,
            Ok(Some(_)) => continue,
            other => panic!("no offer: {other:?}"),
        }
    };
    let junk = [
        String::new(),
        "v=0".into(),
        "\0\u{1}\u{2}".into(),
        "a".repeat(70 * 1024),
        offer.sdp.replace("a=group:BUNDLE", "a=group:NOPE"),
        offer.sdp.replace("m=video", "m=text"),
        offer.sdp.lines().take(12).collect::<Vec<_>>().join("\r\n"),
    ];
    for sdp in &junk {
        media.answer(ROOM, 3, offer.revision, sdp.clone());
    }
    let mut refusals = vec![];
    let end = Instant::now() + Duration::from_secs(15);
    while refusals.len() < junk.len() && Instant::now() < end {
        if let Ok(Some(PeerEvent::Refused(refusal))) =
            tokio::time::timeout(Duration::from_millis(200), rx.recv()).await
        {
            refusals.push(refusal);
        }
    }
    assert_eq!(refusals.len(), junk.len(), "{refusals:?}");
    // The first five are bad; the fifth parses but does not fit, which uses up the offer, so a
    // new revision follows and the rest are answers to an older one.
    assert!(
        refusals[..5]
            .iter()
            .all(|r| matches!(r, Refusal::BadAnswer(_))),
        "{refusals:?}"
    );
    assert!(
        refusals[5..].iter().all(|r| *r == Refusal::StaleRevision),
        "{refusals:?}"
    );
    for refusal in &refusals {
        if let Refusal::BadAnswer(why) = refusal {
            assert!(!why.contains("0x"), "no internals in {why:?}");
        }
    }
    // The room lives on: B still receives A, a newcomer still gets its offer.
    let frames = b.video_from(a.user).frames;
    eventually("B still receives A", Duration::from_secs(15), || {
        b.video_from(a.user).frames >= frames + 15
    })
    .await;
    let c = Member::join(media, 4, 400).await;
    assert!(c.peer.wait_connected(Duration::from_secs(15)).await);
}

/// Whether `count` still grows: true once two reads 50 ms or more apart differ (within 15 s).
async fn keeps_growing(what: &str, mut count: impl FnMut() -> u64) {
    let mut last = count();
    eventually(what, Duration::from_secs(15), || {
        let now = count();
        let grew = now > last;
        last = now;
        grew
    })
    .await;
}

/// Asserts that `count` stops: after what was in flight settles, it stays put for a second.
async fn stops_growing(what: &str, count: impl Fn() -> u64) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = count();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(), before, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_policy_stops_a_members_video_or_audio_and_blocks_pairs_at_the_server() {
    let server = server().await;
    let media = &server.media;
    let a = Member::join(media, 1, 100).await;
    let b = Member::join(media, 2, 200).await;
    let c = Member::join(media, 3, 300).await;
    b.view(media, &[a.user]);
    c.view(media, &[a.user]);
    a.peer.publish_video(VideoSpec::live_camera());
    a.peer.publish_audio(true);
    let frames = |m: &Member, kind| m.peer.received_from(a.user, kind).frames;
    eventually("B and C receive A", Duration::from_secs(15), || {
        [&b, &c]
            .iter()
            .all(|m| frames(m, TrackKind::Video) >= 15 && frames(m, TrackKind::Audio) >= 25)
    })
    .await;

    // A host stops A's video: nobody gets it, the audio goes on, and A is still metered.
    let mut policy = ssgwan_media::RoomPolicy::default();
    policy.video_stopped.insert(a.user);
    media.set_room_policy(ROOM, policy.clone());
    stops_growing("A's video still reaches B or C", || {
        frames(&b, TrackKind::Video) + frames(&c, TrackKind::Video)
    })
    .await;
    keeps_growing("B hears A", || frames(&b, TrackKind::Audio)).await;
    assert_eq!(
        a.last_reason(),
        Some(None),
        "A's own video is still verified"
    );
    eventually(
        "B's offer leaves A's video out",
        Duration::from_secs(15),
        || {
            b.last_offer().is_some_and(|o| {
                !o.tracks
                    .iter()
                    .any(|t| t.user == a.user && t.kind == TrackKind::Video)
            })
        },
    )
    .await;

    // And the audio.
    policy.audio_stopped.insert(a.user);
    media.set_room_policy(ROOM, policy);
    stops_growing("A's audio still reaches B or C", || {
        frames(&b, TrackKind::Audio) + frames(&c, TrackKind::Audio)
    })
    .await;

    // Allowed again, but C blocked A: B gets A's video and audio again, C neither.
    let mut policy = ssgwan_media::RoomPolicy::default();
    policy.block(c.user, a.user);
    media.set_room_policy(ROOM, policy);
    keeps_growing("B receives A's video again", || {
        frames(&b, TrackKind::Video)
    })
    .await;
    keeps_growing("B hears A again", || frames(&b, TrackKind::Audio)).await;
    stops_growing("A's media reaches C, who blocked A", || {
        frames(&c, TrackKind::Video) + frames(&c, TrackKind::Audio)
    })
    .await;

    // A member who opens with the policy is held to it from the start.
    let d = {
        let peer = TestPeer::new().await.expect("a test peer");
        let (sink, mut rx) = ChannelSink::new();
        let mut policy = ssgwan_media::RoomPolicy::default();
        policy.block(c.user, a.user);
        policy.block(400, a.user);
        media.open_with_policy(ROOM, 4, 400, policy, sink);
        let offer = loop {
            match tokio::time::timeout(Duration::from_secs(15), rx.recv()).await {
                Ok(Some(PeerEvent::Offer(offer))) => break offer,
                Ok(Some(_)) => {}
                other => panic!("no offer for D: {other:?}"),
            }
        };
        assert!(
            !offer.tracks.iter().any(|t| t.user == a.user),
            "D's first offer carries A: {:?}",
            offer.tracks
        );
        peer
    };
    drop(d);
}
