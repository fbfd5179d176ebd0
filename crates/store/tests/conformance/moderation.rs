//! Moderation's storage (migration 0009) on every backend: removals, co-hosts, deleted
//! messages, room locks, reports, blocks, operators, suspensions and the audit log.

use futures::future::join_all;
use ssgwan_store::{
    AuditEntry, ChallengeStore, ChatStore, Conflict, Entity, MediaKind, ModerationStore, NewReport,
    ParticipationStore, Removal, SqlStore, StoreError, UserStore,
};

use crate::support::{challenge, date, now, ts, user};

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn count(store: &SqlStore, id: i64) -> i64 {
    store
        .challenge(id, None)
        .await
        .expect("read")
        .expect("challenge")
        .participant_count
}

pub async fn a_removal_frees_the_place_for_good(store: SqlStore) {
    let host = user(&store, "host").await;
    let troll = user(&store, "troll").await;
    let next = user(&store, "next").await;
    let id = challenge(&store, &host, "full", 2).await;
    store
        .join_challenge(id, troll.id, now())
        .await
        .expect("joined");
    assert_eq!(count(&store, id).await, 2);
    let at = ts("2026-03-03T00:00:00Z");
    assert_eq!(
        store
            .remove_participant(id, troll.id, host.id, at)
            .await
            .expect("removed"),
        Removal::Removed
    );
    assert_eq!(count(&store, id).await, 1);
    assert_eq!(
        store.removed_at(id, troll.id).await.expect("read"),
        Some(at)
    );
    assert!(!store.is_participant(id, troll.id).await.expect("read"));
    // Again: nothing more happens.
    assert_eq!(
        store
            .remove_participant(id, troll.id, host.id, at)
            .await
            .expect("repeat"),
        Removal::AlreadyRemoved
    );
    assert_eq!(count(&store, id).await, 1);
    // They cannot take a place again (not even a freed one), others can.
    let again = store.join_challenge(id, troll.id, at).await;
    assert_eq!(conflict(again), Conflict::RemovedFromChallenge);
    store
        .join_challenge(id, next.id, at)
        .await
        .expect("next joins");
    // Full now: being removed is still what the refusal names.
    let again = store.join_challenge(id, troll.id, at).await;
    assert_eq!(conflict(again), Conflict::RemovedFromChallenge);
    // A user without a place cannot be removed (and is not marked).
    let stranger = user(&store, "stranger").await;
    let refused = store.remove_participant(id, stranger.id, host.id, at).await;
    assert_eq!(conflict(refused), Conflict::NotParticipant);
    assert_eq!(store.removed_at(id, stranger.id).await.expect("read"), None);
    assert_eq!(count(&store, id).await, 2);
}

pub async fn racing_co_host_appointments_fill_three_slots(store: SqlStore) {
    let host = user(&store, "host").await;
    let id = challenge(&store, &host, "cohosts", 20).await;
    let mut members = Vec::new();
    for i in 0..6 {
        let member = user(&store, &format!("member{i}")).await;
        store
            .join_challenge(id, member.id, now())
            .await
            .expect("joined");
        members.push(member.id);
    }
    let outcomes = join_all(members.iter().map(|m| store.add_cohost(id, *m, now()))).await;
    let appointed = outcomes.iter().filter(|o| matches!(o, Ok(true))).count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(StoreError::Conflict(Conflict::CohostLimitReached))))
        .count();
    assert_eq!((appointed, refused), (3, 3), "{outcomes:?}");
    let cohosts = store.cohosts(id).await.expect("read");
    assert_eq!(cohosts.len(), 3);
    // Appointing one again is a no-op, even with every slot taken.
    assert!(
        !store
            .add_cohost(id, cohosts[0], now())
            .await
            .expect("repeat")
    );
    assert!(store.remove_cohost(id, cohosts[0]).await.expect("demoted"));
    assert!(!store.remove_cohost(id, cohosts[0]).await.expect("repeat"));
    let outsider = members
        .iter()
        .find(|m| !cohosts.contains(m))
        .copied()
        .expect("a member left out");
    assert!(
        store
            .add_cohost(id, outsider, now())
            .await
            .expect("the freed slot")
    );
    assert_eq!(store.cohosts(id).await.expect("read").len(), 3);
}

pub async fn deleted_messages_and_locked_rooms(store: SqlStore) {
    let host = user(&store, "host").await;
    let id = challenge(&store, &host, "chat", 5).await;
    let (message, _) = store
        .post_message(id, host.id, "c1", "a link http://x.example", now())
        .await
        .expect("posted");
    assert!(!message.deleted);
    assert_eq!(message.author_joined_at, Some(now()));
    assert_eq!(
        store
            .delete_message(id, message.id, host.id, now())
            .await
            .expect("deleted"),
        Some(true)
    );
    assert_eq!(
        store
            .delete_message(id, message.id, host.id, now())
            .await
            .expect("repeat"),
        Some(false)
    );
    assert_eq!(
        store
            .delete_message(id, 999, host.id, now())
            .await
            .expect("none"),
        None
    );
    let page = store.messages_before(id, None, 10).await.expect("history");
    assert_eq!(page.len(), 1);
    assert!(page[0].deleted);
    assert_eq!(page[0].body, "");
    let one = store
        .message(id, message.id)
        .await
        .expect("read")
        .expect("kept");
    assert!(one.deleted);

    let day = date("2026-03-03");
    assert!(!store.room_locked(id, day).await.expect("read"));
    let racing = join_all((0..4).map(|_| store.lock_room(id, day, host.id, now()))).await;
    assert_eq!(
        racing.iter().filter(|r| matches!(r, Ok(true))).count(),
        1,
        "{racing:?}"
    );
    assert!(store.room_locked(id, day).await.expect("read"));
    assert!(
        !store
            .room_locked(id, date("2026-03-04"))
            .await
            .expect("next day")
    );
}

pub async fn one_report_per_reporter_and_target(store: SqlStore) {
    let reporter = user(&store, "reporter").await;
    let troll = user(&store, "troll").await;
    let report = NewReport {
        reporter_id: reporter.id,
        target_type: "user",
        target_key: format!("user:{}", troll.id),
        subject_id: troll.id,
        challenge_id: None,
        message_seq: None,
        reason: "harassment",
        detail: "욕설".into(),
    };
    let racing = join_all((0..4).map(|_| store.create_report(&report, now()))).await;
    let created: Vec<_> = racing.iter().map(|r| r.as_ref().expect("filed")).collect();
    assert_eq!(created.iter().filter(|(_, fresh)| *fresh).count(), 1);
    let ids: Vec<i64> = created.iter().map(|(r, _)| r.id).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let first = &created[0].0;
    assert_eq!(
        (first.status.as_str(), first.detail.as_str()),
        ("OPEN", "욕설")
    );
    // Another reporter's report of the same target is its own.
    let other = user(&store, "other").await;
    let (second, fresh) = store
        .create_report(
            &NewReport {
                reporter_id: other.id,
                ..report.clone()
            },
            now(),
        )
        .await
        .expect("filed");
    assert!(fresh);
    let open = store.reports(Some("OPEN"), None, 10).await.expect("queue");
    assert_eq!(
        open.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second.id, first.id]
    );
    assert!(
        store
            .resolve_report(first.id, "DISMISSED", other.id, now())
            .await
            .expect("closed")
    );
    assert!(
        !store
            .resolve_report(first.id, "ACTIONED", other.id, now())
            .await
            .expect("repeat")
    );
    let closed = store.report(first.id).await.expect("read").expect("report");
    assert_eq!(
        (closed.status.as_str(), closed.resolved_by),
        ("DISMISSED", Some(other.id))
    );
    assert_eq!(
        store
            .reports(Some("OPEN"), None, 10)
            .await
            .expect("queue")
            .len(),
        1
    );
    assert_eq!(
        store
            .reports(None, Some(second.id), 10)
            .await
            .expect("all")
            .len(),
        1
    );
}

pub async fn blocks_go_both_ways_and_are_idempotent(store: SqlStore) {
    let a = user(&store, "a").await;
    let b = user(&store, "b").await;
    let c = user(&store, "c").await;
    assert!(store.block(a.id, b.id, now()).await.expect("blocked"));
    assert!(!store.block(a.id, b.id, now()).await.expect("repeat"));
    assert!(
        store
            .block(c.id, a.id, ts("2026-03-02T01:00:00Z"))
            .await
            .expect("blocked")
    );
    let mut peers = store.block_peers(a.id).await.expect("peers");
    peers.sort_unstable();
    assert_eq!(peers, vec![b.id, c.id]);
    assert_eq!(store.block_peers(b.id).await.expect("peers"), vec![a.id]);
    let listed = store.blocks(a.id).await.expect("list");
    assert_eq!(
        listed.iter().map(|r| r.user.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    assert!(store.unblock(a.id, b.id).await.expect("unblocked"));
    assert!(!store.unblock(a.id, b.id).await.expect("repeat"));
    assert_eq!(
        store.block_peers(b.id).await.expect("peers"),
        Vec::<i64>::new()
    );
    let missing = store.block(a.id, 999_999, now()).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::User))),
        "{missing:?}"
    );
}

pub async fn operators_suspensions_and_the_audit_log(store: SqlStore) {
    let op = user(&store, "op").await;
    let troll = user(&store, "troll").await;
    assert!(!store.is_operator(op.id).await.expect("read"));
    assert!(
        store
            .set_operator(op.id, true, now())
            .await
            .expect("granted")
    );
    assert!(
        !store
            .set_operator(op.id, true, now())
            .await
            .expect("repeat")
    );
    assert!(store.is_operator(op.id).await.expect("read"));
    assert!(
        store
            .set_operator(op.id, false, now())
            .await
            .expect("revoked")
    );
    assert!(
        !store
            .set_operator(op.id, false, now())
            .await
            .expect("repeat")
    );
    let missing = store.set_operator(999_999, true, now()).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::User))),
        "{missing:?}"
    );

    store
        .create_session("t1", troll.id, now(), ts("2026-04-01T00:00:00Z"))
        .await
        .expect("session");
    assert_eq!(store.suspension(troll.id).await.expect("read"), None);
    let until = ts("2026-03-09T00:00:00Z");
    assert!(
        store
            .suspend(troll.id, Some(until))
            .await
            .expect("suspended")
    );
    assert!(!store.suspend(troll.id, Some(until)).await.expect("repeat"));
    assert_eq!(
        store.suspension(troll.id).await.expect("read"),
        Some(Some(until))
    );
    assert!(
        store
            .session_user("t1", now())
            .await
            .expect("read")
            .is_none(),
        "signed out"
    );
    assert!(store.suspend(troll.id, None).await.expect("for good"));
    assert_eq!(store.suspension(troll.id).await.expect("read"), Some(None));
    let missing = store.suspend(999_999, None).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::User))),
        "{missing:?}"
    );

    for (i, action) in ["grant", "suspend"].into_iter().enumerate() {
        let entry = AuditEntry {
            actor_id: (i == 1).then_some(op.id),
            action: action.into(),
            target: format!("user:{}", troll.id),
            reason: "이유".into(),
        };
        store.audit(&entry, now()).await.expect("appended");
    }
    let log = store.audit_log(None, 10).await.expect("log");
    assert_eq!(
        log.iter()
            .map(|r| r.entry.action.as_str())
            .collect::<Vec<_>>(),
        vec!["suspend", "grant"]
    );
    assert_eq!(
        (log[0].entry.actor_id, log[1].entry.actor_id),
        (Some(op.id), None)
    );
    assert_eq!(
        store
            .audit_log(Some(log[0].id), 10)
            .await
            .expect("older")
            .len(),
        1
    );
}

pub async fn media_stops_are_idempotent_and_room_blocks_are_between_members(store: SqlStore) {
    let host = user(&store, "host").await;
    let a = user(&store, "a").await;
    let b = user(&store, "b").await;
    let outsider = user(&store, "outsider").await;
    let id = challenge(&store, &host, "room", 10).await;
    let other = challenge(&store, &host, "other", 10).await;
    for u in [&a, &b] {
        store.join_challenge(id, u.id, now()).await.expect("joined");
    }
    store
        .join_challenge(other, outsider.id, now())
        .await
        .expect("joined the other");
    // Stops: one per member and kind; repeats change nothing; allowing again deletes.
    assert!(
        store
            .set_media_stop(id, a.id, MediaKind::Video, true, host.id, now())
            .await
            .expect("stopped")
    );
    assert!(
        !store
            .set_media_stop(id, a.id, MediaKind::Video, true, host.id, now())
            .await
            .expect("repeat")
    );
    assert!(
        store
            .set_media_stop(id, a.id, MediaKind::Audio, true, host.id, now())
            .await
            .expect("audio stopped")
    );
    assert!(
        store
            .set_media_stop(id, b.id, MediaKind::Audio, true, host.id, now())
            .await
            .expect("b's audio stopped")
    );
    assert_eq!(
        store.media_stops(id).await.expect("stops"),
        vec![
            (a.id, MediaKind::Video),
            (a.id, MediaKind::Audio),
            (b.id, MediaKind::Audio)
        ]
    );
    assert!(store.media_stops(other).await.expect("none").is_empty());
    assert!(
        store
            .set_media_stop(id, a.id, MediaKind::Video, false, host.id, now())
            .await
            .expect("allowed")
    );
    assert!(
        !store
            .set_media_stop(id, a.id, MediaKind::Video, false, host.id, now())
            .await
            .expect("repeat")
    );
    assert_eq!(
        store.media_stops(id).await.expect("stops"),
        vec![(a.id, MediaKind::Audio), (b.id, MediaKind::Audio)]
    );
    // Blocks in the room: only those between two of its active participants.
    store.block(a.id, b.id, now()).await.expect("blocked");
    store.block(b.id, host.id, now()).await.expect("blocked");
    store
        .block(a.id, outsider.id, now())
        .await
        .expect("blocked");
    let mut expected = vec![(a.id, b.id), (b.id, host.id)];
    expected.sort();
    assert_eq!(store.room_blocks(id).await.expect("blocks"), expected);
    // A member who leaves is out of the room's blocks.
    store
        .remove_participant(id, b.id, host.id, now())
        .await
        .expect("removed");
    assert!(store.room_blocks(id).await.expect("blocks").is_empty());
}
