//! `RedisRooms` as several nodes see it: two (or three) instances on one throwaway Redis act as
//! separate `ssgwan serve` nodes.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use ssgwan_realtime::{Eviction, Media, Member, PresenceEvent, RealtimeError, Revocation, Rooms};

use common::{
    RedisServer, eventually, on_local_and_redis,
    rooms::{
        CAMERA, HEARTBEAT, NODE_TTL, OFF, SLOW_NODE_TTL, info, next_event, next_frame, node,
        nothing_came_before_a_marker, quiet, tab, two_nodes, users,
    },
};

#[tokio::test]
async fn members_first_and_last_tabs_count_every_node() {
    let Some((_server, (a, _), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, _ra1) = tab(1);
    let (b2, _rb2) = tab(2);
    let joined = a.join(7, info(1), a1, OFF).await.expect("join");
    assert!(joined.first_tab);
    let joined = b.join(7, info(2), b2, OFF).await.expect("join");
    assert!(joined.first_tab);
    assert_eq!(
        joined
            .members
            .iter()
            .map(|m| m.info.user_id)
            .collect::<Vec<_>>(),
        vec![1, 2],
        "the joiner sees the member on the other node"
    );
    assert_eq!(users(&a, 7).await, vec![1, 2]);
    assert_eq!(users(&b, 7).await, vec![1, 2]);
    assert!(b.is_member(7, 1).await.expect("is_member"));
    assert!(!b.is_member(7, 3).await.expect("is_member"));
    assert!(!b.is_member(8, 1).await.expect("is_member"));

    // The same tab joining again is not a first tab (as in process).
    let (again, _ragain) = tab(1);
    assert!(
        !a.join(7, info(1), again, OFF)
            .await
            .expect("join")
            .first_tab
    );
    // User 1 opens a second tab on node B: not a first tab.
    let (b3, _rb3) = tab(3);
    assert!(!b.join(7, info(1), b3, OFF).await.expect("join").first_tab);
    assert_eq!(users(&b, 7).await, vec![1, 2]);
    // Closing the tab on A is not their last; closing the one on B is.
    assert_eq!(a.leave(7, 1, 1).await.expect("leave"), Some(false));
    assert!(a.is_member(7, 1).await.expect("is_member"));
    assert_eq!(b.leave(7, 1, 3).await.expect("leave"), Some(true));
    assert_eq!(users(&a, 7).await, vec![2]);
    assert_eq!(
        a.leave(7, 1, 3).await.expect("leave"),
        None,
        "not a tab of A"
    );
    assert_eq!(b.leave(7, 2, 2).await.expect("leave"), Some(true));
    assert!(users(&a, 7).await.is_empty());
}

#[tokio::test]
async fn concurrent_first_tabs_on_two_nodes_make_exactly_one_first() {
    let Some((_server, (a, _), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    for round in 0..20i64 {
        let (ta, _ra) = tab(1);
        let (tb, _rb) = tab(2);
        let (ja, jb) = tokio::join!(
            a.join(round, info(5), ta, OFF),
            b.join(round, info(5), tb, OFF)
        );
        let firsts =
            usize::from(ja.expect("join").first_tab) + usize::from(jb.expect("join").first_tab);
        assert_eq!(firsts, 1, "round {round}");
        let (la, lb) = tokio::join!(a.leave(round, 5, 1), b.leave(round, 5, 2));
        let lasts = usize::from(la.expect("leave") == Some(true))
            + usize::from(lb.expect("leave") == Some(true));
        assert_eq!(lasts, 1, "round {round}");
    }
}

#[tokio::test]
async fn broadcasts_cross_nodes_and_skip_the_excepted_user() {
    let Some((_server, (a, _), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, mut ra1) = tab(1);
    let (b2, mut rb2) = tab(2);
    let (b3, mut rb3) = tab(3);
    let (a4, mut ra4) = tab(4);
    a.join(1, info(1), a1, OFF).await.expect("join");
    b.join(1, info(2), b2, OFF).await.expect("join");
    b.join(1, info(3), b3, OFF).await.expect("join");
    a.join(2, info(4), a4, OFF).await.expect("join"); // another room

    a.broadcast(1, Arc::from("from A"), Some(2))
        .await
        .expect("broadcast");
    assert_eq!(next_frame(&mut ra1).await.as_deref(), Some("from A"));
    assert_eq!(next_frame(&mut rb3).await.as_deref(), Some("from A"));
    assert!(
        nothing_came_before_a_marker(&a, 1, 2, &mut rb2).await,
        "user 2 was excepted"
    );

    b.broadcast(1, Arc::from("from B\nwith a newline"), None)
        .await
        .expect("broadcast");
    assert_eq!(
        next_frame(&mut ra1).await.as_deref(),
        Some("from B\nwith a newline")
    );
    assert_eq!(
        next_frame(&mut rb2).await.as_deref(),
        Some("from B\nwith a newline")
    );
    assert_eq!(
        next_frame(&mut rb3).await.as_deref(),
        Some("from B\nwith a newline")
    );
    assert!(
        nothing_came_before_a_marker(&b, 1, 1, &mut ra1).await,
        "delivered once, not again through Redis"
    );
    assert!(
        nothing_came_before_a_marker(&b, 2, 4, &mut ra4).await,
        "other rooms hear nothing"
    );

    // Order is kept from one node.
    for n in 0..50 {
        a.broadcast(1, Arc::from(n.to_string()), None)
            .await
            .expect("broadcast");
    }
    for n in 0..50 {
        assert_eq!(next_frame(&mut rb2).await, Some(n.to_string()));
    }
}

#[tokio::test]
async fn direct_sends_reach_every_tab_of_the_user_on_every_node() {
    let Some((_server, (a, _), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, mut ra1) = tab(1);
    let (b2, mut rb2) = tab(2);
    let (a3, mut ra3) = tab(3);
    a.join(1, info(1), a1, OFF).await.expect("join");
    b.join(1, info(2), b2, OFF).await.expect("join");
    a.join(1, info(2), a3, OFF).await.expect("join"); // user 2 on both nodes
    assert!(
        a.send_to_user(1, 2, Arc::from("offer"))
            .await
            .expect("send")
    );
    assert_eq!(next_frame(&mut ra3).await.as_deref(), Some("offer"));
    assert_eq!(next_frame(&mut rb2).await.as_deref(), Some("offer"));
    assert!(nothing_came_before_a_marker(&b, 1, 1, &mut ra1).await);
    assert!(
        b.send_to_user(1, 1, Arc::from("answer"))
            .await
            .expect("send")
    );
    assert_eq!(next_frame(&mut ra1).await.as_deref(), Some("answer"));
    assert!(
        !b.send_to_user(1, 99, Arc::from("nobody"))
            .await
            .expect("send")
    );
    assert!(
        !b.send_to_user(2, 1, Arc::from("wrong room"))
            .await
            .expect("send")
    );
    assert!(nothing_came_before_a_marker(&b, 1, 1, &mut ra1).await);
}

#[tokio::test]
async fn evictions_reach_the_connections_they_concern_on_every_node() {
    let Some((_server, (a, _), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, mut ra1) = tab(1);
    let (b2, mut rb2) = tab(2);
    let (b3, mut rb3) = tab(3);
    let mut controls1 = ra1.take_controls().expect("controls");
    let mut controls2 = rb2.take_controls().expect("controls");
    let mut controls3 = rb3.take_controls().expect("controls");
    a.join(1, info(1), a1, OFF).await.expect("join");
    b.join(1, info(2), b2, OFF).await.expect("join");
    b.join(1, info(3), b3, OFF).await.expect("join");
    let eviction = Eviction {
        room: 1,
        user: Some(2),
        session: None,
        reason: Revocation::Cancelled,
    };
    a.evict(eviction.clone()).await.expect("evict");
    let within = Duration::from_secs(1);
    let got = tokio::time::timeout(within, controls2.recv()).await;
    assert_eq!(
        got.ok().flatten(),
        Some(eviction),
        "user 2's tab on the other node"
    );
    // Everyone, from the node with the room's other tabs.
    let everyone = Eviction {
        room: 1,
        user: None,
        session: None,
        reason: Revocation::Deleted,
    };
    b.evict(everyone.clone()).await.expect("evict");
    for controls in [&mut controls1, &mut controls2, &mut controls3] {
        let got = tokio::time::timeout(within, controls.recv()).await;
        assert_eq!(got.ok().flatten(), Some(everyone.clone()));
    }
    assert!(controls1.try_recv().is_err() && controls3.try_recv().is_err());
    // Control messages are not frames: nothing reached the clients.
    assert!(nothing_came_before_a_marker(&b, 1, 1, &mut ra1).await);
}

#[tokio::test]
async fn media_is_the_union_over_tabs_on_every_node() {
    let Some((_server, (a, _), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, _ra1) = tab(1);
    let (b2, _rb2) = tab(2);
    a.join(3, info(1), a1, OFF).await.expect("join");
    b.join(3, info(1), b2, OFF).await.expect("join");
    let on = a.set_media(3, 1, 1, CAMERA).await.expect("media");
    assert_eq!(on.map(|m| (m.camera, m.mic)), Some((true, false)));
    assert_eq!(
        b.set_media(3, 1, 2, CAMERA).await.expect("media"),
        None,
        "already on through the tab on A"
    );
    assert_eq!(
        a.set_media(3, 1, 1, OFF).await.expect("media"),
        None,
        "still on through the tab on B"
    );
    assert!(a.members(3).await.expect("members")[0].camera);
    let off = b.set_media(3, 1, 2, OFF).await.expect("media");
    assert_eq!(off.map(|m| m.camera), Some(false));
    assert_eq!(
        b.set_media(3, 1, 99, CAMERA).await.expect("media"),
        None,
        "not a tab of B"
    );
    let mic = Media {
        camera: false,
        mic: true,
    };
    let member = b.set_media(3, 1, 2, mic).await.expect("media");
    assert_eq!(
        member,
        Some(Member {
            info: info(1),
            camera: false,
            mic: true
        })
    );
    // Leaving takes that tab's media out of the union.
    assert_eq!(b.leave(3, 1, 2).await.expect("leave"), Some(false));
    assert!(!a.members(3).await.expect("members")[0].mic);
}

#[tokio::test]
async fn a_dead_node_drops_out_and_a_live_node_reports_who_left() {
    let Some((_server, (a, mut a_events), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, _ra1) = tab(1);
    let (a3, _ra3) = tab(3);
    let (b2, _rb2) = tab(2);
    let (b4, _rb4) = tab(4);
    a.join(9, info(1), a1, OFF).await.expect("join");
    a.join(9, info(3), a3, OFF).await.expect("join");
    b.join(9, info(2), b2, CAMERA).await.expect("join");
    b.join(9, info(3), b4, CAMERA).await.expect("join"); // user 3: camera on only on B
    assert_eq!(users(&a, 9).await, vec![1, 2, 3]);
    assert!(a.members(9).await.expect("members")[2].camera);

    let died = Instant::now();
    drop(b); // a crash: no cleanup, the heartbeat stops
    assert!(
        eventually(Duration::from_secs(5), || async {
            users(&a, 9).await == vec![1, 3]
        })
        .await,
        "B's users drop out"
    );
    let gone = died.elapsed();
    assert!(
        gone >= NODE_TTL / 2,
        "not before B's key expired ({gone:?})"
    );
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match next_event(&mut a_events, Duration::from_secs(5)).await {
            Some(event) => seen.push(event),
            None => break,
        }
    }
    seen.sort_by_key(|e| match e {
        PresenceEvent::Left { member, .. }
        | PresenceEvent::Changed { member, .. }
        | PresenceEvent::Joined { member, .. } => member.info.user_id,
    });
    assert_eq!(
        seen,
        vec![
            PresenceEvent::Left {
                room: 9,
                member: Member {
                    info: info(2),
                    camera: true,
                    mic: false
                }
            },
            PresenceEvent::Changed {
                room: 9,
                member: Member {
                    info: info(3),
                    camera: false,
                    mic: false
                }
            },
        ]
    );
    assert!(!a.members(9).await.expect("members")[1].camera);
    assert!(
        next_event(&mut a_events, HEARTBEAT * 5).await.is_none(),
        "reported once"
    );
}

#[tokio::test]
async fn a_graceful_shutdown_is_swept_at_the_next_heartbeat() {
    let Some((_server, (a, mut a_events), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (b2, _rb2) = tab(2);
    b.join(9, info(2), b2, OFF).await.expect("join");
    b.shutdown().await.expect("shutdown");
    assert!(users(&a, 9).await.is_empty(), "gone at once");
    assert!(matches!(
        next_event(&mut a_events, HEARTBEAT * 10).await,
        Some(PresenceEvent::Left { room: 9, .. })
    ));
}

#[tokio::test]
async fn a_redis_outage_fails_fast_and_everything_comes_back_by_itself() {
    let Some((mut server, (a, mut a_events), (b, _))) = two_nodes(NODE_TTL).await else {
        return;
    };
    let (a1, mut ra1) = tab(1);
    let (b2, mut rb2) = tab(2);
    a.join(4, info(1), a1, CAMERA).await.expect("join");
    b.join(4, info(2), b2, OFF).await.expect("join");

    server.stop();
    let started = Instant::now();
    assert!(matches!(
        a.members(4).await,
        Err(RealtimeError::Unavailable(_))
    ));
    let (a3, _ra3) = tab(3);
    assert!(matches!(
        a.join(5, info(3), a3, OFF).await,
        Err(RealtimeError::Unavailable(_))
    ));
    assert!(b.broadcast(4, Arc::from("lost"), None).await.is_err());
    assert_eq!(
        next_frame(&mut rb2).await.as_deref(),
        Some("lost"),
        "B's own connections still get it"
    );
    assert!(a.ping().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "errors come within the timeout, not after hanging ({:?})",
        started.elapsed()
    );
    // A leave while Redis is down still takes the tab out here.
    let (a5, _ra5) = tab(5);
    drop(a5);
    assert_eq!(a.leave(5, 3, 3).await.expect("not a tab"), None);

    server.restart(); // empty: every key is gone
    assert!(
        eventually(Duration::from_secs(10), || async {
            a.ping().await.is_ok() && b.ping().await.is_ok()
        })
        .await,
        "both nodes reconnect"
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            a.members(4).await.map(|m| m.len()).unwrap_or(0) == 2
        })
        .await,
        "presence is registered again"
    );
    let members = a.members(4).await.expect("members");
    assert!(members[0].camera, "with its media");
    let mut rejoined = false;
    while let Some(event) = next_event(&mut a_events, Duration::from_secs(5)).await {
        if matches!(event, PresenceEvent::Joined { room: 4, ref member } if member.info.user_id == 1)
        {
            rejoined = true;
            break;
        }
    }
    assert!(rejoined, "the re-registration is reported");
    // Fan-out works again, both ways.
    b.broadcast(4, Arc::from("back"), Some(2))
        .await
        .expect("broadcast");
    assert_eq!(next_frame(&mut ra1).await.as_deref(), Some("back"));
    a.broadcast(4, Arc::from("back too"), None)
        .await
        .expect("broadcast");
    assert_eq!(next_frame(&mut rb2).await.as_deref(), Some("back too"));
    assert_eq!(next_frame(&mut ra1).await.as_deref(), Some("back too"));
    assert!(b.send_to_user(4, 1, Arc::from("hi")).await.expect("send"));
    assert_eq!(next_frame(&mut ra1).await.as_deref(), Some("hi"));
}

#[tokio::test]
async fn a_leave_that_redis_missed_is_repaired_and_reported_when_it_answers_again() {
    let Some((server, (a, mut a_events), (b, _))) = two_nodes(SLOW_NODE_TTL).await else {
        return;
    };
    let (a1, _ra1) = tab(1);
    let (b2, _rb2) = tab(2);
    a.join(6, info(1), a1, OFF).await.expect("join");
    b.join(6, info(2), b2, OFF).await.expect("join");
    // Redis stops taking writes for a while: the leave cannot be recorded in time.
    server.command(&["CLIENT", "PAUSE", "1500", "WRITE"]);
    assert!(matches!(
        a.leave(6, 1, 1).await,
        Err(RealtimeError::Unavailable(_))
    ));
    assert!(
        eventually(Duration::from_secs(10), || async {
            b.members(6)
                .await
                .is_ok_and(|m| m.iter().map(|m| m.info.user_id).eq([2]))
        })
        .await,
        "user 1 is gone from the shared presence"
    );
    let mut left = false;
    while let Some(event) = next_event(&mut a_events, Duration::from_secs(3)).await {
        if let PresenceEvent::Left { room: 6, member } = &event {
            assert_eq!(member.info.user_id, 1);
            left = true;
            break;
        }
    }
    assert!(left, "A reports that user 1 left");
    assert_eq!(users(&a, 6).await, vec![2]);
}

// The same behaviour from one node, in process or through Redis.
on_local_and_redis! {
    local: ssgwan_realtime::LocalRooms::new(),
    redis(server): super::node(&server, "only").await,
    cases: [
    tabs_of_one_user_are_one_member_with_the_union_of_media,
    broadcast_skips_the_excepted_user_and_direct_sends_reach_every_tab
    ];
}

async fn tabs_of_one_user_are_one_member_with_the_union_of_media(rooms: impl Rooms) {
    let (a, _ra) = tab(1);
    let (b, _rb) = tab(2);
    assert!(
        rooms
            .join(7, info(1), a, OFF)
            .await
            .expect("join")
            .first_tab
    );
    let second = rooms.join(7, info(1), b, OFF).await.expect("join");
    assert!(!second.first_tab);
    assert_eq!(second.members.len(), 1);
    let changed = rooms.set_media(7, 1, 2, CAMERA).await.expect("media");
    assert_eq!(changed.map(|m| m.camera), Some(true));
    assert_eq!(
        rooms.set_media(7, 1, 1, CAMERA).await.expect("media"),
        None,
        "already on through the other tab"
    );
    assert_eq!(rooms.leave(7, 1, 2).await.expect("leave"), Some(false));
    assert!(
        rooms.members(7).await.expect("members")[0].camera,
        "tab 1 still has its camera on"
    );
    assert_eq!(rooms.leave(7, 1, 1).await.expect("leave"), Some(true));
    assert_eq!(rooms.leave(7, 1, 1).await.expect("leave"), None);
    assert!(!rooms.is_member(7, 1).await.expect("is_member"));
    assert!(rooms.members(7).await.expect("members").is_empty());
}

async fn broadcast_skips_the_excepted_user_and_direct_sends_reach_every_tab(rooms: impl Rooms) {
    let (a, mut ra) = tab(1);
    let (b1, mut rb1) = tab(2);
    let (b2, mut rb2) = tab(3);
    rooms.join(1, info(10), a, OFF).await.expect("join");
    rooms.join(1, info(20), b1, OFF).await.expect("join");
    rooms.join(1, info(20), b2, OFF).await.expect("join");
    rooms
        .broadcast(1, Arc::from("hello"), Some(10))
        .await
        .expect("broadcast");
    assert!(ra.try_recv().is_err());
    assert_eq!(&*rb1.try_recv().expect("b1"), "hello");
    assert_eq!(&*rb2.try_recv().expect("b2"), "hello");
    assert!(
        rooms
            .send_to_user(1, 10, Arc::from("direct"))
            .await
            .expect("send")
    );
    assert_eq!(&*ra.try_recv().expect("a"), "direct");
    assert!(
        !rooms
            .send_to_user(1, 99, Arc::from("nobody"))
            .await
            .expect("send")
    );
    assert!(quiet(&mut ra).await, "nothing comes back through Redis");
}
