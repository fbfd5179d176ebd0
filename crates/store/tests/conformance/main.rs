//! The store conformance suite: one body per case, run on SQLite always and on PostgreSQL and
//! MariaDB/MySQL when their servers are configured (see `support`). Every store operation is
//! covered, including capacity under concurrent joins and the rule conflicts the database maps.

mod moderation;
mod support;

use std::future::Future;

use support::{Kind, TestDb, conformance};

async fn run<F, Fut>(kind: Kind, case: F)
where
    F: FnOnce(ssgwan_store::SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = TestDb::open(kind).await else {
        return;
    };
    case(db.store.clone()).await;
    db.finish().await;
}

conformance!(
    users_and_nicknames,
    lookalike_nicknames_are_one_name,
    sessions_and_oauth_states,
    challenge_lifecycle,
    listing_search_filters_and_cursors,
    joins_and_cancellations,
    a_join_is_one_read_and_one_write,
    racing_joins_fill_exactly_capacity,
    one_user_racing_itself_gets_one_place,
    churn_keeps_the_count_equal_to_the_places,
    chat_numbering_dedupe_and_paging,
    racing_chat_messages_get_distinct_numbers,
    attendance_accrues_and_achieves_once,
    completion_settles_each_participant_once,
    scores_totals_and_reconciliation,
    statistics_reads,
    tags_are_kept_in_order_filtered_and_counted,
    notices_are_set_and_cleared_at_any_time,
    wishes_are_idempotent_counted_and_listed,
    racing_wishes_keep_the_count_equal_to_the_rows,
    popularity_weighs_participants_twice_and_pages_exactly,
    score_activity_sums_spans_in_one_query,
    calendar_feeds_move_by_generation,
    notifications_dedupe_page_and_read,
    notification_settings_and_reminder_candidates,
    push_subscriptions_belong_to_one_user,
    uploads_are_owned_counted_against_the_quota_and_swept,
    racing_uploads_never_exceed_the_quota,
    racing_creations_never_exceed_the_daily_limit,
    job_claims_go_to_one_caller_per_interval,
    award_facts_follow_places_and_the_schedule,
    a_removal_frees_the_place_for_good,
    racing_co_host_appointments_fill_three_slots,
    deleted_messages_and_locked_rooms,
    one_report_per_reporter_and_target,
    blocks_go_both_ways_and_are_idempotent,
    operators_suspensions_and_the_audit_log,
    media_stops_are_idempotent_and_room_blocks_are_between_members,
);

/// Rows written before migration 0006 have no skeleton; `migrate` computes them, and leaves
/// NULL the later of two rows that turn out to look alike.
async fn backfill(kind: Kind) {
    use sqlx::Row;
    let Some(db) = TestDb::open(kind).await else {
        return;
    };
    let raw = sqlx::AnyPool::connect(&db.url).await.expect("second pool");
    let sql = |text: &str| {
        if kind == Kind::Postgres {
            let mut n = 0;
            text.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            text.to_owned()
        }
    };
    for (id, nickname) in [(71_i64, "Mallory"), (72, "M\u{430}llory"), (73, "legacy")] {
        sqlx::query(&sql("INSERT INTO users (id, nickname, nickname_key, bio, created_at, updated_at) VALUES (?, ?, ?, '', 0, 0)"))
            .bind(id)
            .bind(nickname)
            .bind(nickname.to_lowercase())
            .execute(&raw)
            .await
            .expect("legacy row");
    }
    db.store.migrate().await.expect("migrate again: backfill");
    let skeletons: Vec<(i64, Option<String>)> =
        sqlx::query("SELECT id, nickname_skeleton FROM users ORDER BY id")
            .fetch_all(&raw)
            .await
            .expect("read")
            .iter()
            .map(|r| (r.get("id"), r.get("nickname_skeleton")))
            .collect();
    assert_eq!(
        skeletons,
        vec![
            (71, Some(ssgwan_domain::user::nickname_skeleton("mallory"))),
            (72, None),
            (73, Some(ssgwan_domain::user::nickname_skeleton("legacy"))),
        ]
    );
    raw.close().await;
    for lookalike in ["MALLORY", "\u{ff4c}egacy"] {
        let taken = support::user_result(&db.store, lookalike).await;
        assert!(
            matches!(
                taken,
                Err(ssgwan_store::StoreError::Conflict(
                    ssgwan_store::Conflict::NicknameTaken
                ))
            ),
            "{lookalike:?}: {taken:?}"
        );
    }
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_skeletons_are_backfilled_at_migrate() {
    backfill(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_skeletons_are_backfilled_at_migrate() {
    backfill(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_skeletons_are_backfilled_at_migrate() {
    backfill(Kind::MySql).await;
}

mod cases {
    pub use crate::moderation::*;
    use futures::future::join_all;
    use jiff::SignedDuration;
    use ssgwan_domain::{Category, ChallengeStatus};
    use ssgwan_store::{
        AttendanceStore, ChallengeQuery, ChallengeSort, ChallengeStore, ChatStore, Conflict,
        Entity, MyChallengesState, NewUser, ParticipantStatus, ParticipationStore, ScoreKind,
        ScoreStore, SqlStore, StatsStore, Store, StoreError, UserStore, UserUpdate, WishStore,
    };

    use crate::support::{challenge, date, now, spec, ts, user};

    fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Conflict {
        match result {
            Err(StoreError::Conflict(c)) => c,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    pub async fn lookalike_nicknames_are_one_name(store: SqlStore) {
        let admin = user(&store, "admin").await;
        for lookalike in [
            "Admin",
            "ADMIN",
            "\u{430}dmin",
            "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}",
            "adm\u{200b}in",
        ] {
            let taken = store
                .create_user(
                    NewUser {
                        kakao_id: None,
                        nickname: lookalike.into(),
                        profile_image: None,
                    },
                    now(),
                )
                .await;
            assert_eq!(conflict(taken), Conflict::NicknameTaken, "{lookalike:?}");
            assert_eq!(
                store
                    .user_by_nickname(lookalike)
                    .await
                    .expect("read")
                    .map(|u| u.id),
                (lookalike.eq_ignore_ascii_case("admin")).then_some(admin.id),
                "look-ups are exact (case-insensitive), not by skeleton: {lookalike:?}"
            );
        }
        let other = user(&store, "김민지").await;
        let renamed = store
            .update_user(
                other.id,
                UserUpdate {
                    nickname: Some("\u{430}dmin".into()),
                    ..Default::default()
                },
                now(),
            )
            .await;
        assert_eq!(conflict(renamed), Conflict::NicknameTaken);
        user(&store, "김민주").await;
        user(&store, "admins").await;
        // Renaming to a lookalike of one's own name is fine.
        let same = store
            .update_user(
                admin.id,
                UserUpdate {
                    nickname: Some("Admin".into()),
                    ..Default::default()
                },
                now(),
            )
            .await
            .expect("own lookalike");
        assert_eq!(same.nickname, "Admin");
    }

    pub async fn users_and_nicknames(store: SqlStore) {
        store.ping().await.expect("ping");
        let a = store
            .create_user(
                NewUser {
                    kakao_id: Some(9_000_000_001),
                    nickname: "쓱관Fan🔥".into(),
                    profile_image: Some("https://k.example/p.jpg".into()),
                },
                now(),
            )
            .await
            .expect("create");
        assert_eq!(a.nickname, "쓱관Fan🔥", "4-byte UTF-8 round-trips");
        assert_eq!(a.created_at, now());
        let same = store.user(a.id).await.expect("read").expect("exists");
        assert_eq!(same, a);
        assert_eq!(
            store.user_by_kakao_id(9_000_000_001).await.expect("read"),
            Some(a.clone())
        );
        assert_eq!(
            store.user_by_nickname("쓱관FAN🔥").await.expect("read"),
            Some(a.clone()),
            "nicknames are looked up case-insensitively"
        );
        assert_eq!(store.user(a.id + 1000).await.expect("read"), None);

        let taken = store
            .create_user(
                NewUser {
                    kakao_id: None,
                    nickname: "쓱관fan🔥".into(),
                    profile_image: None,
                },
                now(),
            )
            .await;
        assert_eq!(conflict(taken), Conflict::NicknameTaken);

        let b = user(&store, "bora").await;
        let renamed = store
            .update_user(
                b.id,
                UserUpdate {
                    nickname: Some("쓱관FAN🔥".into()),
                    ..Default::default()
                },
                now(),
            )
            .await;
        assert_eq!(conflict(renamed), Conflict::NicknameTaken);
        let b2 = store
            .update_user(
                b.id,
                UserUpdate {
                    nickname: Some("Bora".into()),
                    bio: Some("매일 아침 6시 기상 ☀️".into()),
                    profile_image: Some(Some("/api/files/x.png".into())),
                },
                now() + hours(1),
            )
            .await
            .expect("update");
        assert_eq!(
            (b2.nickname.as_str(), b2.bio.as_str()),
            ("Bora", "매일 아침 6시 기상 ☀️")
        );
        assert_eq!(b2.profile_image.as_deref(), Some("/api/files/x.png"));
        let cleared = store
            .update_user(
                b.id,
                UserUpdate {
                    profile_image: Some(None),
                    ..Default::default()
                },
                now(),
            )
            .await
            .expect("clear image");
        assert_eq!(cleared.profile_image, None);
        assert_eq!(cleared.nickname, "Bora", "absent fields stay");
        assert!(matches!(
            store
                .update_user(a.id + 1000, UserUpdate::default(), now())
                .await,
            Err(StoreError::NotFound(Entity::User))
        ));
        let summaries = store.users(&[b.id, a.id, 999_999]).await.expect("users");
        assert_eq!(summaries.len(), 2);
    }

    pub async fn sessions_and_oauth_states(store: SqlStore) {
        let u = user(&store, "session-user").await;
        store
            .create_session("h1", u.id, now(), now() + hours(24))
            .await
            .expect("session");
        let (found, expires) = store
            .session_user("h1", now() + hours(23))
            .await
            .expect("read")
            .expect("live");
        assert_eq!((found.id, expires), (u.id, now() + hours(24)));
        assert!(
            store
                .session_user("h1", now() + hours(24))
                .await
                .expect("read")
                .is_none(),
            "expired at its expiry"
        );
        assert!(
            store
                .session_user("nope", now())
                .await
                .expect("read")
                .is_none()
        );
        store.delete_session("h1").await.expect("delete");
        assert!(
            store
                .session_user("h1", now())
                .await
                .expect("read")
                .is_none()
        );

        store
            .save_oauth_state("s1", now() + hours(1))
            .await
            .expect("save");
        store.save_oauth_state("s2", now()).await.expect("save");
        assert!(store.take_oauth_state("s1", now()).await.expect("take"));
        assert!(
            !store.take_oauth_state("s1", now()).await.expect("take"),
            "single use"
        );
        assert!(
            !store.take_oauth_state("s2", now()).await.expect("take"),
            "expired"
        );
        assert!(!store.take_oauth_state("never", now()).await.expect("take"));
        // Racing takes of one state: exactly one wins.
        store
            .save_oauth_state("race", now() + hours(1))
            .await
            .expect("save");
        let takes = join_all((0..10).map(|_| store.take_oauth_state("race", now()))).await;
        assert_eq!(
            takes
                .into_iter()
                .filter(|t| *t.as_ref().expect("take"))
                .count(),
            1
        );
    }

    pub async fn challenge_lifecycle(store: SqlStore) {
        let host = user(&store, "host").await;
        let guest = user(&store, "guest").await;
        let id = challenge(&store, &host, "새벽 공부 100% _진짜_", 3).await;
        let record = store
            .challenge(id, Some(host.id))
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(
            record.spec,
            spec("새벽 공부 100% _진짜_", "2026-03-03", "2026-03-09", 3)
        );
        assert_eq!(record.participant_count, 1, "the creator holds a place");
        assert!(record.joined);
        assert_eq!(record.creator.id, host.id);
        assert_eq!(record.created_at, now());
        assert!(
            !store
                .challenge(id, Some(guest.id))
                .await
                .expect("read")
                .expect("exists")
                .joined
        );
        assert!(
            store
                .challenge(id + 1000, None)
                .await
                .expect("read")
                .is_none()
        );
        assert_eq!(
            store
                .membership(id, host.id)
                .await
                .expect("read")
                .map(|m| m.status),
            Some(ParticipantStatus::Active)
        );

        // Edits before the start; capacity may not drop below the places taken.
        store
            .join_challenge(id, guest.id, now())
            .await
            .expect("join");
        let third = user(&store, "third").await;
        store
            .join_challenge(id, third.id, now())
            .await
            .expect("join");
        let smaller = spec("t", "2026-03-03", "2026-03-09", 2);
        assert_eq!(
            conflict(store.update_challenge(id, &smaller, now()).await),
            Conflict::CapacityBelowParticipants
        );
        let edited = spec("고친 제목", "2026-03-04", "2026-03-10", 3);
        store
            .update_challenge(id, &edited, now() + hours(1))
            .await
            .expect("edit");
        let record = store
            .challenge(id, None)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(record.spec, edited);
        assert_eq!(record.updated_at, now() + hours(1));
        assert_eq!(record.participant_count, 3);

        // After the start: no edits, no deletion.
        let started = ts("2026-03-04T00:00:00Z");
        assert_eq!(
            conflict(store.update_challenge(id, &edited, started).await),
            Conflict::AlreadyStarted
        );
        assert_eq!(
            conflict(store.delete_challenge(id, started).await),
            Conflict::AlreadyStarted
        );
        assert!(matches!(
            store.update_challenge(id + 1000, &edited, now()).await,
            Err(StoreError::NotFound(Entity::Challenge))
        ));
        // Before the start it goes, with its places.
        store.delete_challenge(id, now()).await.expect("delete");
        assert!(store.challenge(id, None).await.expect("read").is_none());
        assert!(!store.is_participant(id, guest.id).await.expect("read"));
        assert!(matches!(
            store.delete_challenge(id, now()).await,
            Err(StoreError::NotFound(Entity::Challenge))
        ));
    }

    pub async fn listing_search_filters_and_cursors(store: SqlStore) {
        let host = user(&store, "lister").await;
        let fan = user(&store, "fan").await;
        let mut ids = Vec::new();
        for i in 0..25 {
            let mut s = spec(&format!("Challenge {i:02}"), "2026-03-03", "2026-03-09", 10);
            if i % 5 == 0 {
                s.title = format!("100% 새벽 러닝 {i}");
                s.category = Category::Workout;
            }
            if i % 2 == 0 {
                // Starts a day later, so "starting soon" has something to order.
                s = ssgwan_domain::ChallengeSpec {
                    schedule: spec("x", "2026-03-04", "2026-03-10", 10).schedule,
                    ..s
                };
            }
            ids.push(
                store
                    .create_challenge(
                        host.id,
                        &s,
                        date("2026-03-02"),
                        now(),
                        ssgwan_store::CreationLimit::NONE,
                    )
                    .await
                    .expect("create"),
            );
        }
        // Popularity: challenge ids[3] gets two more participants, ids[7] one.
        let extra = user(&store, "extra").await;
        for (who, at) in [(fan.id, 3), (extra.id, 3), (fan.id, 7)] {
            store
                .join_challenge(ids[at], who, now())
                .await
                .expect("join");
        }
        let query = |sort, text: Option<&str>, category, status| ChallengeQuery {
            text: text.map(str::to_owned),
            tag: None,
            category,
            status,
            sort,
            limit: 7,
            after: None,
        };
        // Paging through every sort visits each challenge exactly once, in order.
        for sort in [
            ChallengeSort::New,
            ChallengeSort::Popular,
            ChallengeSort::StartingSoon,
        ] {
            let mut q = query(sort, None, None, None);
            let mut seen = Vec::new();
            loop {
                let page = store
                    .list_challenges(&q, Some(fan.id), now())
                    .await
                    .expect("list");
                if page.is_empty() {
                    break;
                }
                q.after = Some(page.last().expect("non-empty").cursor(sort));
                seen.extend(page);
            }
            let seen_ids: Vec<i64> = seen.iter().map(|c| c.id).collect();
            let mut unique = seen_ids.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(
                unique.len(),
                25,
                "{sort:?}: every challenge once: {seen_ids:?}"
            );
            match sort {
                ChallengeSort::New => {
                    let mut expected = ids.clone();
                    expected.reverse();
                    assert_eq!(seen_ids, expected);
                }
                ChallengeSort::Popular => {
                    assert_eq!(&seen_ids[..2], &[ids[3], ids[7]]);
                    assert!(
                        seen.windows(2)
                            .all(|w| w[0].participant_count >= w[1].participant_count)
                    );
                }
                ChallengeSort::StartingSoon => {
                    let starts: Vec<_> = seen.iter().map(|c| c.spec.schedule.starts_at()).collect();
                    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
                }
            }
            assert_eq!(
                seen.iter().filter(|c| c.joined).count(),
                2,
                "the viewer's places are marked"
            );
        }
        // Search is a substring match where % and _ are literal.
        let found = store
            .list_challenges(
                &query(ChallengeSort::New, Some("100% 새벽"), None, None),
                None,
                now(),
            )
            .await
            .expect("search");
        assert_eq!(found.len(), 5);
        let none = store
            .list_challenges(
                &query(ChallengeSort::New, Some("1_0"), None, None),
                None,
                now(),
            )
            .await
            .expect("search");
        assert!(none.is_empty(), "_ is not a wildcard");
        let workouts = store
            .list_challenges(
                &query(ChallengeSort::New, None, Some(Category::Workout), None),
                None,
                now(),
            )
            .await
            .expect("filter");
        assert_eq!(workouts.len(), 5);
        // Status is judged at `now`: on 3 March (Seoul) the odd ones have started.
        let on_third = ts("2026-03-03T00:00:00Z");
        let mut q = query(
            ChallengeSort::New,
            None,
            None,
            Some(ChallengeStatus::InProgress),
        );
        q.limit = 100;
        let running = store
            .list_challenges(&q, None, on_third)
            .await
            .expect("filter");
        assert_eq!(running.len(), 12);
        q.status = Some(ChallengeStatus::Recruiting);
        assert_eq!(
            store
                .list_challenges(&q, None, on_third)
                .await
                .expect("filter")
                .len(),
            13
        );
        q.status = Some(ChallengeStatus::Ended);
        assert_eq!(
            store
                .list_challenges(&q, None, ts("2026-03-20T00:00:00Z"))
                .await
                .expect("filter")
                .len(),
            25
        );

        let created = store
            .my_challenges(host.id, MyChallengesState::Created)
            .await
            .expect("mine");
        assert_eq!(created.len(), 25);
        let active = store
            .my_challenges(fan.id, MyChallengesState::Active)
            .await
            .expect("mine");
        assert_eq!(
            active.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![ids[7], ids[3]]
        );
        assert!(
            store
                .my_challenges(fan.id, MyChallengesState::Completed)
                .await
                .expect("mine")
                .is_empty()
        );
    }

    pub async fn joins_and_cancellations(store: SqlStore) {
        let host = user(&store, "host").await;
        let a = user(&store, "a").await;
        let b = user(&store, "b").await;
        let id = challenge(&store, &host, "two places", 2).await;
        let joined = store.join_challenge(id, a.id, now()).await.expect("join");
        // The challenge as the joiner sees it right after the join.
        assert_eq!(joined.id, id);
        assert!(joined.joined);
        assert_eq!(joined.participant_count, 2);
        assert_eq!(
            store
                .participants(id)
                .await
                .expect("read")
                .iter()
                .find(|p| p.user.id == a.id)
                .map(|p| p.joined_on),
            Some(date("2026-03-02")),
            "the join day is the challenge's local date"
        );
        assert_eq!(
            conflict(store.join_challenge(id, a.id, now()).await),
            Conflict::AlreadyJoined
        );
        assert_eq!(
            conflict(store.join_challenge(id, b.id, now()).await),
            Conflict::ChallengeFull
        );
        assert!(matches!(
            store.join_challenge(id + 1000, b.id, now()).await,
            Err(StoreError::NotFound(Entity::Challenge))
        ));
        assert_eq!(
            conflict(store.cancel_participation(id, host.id, now()).await),
            Conflict::CreatorCannotCancel
        );
        assert_eq!(
            conflict(store.cancel_participation(id, b.id, now()).await),
            Conflict::NotParticipant
        );
        store
            .cancel_participation(id, a.id, now())
            .await
            .expect("cancel");
        assert_eq!(
            store
                .membership(id, a.id)
                .await
                .expect("read")
                .map(|m| m.status),
            Some(ParticipantStatus::Cancelled)
        );
        assert!(!store.is_participant(id, a.id).await.expect("read"));
        assert_eq!(
            conflict(store.cancel_participation(id, a.id, now()).await),
            Conflict::NotParticipant
        );
        // The freed place goes to b; a cannot come back while it is full.
        store.join_challenge(id, b.id, now()).await.expect("join");
        assert_eq!(
            conflict(store.join_challenge(id, a.id, now()).await),
            Conflict::ChallengeFull
        );
        let record = store
            .challenge(id, None)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(record.participant_count, 2);
        let people = store.participants(id).await.expect("participants");
        let mut names: Vec<_> = people.iter().map(|p| p.user.nickname.clone()).collect();
        names.sort();
        assert_eq!(names, vec!["b", "host"]);
        assert!(people.iter().all(|p| p.achieved_sessions == 0));

        // Once started: joins still open until the end, cancellations refused.
        let big = challenge(&store, &host, "big", 10).await;
        let during = ts("2026-03-04T00:00:00Z");
        store
            .join_challenge(big, a.id, during)
            .await
            .expect("late join");
        assert_eq!(
            store
                .participants(big)
                .await
                .expect("read")
                .iter()
                .find(|p| p.user.id == a.id)
                .map(|p| p.joined_on),
            Some(date("2026-03-04"))
        );
        assert_eq!(
            store
                .membership(big, a.id)
                .await
                .expect("read")
                .map(|m| m.joined_at),
            Some(during)
        );
        assert_eq!(
            conflict(store.cancel_participation(big, a.id, during).await),
            Conflict::CancellationNotAllowed
        );
        let after = ts("2026-03-10T00:00:00Z");
        assert_eq!(
            conflict(store.join_challenge(big, b.id, after).await),
            Conflict::ChallengeEnded
        );
    }

    pub async fn a_join_is_one_read_and_one_write(store: SqlStore) {
        let host = user(&store, "host").await;
        let a = user(&store, "a").await;
        let b = user(&store, "b").await;
        let id = challenge(&store, &host, "two places", 2).await;
        // Statements sent, from `Store::round_trips`.
        let before = store.round_trips();
        let record = store.join_challenge(id, a.id, now()).await.expect("join");
        let joined = store.round_trips() - before;
        assert!(record.joined);
        assert_eq!(record.participant_count, 2);
        // The challenge as the joiner sees it, then the conditional insert (on MySQL, in a
        // transaction that locks the challenge row: begin, lock, insert).
        let expected = if store.backend() == ssgwan_store::Backend::MySql {
            4
        } else {
            2
        };
        assert_eq!(joined, expected, "statements for a join");
        // Refused by what the read shows (already in; full): no write at all.
        for (who, refusal) in [(&a, Conflict::AlreadyJoined), (&b, Conflict::ChallengeFull)] {
            let before = store.round_trips();
            assert_eq!(
                conflict(store.join_challenge(id, who.id, now()).await),
                refusal
            );
            assert_eq!(
                store.round_trips() - before,
                1,
                "statements for a refused join"
            );
        }
    }

    pub async fn racing_joins_fill_exactly_capacity(store: SqlStore) {
        let host = user(&store, "host").await;
        let capacity = 10;
        let id = challenge(&store, &host, "race", capacity).await;
        let mut racers = Vec::new();
        for i in 0..capacity * 4 {
            racers.push(user(&store, &format!("racer{i}")).await);
        }
        let results = join_all(racers.iter().map(|u| store.join_challenge(id, u.id, now()))).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        let full = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict(Conflict::ChallengeFull))))
            .count();
        assert_eq!(won as i64, capacity - 1, "the creator holds one place");
        assert_eq!(
            won + full,
            results.len(),
            "every loser is told the challenge is full: {:?}",
            results.iter().find(|r| !matches!(
                r,
                Ok(_) | Err(StoreError::Conflict(Conflict::ChallengeFull))
            ))
        );
        let record = store
            .challenge(id, None)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(record.participant_count, capacity);
        assert_eq!(
            store.participants(id).await.expect("read").len() as i64,
            capacity
        );
    }

    pub async fn one_user_racing_itself_gets_one_place(store: SqlStore) {
        let host = user(&store, "host").await;
        let eager = user(&store, "eager").await;
        let id = challenge(&store, &host, "self race", 50).await;
        let results = join_all((0..20).map(|_| store.join_challenge(id, eager.id, now()))).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(
            results
                .iter()
                .filter(|r| r.is_err())
                .all(|r| matches!(r, Err(StoreError::Conflict(Conflict::AlreadyJoined)))),
            "{results:?}"
        );
        let record = store
            .challenge(id, None)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(record.participant_count, 2);
    }

    pub async fn churn_keeps_the_count_equal_to_the_places(store: SqlStore) {
        let host = user(&store, "host").await;
        let id = challenge(&store, &host, "churn", 6).await;
        let mut people = Vec::new();
        for i in 0..12 {
            people.push(user(&store, &format!("churner{i}")).await);
        }
        for round in 0..4 {
            let ops = people.iter().enumerate().map(|(i, u)| {
                let store = &store;
                async move {
                    if (i + round) % 3 == 0 {
                        let _ = store.cancel_participation(id, u.id, now()).await;
                    } else {
                        let _ = store.join_challenge(id, u.id, now()).await;
                    }
                }
            });
            join_all(ops).await;
            let record = store
                .challenge(id, None)
                .await
                .expect("read")
                .expect("exists");
            let places = store.participants(id).await.expect("read").len() as i64;
            assert_eq!(record.participant_count, places, "round {round}");
            assert!(places <= 6);
        }
    }

    pub async fn chat_numbering_dedupe_and_paging(store: SqlStore) {
        let host = user(&store, "host").await;
        let other = user(&store, "other").await;
        let id = challenge(&store, &host, "chat", 10).await;
        let room2 = challenge(&store, &host, "chat 2", 10).await;
        let mut numbers = Vec::new();
        for i in 0..30 {
            let (message, fresh) = store
                .post_message(
                    id,
                    host.id,
                    &format!("c{i}"),
                    &format!("안녕 {i} 👋"),
                    now(),
                )
                .await
                .expect("post");
            assert!(fresh);
            numbers.push(message.id);
        }
        assert_eq!(
            numbers,
            (1..=30).collect::<Vec<_>>(),
            "numbered per room from 1"
        );
        let (first_other_room, _) = store
            .post_message(room2, host.id, "c0", "other room", now())
            .await
            .expect("post");
        assert_eq!(first_other_room.id, 1, "each room counts on its own");
        // A resent client id stores nothing and returns the first message.
        let (again, fresh) = store
            .post_message(id, host.id, "c5", "different text", now() + hours(1))
            .await
            .expect("resend");
        assert!(!fresh);
        assert_eq!((again.id, again.body.as_str()), (6, "안녕 5 👋"));
        // The same client id from another user is another message.
        let (theirs, fresh) = store
            .post_message(id, other.id, "c5", "mine", now())
            .await
            .expect("post");
        assert!(fresh);
        assert_eq!((theirs.id, theirs.nickname.as_str()), (31, "other"));

        let after = store.messages_after(id, 25, 100).await.expect("after");
        assert_eq!(
            after.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![26, 27, 28, 29, 30, 31]
        );
        let newest = store.messages_after(id, 0, 3).await.expect("after");
        assert_eq!(
            newest.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![29, 30, 31]
        );
        let before = store
            .messages_before(id, Some(10), 4)
            .await
            .expect("before");
        assert_eq!(
            before.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![6, 7, 8, 9]
        );
        let latest = store.messages_before(id, None, 2).await.expect("before");
        assert_eq!(
            latest.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![30, 31]
        );
        assert_eq!(latest[0].body, "안녕 29 👋");
        assert_eq!(latest[0].created_at, now());
        assert!(
            store
                .messages_after(id + 1000, 0, 10)
                .await
                .expect("empty")
                .is_empty()
        );
    }

    pub async fn racing_chat_messages_get_distinct_numbers(store: SqlStore) {
        let host = user(&store, "host").await;
        let id = challenge(&store, &host, "busy room", 10).await;
        let posts = join_all((0..40).map(|i| {
            let store = &store;
            async move {
                store
                    .post_message(id, host.id, &format!("r{i}"), "동시에", now())
                    .await
            }
        }))
        .await;
        let mut numbers: Vec<i64> = posts
            .into_iter()
            .map(|p| p.expect("every message is stored").0.id)
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=40).collect::<Vec<_>>());
        // Racing resends of one client id store one message.
        let resends =
            join_all((0..10).map(|_| store.post_message(id, host.id, "same", "한 번만", now())))
                .await;
        let fresh = resends
            .iter()
            .filter(|r| r.as_ref().expect("stored").1)
            .count();
        assert_eq!(fresh, 1);
        assert_eq!(
            store.messages_after(id, 40, 10).await.expect("after").len(),
            1
        );
    }

    pub async fn attendance_accrues_and_achieves_once(store: SqlStore) {
        let host = user(&store, "host").await;
        let id = challenge(&store, &host, "attend", 10).await;
        let day = date("2026-03-03");
        let at = ts("2026-03-02T22:10:00Z");
        assert_eq!(
            store.attendance_day(id, host.id, day).await.expect("read"),
            Default::default()
        );
        let first = store
            .add_attendance(id, host.id, day, 300, 600, at)
            .await
            .expect("add");
        assert_eq!(
            (first.seconds, first.achieved, first.newly_achieved),
            (300, false, false)
        );
        let second = store
            .add_attendance(id, host.id, day, 300, 600, at + hours(0))
            .await
            .expect("add");
        assert_eq!(
            (second.seconds, second.achieved, second.newly_achieved),
            (600, true, true)
        );
        let third = store
            .add_attendance(id, host.id, day, 5, 600, at)
            .await
            .expect("add");
        assert_eq!(
            (third.seconds, third.achieved, third.newly_achieved),
            (605, true, false)
        );
        let read = store.attendance_day(id, host.id, day).await.expect("read");
        assert_eq!((read.seconds, read.achieved), (605, true));
        // Concurrent additions are all counted, and achieved exactly once.
        let other_day = date("2026-03-04");
        let adds =
            join_all((0..20).map(|_| store.add_attendance(id, host.id, other_day, 60, 600, at)))
                .await;
        let newly = adds
            .iter()
            .filter(|a| a.as_ref().expect("add").newly_achieved)
            .count();
        assert_eq!(newly, 1);
        assert_eq!(
            store
                .attendance_day(id, host.id, other_day)
                .await
                .expect("read")
                .seconds,
            1200
        );
        let people = store.participants(id).await.expect("read");
        assert_eq!(people[0].achieved_sessions, 2);
        assert_eq!(
            store.challenge_achievements(id).await.expect("read"),
            vec![(day, 1), (other_day, 1)]
        );
    }

    pub async fn completion_settles_each_participant_once(store: SqlStore) {
        let host = user(&store, "host").await;
        let guest = user(&store, "guest").await;
        let id = challenge(&store, &host, "settle", 10).await;
        let later = challenge(&store, &host, "later", 10).await;
        store
            .update_challenge(later, &spec("later", "2026-03-20", "2026-03-25", 10), now())
            .await
            .expect("move later");
        store
            .join_challenge(id, guest.id, now())
            .await
            .expect("join");
        let ended = ts("2026-03-09T00:00:00Z");
        assert!(
            store
                .unfinalized_ended(now(), 10)
                .await
                .expect("read")
                .is_empty()
        );
        assert_eq!(
            store.unfinalized_ended(ended, 10).await.expect("read"),
            vec![id]
        );
        assert!(
            store
                .finalize_participant(id, host.id, ParticipantStatus::Completed, ended)
                .await
                .expect("settle")
        );
        assert!(
            !store
                .finalize_participant(id, host.id, ParticipantStatus::Failed, ended)
                .await
                .expect("settle"),
            "already settled"
        );
        assert!(
            store
                .finalize_participant(id, guest.id, ParticipantStatus::Failed, ended)
                .await
                .expect("settle")
        );
        store.mark_finalized(id, ended).await.expect("mark");
        assert!(
            store
                .unfinalized_ended(ended, 10)
                .await
                .expect("read")
                .is_empty()
        );
        assert_eq!(
            store
                .membership(id, host.id)
                .await
                .expect("read")
                .map(|m| m.status),
            Some(ParticipantStatus::Completed)
        );
        let completed = store
            .my_challenges(host.id, MyChallengesState::Completed)
            .await
            .expect("mine");
        assert_eq!(completed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
        let active = store
            .my_challenges(host.id, MyChallengesState::Active)
            .await
            .expect("mine");
        assert_eq!(active.iter().map(|c| c.id).collect::<Vec<_>>(), vec![later]);
        // Settled places are still places (not cancelled).
        assert!(store.is_participant(id, guest.id).await.expect("read"));
    }

    pub async fn scores_totals_and_reconciliation(store: SqlStore) {
        let host = user(&store, "host").await;
        let guest = user(&store, "guest").await;
        let id = challenge(&store, &host, "scores", 10).await;
        let d1 = date("2026-03-03");
        let t1 = ts("2026-03-02T22:20:00Z");
        assert!(
            store
                .record_score(host.id, id, ScoreKind::Session, Some(d1), 10, t1)
                .await
                .expect("record")
        );
        assert!(
            !store
                .record_score(host.id, id, ScoreKind::Session, Some(d1), 10, t1)
                .await
                .expect("record"),
            "idempotent"
        );
        let t2 = ts("2026-03-09T00:00:00Z");
        assert!(
            store
                .record_score(host.id, id, ScoreKind::Completion, None, 50, t2)
                .await
                .expect("record")
        );
        // Achievements and completions the ledger missed are reconciled, once.
        store
            .join_challenge(id, guest.id, now())
            .await
            .expect("join");
        store
            .add_attendance(id, guest.id, d1, 600, 600, t1)
            .await
            .expect("achieve");
        store
            .finalize_participant(id, guest.id, ParticipantStatus::Completed, t2)
            .await
            .expect("settle");
        store
            .add_attendance(id, host.id, d1, 600, 600, t1)
            .await
            .expect("achieve");
        let rules = ssgwan_domain::award::AwardRules::DEFAULT;
        assert_eq!(store.reconcile_scores(&rules).await.expect("reconcile"), 2);
        assert_eq!(store.reconcile_scores(&rules).await.expect("reconcile"), 0);

        let mut totals = store.score_totals(None).await.expect("totals");
        totals.sort_by_key(|t| t.user_id);
        assert_eq!(totals.len(), 2);
        assert_eq!(
            (
                totals[0].user_id,
                totals[0].score,
                totals[0].completed,
                totals[0].reached_at
            ),
            (host.id, 60, 1, t2.as_millisecond())
        );
        assert_eq!(
            (totals[1].user_id, totals[1].score, totals[1].completed),
            (guest.id, 60, 1)
        );
        let recent = store
            .score_totals(Some(ts("2026-03-05T00:00:00Z")))
            .await
            .expect("totals");
        assert!(recent.iter().all(|t| t.score == 50 && t.completed == 1));
    }

    pub async fn statistics_reads(store: SqlStore) {
        let host = user(&store, "host").await;
        let id = challenge(&store, &host, "stats", 10).await;
        let second = challenge(&store, &host, "stats 2", 10).await;
        let at = ts("2026-03-02T22:30:00Z");
        for (challenge_id, day, seconds) in [
            (id, "2026-03-03", 700),
            (id, "2026-03-04", 100),
            (id, "2026-03-06", 900),
            (second, "2026-03-04", 800),
        ] {
            store
                .add_attendance(challenge_id, host.id, date(day), seconds, 600, at)
                .await
                .expect("attend");
        }
        let rows = store
            .user_attendance(host.id, date("2026-03-04"), date("2026-03-05"))
            .await
            .expect("read");
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.date == date("2026-03-04")));
        assert_eq!(rows.iter().filter(|r| r.achieved_at.is_some()).count(), 1);
        let achieved = store.achieved_sessions(host.id).await.expect("read");
        assert_eq!(achieved.len(), 3);
        assert!(achieved.iter().all(|r| r.achieved_at == Some(at)));
        let participations = store.participations(host.id).await.expect("read");
        let mut ids: Vec<_> = participations.iter().map(|p| p.challenge.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![id, second]);
        assert!(
            participations
                .iter()
                .all(|p| p.status == ParticipantStatus::Active
                    && p.joined_at == now()
                    && p.challenge.joined)
        );
    }

    fn tagged(title: &str, tags: &[&str]) -> ssgwan_domain::ChallengeSpec {
        let mut s = spec(title, "2026-03-03", "2026-03-09", 10);
        s.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        s.description = format!("{title}: 함께 해요");
        // What validation would compute, so search sees the tags.
        s
    }

    fn list(sort: ChallengeSort, limit: i64) -> ChallengeQuery {
        ChallengeQuery {
            text: None,
            tag: None,
            category: None,
            status: None,
            sort,
            limit,
            after: None,
        }
    }

    pub async fn tags_are_kept_in_order_filtered_and_counted(store: SqlStore) {
        let host = user(&store, "tagger").await;
        let create = |s: ssgwan_domain::ChallengeSpec| {
            let store = store.clone();
            async move {
                store
                    .create_challenge(
                        host.id,
                        &s,
                        date("2026-03-02"),
                        now(),
                        ssgwan_store::CreationLimit::NONE,
                    )
                    .await
                    .expect("create")
            }
        };
        let run = create(tagged("새벽 러닝", &["Running", "아침", "건강"])).await;
        let study = create(tagged("영어 공부", &["English", "아침"])).await;
        let plain = create(tagged("그냥", &[])).await;
        // Today 10:00–11:00 in Seoul: over by 02:00 UTC.
        let mut today = crate::support::draft("x", "2026-03-02", "2026-03-02", 10);
        today.session_start = Some("10:00".into());
        today.session_end = Some("11:00".into());
        let mut ended = tagged("지난 러닝", &["running", "옛날"]);
        ended.schedule = today.validate(now()).expect("valid").schedule;
        let ended = create(ended).await;

        let record = store
            .challenge(run, None)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(
            record.spec.tags,
            vec!["Running", "아침", "건강"],
            "kept as typed, in order"
        );
        assert!(
            store
                .challenge(plain, None)
                .await
                .expect("read")
                .expect("exists")
                .spec
                .tags
                .is_empty()
        );

        // A tag filter matches case-insensitively and combines with the other filters.
        let by_tag = |tag: &str, text: Option<&str>| {
            let mut q = list(ChallengeSort::New, 50);
            q.tag = Some(tag.to_owned());
            q.text = text.map(str::to_owned);
            q
        };
        let ids = |records: Vec<ssgwan_store::ChallengeRecord>| {
            records.into_iter().map(|r| r.id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(store
                .list_challenges(&by_tag("RUNNING", None), None, now())
                .await
                .expect("list")),
            vec![ended, run]
        );
        assert_eq!(
            ids(store
                .list_challenges(&by_tag("아침", None), None, now())
                .await
                .expect("list")),
            vec![study, run]
        );
        assert_eq!(
            ids(store
                .list_challenges(&by_tag("아침", Some("영어")), None, now())
                .await
                .expect("list")),
            vec![study]
        );
        let mut running_now = by_tag("running", None);
        running_now.status = Some(ChallengeStatus::Recruiting);
        assert_eq!(
            ids(store
                .list_challenges(&running_now, None, now())
                .await
                .expect("list")),
            vec![run]
        );
        assert!(
            store
                .list_challenges(&by_tag("없는태그", None), None, now())
                .await
                .expect("list")
                .is_empty()
        );
        // Listed records carry their tags (loaded for the page at once).
        let page = store
            .list_challenges(&list(ChallengeSort::New, 50), None, now())
            .await
            .expect("list");
        let study_record = page.iter().find(|r| r.id == study).expect("listed");
        assert_eq!(study_record.spec.tags, vec!["English", "아침"]);
        // `q` finds tags too (search text is computed by the domain).
        let mut q = list(ChallengeSort::New, 50);
        q.text = Some("#english".into());
        assert_eq!(
            ids(store.list_challenges(&q, None, now()).await.expect("list")),
            vec![study]
        );

        // Popular tags: among challenges that have not ended, most used first.
        let popular = store
            .popular_tags(ts("2026-03-02T16:00:00Z"), 10)
            .await
            .expect("popular");
        let counts: Vec<(String, i64)> = popular
            .iter()
            .map(|t| (t.tag.to_lowercase(), t.count))
            .collect();
        assert_eq!(counts[0], ("아침".to_owned(), 2), "{counts:?}");
        assert!(
            counts.contains(&("running".to_owned(), 1)),
            "the ended one does not count: {counts:?}"
        );
        assert!(!counts.iter().any(|(t, _)| t == "옛날"), "{counts:?}");
        assert_eq!(counts.len(), 4, "{counts:?}");
        assert_eq!(
            store
                .popular_tags(ts("2026-03-02T16:00:00Z"), 1)
                .await
                .expect("popular")
                .len(),
            1
        );
        // Before it ended, the old one counted.
        let before = store.popular_tags(now(), 10).await.expect("popular");
        assert!(
            before
                .iter()
                .any(|t| t.tag.to_lowercase() == "running" && t.count == 2),
            "{before:?}"
        );

        // An edit replaces the tags in the same transaction; deletion takes them along.
        store
            .update_challenge(study, &tagged("영어 공부", &["Speaking"]), now())
            .await
            .expect("edit");
        assert_eq!(
            store
                .challenge(study, None)
                .await
                .expect("read")
                .expect("exists")
                .spec
                .tags,
            vec!["Speaking"]
        );
        assert_eq!(
            ids(store
                .list_challenges(&by_tag("아침", None), None, now())
                .await
                .expect("list")),
            vec![run]
        );
        store.delete_challenge(run, now()).await.expect("delete");
        assert!(
            store
                .list_challenges(&by_tag("아침", None), None, now())
                .await
                .expect("list")
                .is_empty()
        );
        // A refused edit (after the start) leaves the tags alone.
        assert_eq!(
            conflict(
                store
                    .update_challenge(study, &tagged("x", &["a"]), ts("2026-03-04T00:00:00Z"))
                    .await
            ),
            Conflict::AlreadyStarted
        );
        assert_eq!(
            store
                .challenge(study, None)
                .await
                .expect("read")
                .expect("exists")
                .spec
                .tags,
            vec!["Speaking"]
        );
    }

    pub async fn notices_are_set_and_cleared_at_any_time(store: SqlStore) {
        let host = user(&store, "noticer").await;
        let id = challenge(&store, &host, "notice", 10).await;
        let read = || async {
            store
                .challenge(id, None)
                .await
                .expect("read")
                .expect("exists")
        };
        let fresh = read().await;
        assert_eq!((fresh.notice, fresh.notice_updated_at), (None, None));
        let text = "내일은 07:10에 시작합니다 🙏\n늦지 마세요!";
        store.set_notice(id, Some(text), now()).await.expect("set");
        let set = read().await;
        assert_eq!(set.notice.as_deref(), Some(text));
        assert_eq!(set.notice_updated_at, Some(now()));
        // After the challenge has ended, too; the definition is untouched.
        let later = ts("2026-03-20T00:00:00Z");
        store
            .set_notice(id, Some(&"가".repeat(1000)), later)
            .await
            .expect("set after the end");
        let long = read().await;
        assert_eq!(long.notice.map(|n| n.chars().count()), Some(1000));
        assert_eq!(long.updated_at, fresh.updated_at);
        store.set_notice(id, None, later).await.expect("clear");
        let cleared = read().await;
        assert_eq!(
            (cleared.notice, cleared.notice_updated_at),
            (None, Some(later))
        );
        assert!(matches!(
            store.set_notice(id + 1000, Some("x"), now()).await,
            Err(StoreError::NotFound(Entity::Challenge))
        ));
    }

    pub async fn wishes_are_idempotent_counted_and_listed(store: SqlStore) {
        let host = user(&store, "wish-host").await;
        let fan = user(&store, "wish-fan").await;
        let other = user(&store, "wish-other").await;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(challenge(&store, &host, &format!("wish {i}"), 10).await);
        }
        assert!(store.wish(fan.id, ids[0], now()).await.expect("wish"));
        assert!(
            !store
                .wish(fan.id, ids[0], now() + hours(1))
                .await
                .expect("again"),
            "idempotent"
        );
        assert!(store.wish(other.id, ids[0], now()).await.expect("wish"));
        let seen_by = |viewer: Option<i64>| {
            let store = store.clone();
            let id = ids[0];
            async move {
                store
                    .challenge(id, viewer)
                    .await
                    .expect("read")
                    .expect("exists")
            }
        };
        let record = seen_by(Some(fan.id)).await;
        assert_eq!((record.wish_count, record.wished), (2, true));
        assert!(!seen_by(Some(host.id)).await.wished);
        assert!(!seen_by(None).await.wished);
        assert_eq!(record.popularity(), 4, "2 × one participant + 2 wishes");

        assert!(store.unwish(other.id, ids[0]).await.expect("unwish"));
        assert!(
            !store.unwish(other.id, ids[0]).await.expect("again"),
            "idempotent"
        );
        assert!(!store.unwish(other.id, ids[1]).await.expect("never wished"));
        assert_eq!(seen_by(None).await.wish_count, 1);
        for missing in [
            store.wish(fan.id, ids[4] + 1000, now()).await,
            store.unwish(fan.id, ids[4] + 1000).await,
        ] {
            assert!(
                matches!(missing, Err(StoreError::NotFound(Entity::Challenge))),
                "{missing:?}"
            );
        }

        // The wish list: newest wish first, paged by cursor; ties on time fall back to id.
        for (i, at) in [(2, 2), (1, 3), (3, 3), (4, 1)] {
            store
                .wish(fan.id, ids[i], now() + hours(at))
                .await
                .expect("wish");
        }
        let mut after = None;
        let mut seen = Vec::new();
        loop {
            let page = store
                .wished_challenges(fan.id, after, 2)
                .await
                .expect("wishes");
            if page.is_empty() {
                break;
            }
            assert!(
                page.iter()
                    .all(|w| w.challenge.wished && !w.challenge.joined)
            );
            after = Some(page.last().expect("non-empty").cursor());
            seen.extend(page.into_iter().map(|w| (w.challenge.id, w.wished_at)));
        }
        assert_eq!(
            seen,
            vec![
                (ids[3], now() + hours(3)),
                (ids[1], now() + hours(3)),
                (ids[2], now() + hours(2)),
                (ids[4], now() + hours(1)),
                (ids[0], now()),
            ]
        );
        assert!(
            store
                .wished_challenges(other.id, None, 10)
                .await
                .expect("wishes")
                .is_empty()
        );
        // Listings carry `wished` for the viewer.
        let page = store
            .list_challenges(&list(ChallengeSort::New, 10), Some(fan.id), now())
            .await
            .expect("list");
        assert_eq!(page.iter().filter(|c| c.wished).count(), 5);
        // Deleting a challenge takes its wishes with it.
        store.delete_challenge(ids[2], now()).await.expect("delete");
        assert_eq!(
            store
                .wished_challenges(fan.id, None, 10)
                .await
                .expect("wishes")
                .len(),
            4
        );
    }

    pub async fn racing_wishes_keep_the_count_equal_to_the_rows(store: SqlStore) {
        let host = user(&store, "race-host").await;
        let id = challenge(&store, &host, "wished by many", 10).await;
        let mut users = Vec::new();
        for i in 0..12 {
            users.push(user(&store, &format!("racer{i}")).await.id);
        }
        // Every user wishes and unwishes several times at once, from several tasks each.
        let tasks = users
            .iter()
            .flat_map(|&u| (0..6).map(move |k| (u, k)))
            .map(|(u, k)| {
                let store = store.clone();
                tokio::spawn(async move {
                    for round in 0..4 {
                        if (k + round) % 2 == 0 {
                            store.wish(u, id, now()).await.expect("wish");
                        } else {
                            store.unwish(u, id).await.expect("unwish");
                        }
                    }
                })
            })
            .collect::<Vec<_>>();
        for task in join_all(tasks).await {
            task.expect("task");
        }
        let mut rows = 0;
        for &u in &users {
            if store
                .challenge(id, Some(u))
                .await
                .expect("read")
                .expect("exists")
                .wished
            {
                rows += 1;
            }
        }
        let count = store
            .challenge(id, None)
            .await
            .expect("read")
            .expect("exists")
            .wish_count;
        assert_eq!(count, rows, "wish_count equals the wish rows");
        // Settle everyone on "wished" and then on "not wished": the count follows exactly.
        join_all(users.iter().map(|&u| store.wish(u, id, now()))).await;
        assert_eq!(
            store
                .challenge(id, None)
                .await
                .expect("read")
                .expect("exists")
                .wish_count,
            12
        );
        join_all(users.iter().map(|&u| store.unwish(u, id))).await;
        assert_eq!(
            store
                .challenge(id, None)
                .await
                .expect("read")
                .expect("exists")
                .wish_count,
            0
        );
    }

    pub async fn popularity_weighs_participants_twice_and_pages_exactly(store: SqlStore) {
        let host = user(&store, "pop-host").await;
        let mut people = Vec::new();
        for i in 0..6 {
            people.push(user(&store, &format!("pop{i}")).await.id);
        }
        let mut ids = Vec::new();
        for i in 0..9 {
            ids.push(challenge(&store, &host, &format!("pop {i}"), 20).await);
        }
        // (challenge, extra participants, wishes): popularity = 2 × participants + wishes.
        for (at, joins, wishes) in [
            (0, 2, 0),
            (1, 0, 4),
            (2, 1, 3),
            (3, 0, 1),
            (4, 3, 0),
            (5, 0, 2),
        ] {
            for &p in &people[..joins] {
                store.join_challenge(ids[at], p, now()).await.expect("join");
            }
            for &p in &people[..wishes] {
                store.wish(p, ids[at], now()).await.expect("wish");
            }
        }
        let mut q = list(ChallengeSort::Popular, 2);
        let mut seen = Vec::new();
        loop {
            let page = store.list_challenges(&q, None, now()).await.expect("list");
            if page.is_empty() {
                break;
            }
            q.after = Some(
                page.last()
                    .expect("non-empty")
                    .cursor(ChallengeSort::Popular),
            );
            seen.extend(page.into_iter().map(|c| (c.id, c.popularity())));
        }
        // ids[4]: 2×4 = 8; ids[2]: 2×2+3 = 7; ids[0]: 2×3 = 6, ids[1]: 2+4 = 6 (newer id first);
        // ids[5]: 2+2 = 4; ids[3]: 2+1 = 3; the rest 2, newest first.
        assert_eq!(
            seen,
            vec![
                (ids[4], 8),
                (ids[2], 7),
                (ids[1], 6),
                (ids[0], 6),
                (ids[5], 4),
                (ids[3], 3),
                (ids[8], 2),
                (ids[7], 2),
                (ids[6], 2),
            ]
        );
    }

    pub async fn score_activity_sums_spans_in_one_query(store: SqlStore) {
        let a = user(&store, "active").await;
        let b = user(&store, "quiet").await;
        let idle = user(&store, "idle").await;
        let day = |d: &str| ts(&format!("{d}T00:00:00Z"));
        let bounds: Vec<_> = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
            .map(day)
            .to_vec();
        for (who, challenge_id, session, points, at) in [
            (a.id, 1, "2026-02-20", 10, "2026-02-20T10:00:00Z"),
            (a.id, 1, "2026-03-01", 10, "2026-03-01T00:00:00Z"),
            (a.id, 2, "2026-03-01", 10, "2026-03-01T23:59:59.999Z"),
            (a.id, 1, "2026-03-03", 10, "2026-03-03T12:00:00Z"),
            (a.id, 3, "", 50, "2026-03-03T13:00:00Z"),
            (a.id, 1, "2026-03-04", 10, "2026-03-04T00:00:00Z"),
            (b.id, 1, "2026-03-02", 10, "2026-03-02T05:00:00Z"),
        ] {
            let (kind, session_date) = if session.is_empty() {
                (ScoreKind::Completion, None)
            } else {
                (ScoreKind::Session, Some(date(session)))
            };
            store
                .record_score(who, challenge_id, kind, session_date, points, ts(at))
                .await
                .expect("record");
        }
        let before = store.round_trips();
        let mut activity = store
            .score_activity(&[a.id, b.id, idle.id], &bounds)
            .await
            .expect("activity");
        assert_eq!(store.round_trips() - before, 1, "one query for the page");
        activity.sort_by_key(|x| x.user_id);
        assert_eq!(
            activity,
            vec![
                ssgwan_store::ScoreActivity {
                    user_id: a.id,
                    total: 100,
                    spans: vec![20, 0, 60]
                },
                ssgwan_store::ScoreActivity {
                    user_id: b.id,
                    total: 10,
                    spans: vec![0, 10, 0]
                },
            ],
            "users without points are left out"
        );
        assert!(
            store
                .score_activity(&[], &bounds)
                .await
                .expect("activity")
                .is_empty()
        );
        // A hundred users cost the same single query.
        let many: Vec<i64> = (0..100).map(|i| a.id + i).collect();
        let before = store.round_trips();
        store
            .score_activity(&many, &bounds)
            .await
            .expect("activity");
        assert_eq!(store.round_trips() - before, 1);
        // A listing costs its query plus one for the page's tags, however long the page.
        let host = user(&store, "lister2").await;
        for i in 0..12 {
            challenge(&store, &host, &format!("counted {i}"), 10).await;
        }
        for limit in [2, 12] {
            let before = store.round_trips();
            let page = store
                .list_challenges(&list(ChallengeSort::Popular, limit), Some(a.id), now())
                .await
                .expect("list");
            assert_eq!(page.len() as i64, limit);
            assert_eq!(store.round_trips() - before, 2, "limit {limit}");
        }
    }

    pub async fn calendar_feeds_move_by_generation(store: SqlStore) {
        use ssgwan_store::CalendarStore;
        let a = user(&store, "feed-a").await;
        let b = user(&store, "feed-b").await;
        assert_eq!(store.calendar_feed(a.id).await.expect("read"), None);
        assert!(
            store
                .set_calendar_feed(a.id, 1, "hash-a1", now())
                .await
                .expect("create")
        );
        assert!(
            !store
                .set_calendar_feed(a.id, 1, "hash-a1x", now())
                .await
                .expect("again"),
            "first wins"
        );
        assert!(
            store
                .set_calendar_feed(b.id, 1, "hash-b1", now())
                .await
                .expect("b")
        );
        assert_eq!(
            store.calendar_feed_owner("hash-a1").await.expect("owner"),
            Some(a.id)
        );
        // A reset from generation 1 to 2; a racing second reset from 1 loses.
        assert!(
            store
                .set_calendar_feed(a.id, 2, "hash-a2", now())
                .await
                .expect("reset")
        );
        assert!(
            !store
                .set_calendar_feed(a.id, 2, "hash-a2x", now())
                .await
                .expect("stale")
        );
        assert_eq!(store.calendar_feed(a.id).await.expect("read"), Some(2));
        assert_eq!(
            store.calendar_feed_owner("hash-a1").await.expect("old"),
            None
        );
        assert_eq!(
            store.calendar_feed_owner("hash-a2").await.expect("new"),
            Some(a.id)
        );
        assert_eq!(
            store.calendar_feed_owner("hash-b1").await.expect("b"),
            Some(b.id)
        );
    }

    pub async fn notifications_dedupe_page_and_read(store: SqlStore) {
        use ssgwan_store::{NewNotification, NotificationStore};
        let a = user(&store, "note-a").await;
        let b = user(&store, "note-b").await;
        let id = challenge(&store, &a, "notes", 5).await;
        let new = |user: i64, key: Option<&str>| NewNotification {
            user_id: user,
            kind: "SESSION_REMINDER".into(),
            challenge_id: Some(id),
            data: r#"{"minutes":10}"#.into(),
            dedupe_key: key.map(str::to_owned),
        };
        // Twenty racing inserts of one key: exactly one row.
        let racing = join_all((0..20).map(|_| {
            let store = store.clone();
            let n = new(a.id, Some("reminder:1:2026-03-03"));
            async move { store.create_notification(&n, now()).await.expect("insert") }
        }))
        .await;
        assert_eq!(racing.iter().filter(|r| r.is_some()).count(), 1);
        // The same key for another user is theirs; no key never collides.
        assert!(
            store
                .create_notification(&new(b.id, Some("reminder:1:2026-03-03")), now())
                .await
                .expect("b")
                .is_some()
        );
        for _ in 0..4 {
            assert!(
                store
                    .create_notification(&new(a.id, None), now())
                    .await
                    .expect("plain")
                    .is_some()
            );
        }
        assert_eq!(store.unread_notifications(a.id).await.expect("count"), 5);
        let first = store.notifications(a.id, None, 3).await.expect("page");
        assert_eq!(first.len(), 3);
        assert!(first[0].id > first[1].id, "newest first");
        assert_eq!(first[0].data, r#"{"minutes":10}"#);
        let rest = store
            .notifications(a.id, Some(first[2].id), 3)
            .await
            .expect("page");
        assert_eq!(rest.len(), 2);
        assert_eq!(
            store
                .mark_notifications_read(a.id, first[1].id, now())
                .await
                .expect("read"),
            4
        );
        assert_eq!(
            store
                .mark_notifications_read(a.id, first[1].id, now())
                .await
                .expect("again"),
            0
        );
        assert_eq!(store.unread_notifications(a.id).await.expect("count"), 1);
        assert_eq!(
            store.unread_notifications(b.id).await.expect("b untouched"),
            1
        );
        // A notification about a deleted challenge is not stored.
        store
            .delete_challenge(id, now())
            .await
            .expect("delete before the start");
        assert_eq!(
            store
                .create_notification(&new(a.id, Some("late")), now())
                .await
                .expect("gone"),
            None
        );
    }

    pub async fn notification_settings_and_reminder_candidates(store: SqlStore) {
        use ssgwan_store::{NotificationSettingsRecord, NotificationStore};
        let a = user(&store, "remind-a").await;
        let b = user(&store, "remind-b").await;
        let id = challenge(&store, &a, "reminded", 5).await;
        store.join_challenge(id, b.id, now()).await.expect("join");
        assert_eq!(store.notification_settings(a.id).await.expect("none"), None);
        let mut settings = NotificationSettingsRecord {
            kinds: 1,
            minutes_before: 30,
            quiet_start: Some("23:00".into()),
            quiet_end: Some("07:00".into()),
            timezone: Some("Europe/Paris".into()),
        };
        store
            .set_notification_settings(a.id, &settings, now())
            .await
            .expect("insert");
        settings.minutes_before = 5;
        settings.quiet_start = None;
        settings.quiet_end = None;
        store
            .set_notification_settings(a.id, &settings, now())
            .await
            .expect("update");
        assert_eq!(
            store.notification_settings(a.id).await.expect("read"),
            Some(settings.clone())
        );
        // Starting tomorrow: a candidate from a day before; in pages by (challenge, user).
        let until = now() + hours(48);
        let all = store
            .reminder_candidates(now(), until, None, 10)
            .await
            .expect("candidates");
        assert_eq!(
            all.iter().map(|c| c.user_id).collect::<Vec<_>>(),
            [a.id, b.id]
        );
        assert_eq!(all[0].settings, Some(settings));
        assert_eq!(all[1].settings, None);
        assert_eq!(all[0].challenge.spec.title, "reminded");
        let page = store
            .reminder_candidates(now(), until, Some((id, a.id)), 10)
            .await
            .expect("after a");
        assert_eq!(page.len(), 1);
        assert!(
            store
                .reminder_candidates(now(), now() + hours(1), None, 10)
                .await
                .expect("too early")
                .is_empty()
        );
    }

    pub async fn push_subscriptions_belong_to_one_user(store: SqlStore) {
        use ssgwan_store::PushStore;
        let a = user(&store, "push-a").await;
        let b = user(&store, "push-b").await;
        let endpoint = "https://push.example.com/send/abc";
        assert!(
            store
                .save_push_subscription(a.id, endpoint, "key1", "auth1", now())
                .await
                .expect("save")
        );
        assert!(
            store
                .save_push_subscription(a.id, endpoint, "key2", "auth2", now())
                .await
                .expect("renew")
        );
        assert!(
            !store
                .save_push_subscription(b.id, endpoint, "key3", "auth3", now())
                .await
                .expect("taken")
        );
        let subs = store.push_subscriptions(a.id).await.expect("list");
        assert_eq!((subs.len(), subs[0].p256dh.as_str()), (1, "key2"));
        assert!(
            store
                .push_subscriptions(b.id)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(
            !store
                .delete_push_subscription(b.id, endpoint)
                .await
                .expect("not b's")
        );
        assert!(store.delete_push_endpoint(endpoint).await.expect("gone"));
        assert!(
            store
                .push_subscriptions(a.id)
                .await
                .expect("list")
                .is_empty()
        );
    }

    fn key(n: u8) -> String {
        format!("{}.png", hex_of(n).repeat(32))
    }

    fn hex_of(n: u8) -> String {
        format!("{:02x}", n)
    }

    fn path(key: &str) -> String {
        format!("/api/files/{key}")
    }

    const QUOTA: ssgwan_domain::upload::UploadQuota = ssgwan_domain::upload::UploadQuota {
        files: 3,
        bytes: 1_000,
    };

    pub async fn uploads_are_owned_counted_against_the_quota_and_swept(store: SqlStore) {
        use ssgwan_domain::upload::UploadUsage;
        use ssgwan_store::{CreationLimit, UploadStore};
        let alice = user(&store, "alice").await;
        let bob = user(&store, "bob").await;
        let day = now();
        store
            .record_upload(alice.id, &key(1), 400, now(), day, QUOTA)
            .await
            .expect("first");
        store
            .record_upload(alice.id, &key(2), 500, now(), day, QUOTA)
            .await
            .expect("second");
        assert_eq!(
            store.upload_usage(alice.id, day).await.expect("usage"),
            UploadUsage {
                files: 2,
                bytes: 900
            }
        );
        // 900 + 101 bytes is over the byte quota; nothing is recorded.
        assert_eq!(
            conflict(
                store
                    .record_upload(alice.id, &key(3), 101, now(), day, QUOTA)
                    .await
            ),
            Conflict::UploadQuotaExceeded
        );
        assert!(!store.file_referenced(&key(3)).await.expect("read"));
        store
            .record_upload(alice.id, &key(3), 100, now(), day, QUOTA)
            .await
            .expect("exactly the quota");
        assert_eq!(
            conflict(
                store
                    .record_upload(alice.id, &key(4), 0, now(), day, QUOTA)
                    .await
            ),
            Conflict::UploadQuotaExceeded,
            "three files is the count quota"
        );
        // Yesterday's uploads do not count today.
        let tomorrow = now() + hours(24);
        assert_eq!(
            store.upload_usage(alice.id, tomorrow).await.expect("usage"),
            UploadUsage::default()
        );
        // Bob uploads the same file as Alice: his record, beside hers.
        store
            .record_upload(bob.id, &key(1), 400, now(), day, QUOTA)
            .await
            .expect("bob's");

        // Only one's own uploads become pictures; nothing changes on a refusal.
        let refused = store
            .update_user(
                bob.id,
                UserUpdate {
                    nickname: Some("robert".into()),
                    profile_image: Some(Some(path(&key(2)))),
                    ..Default::default()
                },
                now(),
            )
            .await;
        assert_eq!(conflict(refused), Conflict::UploadNotOwned);
        let unchanged = store.user(bob.id).await.expect("read").expect("bob");
        assert_eq!(
            (unchanged.nickname.as_str(), unchanged.profile_image),
            ("bob", None)
        );
        let set = store
            .update_user(
                alice.id,
                UserUpdate {
                    profile_image: Some(Some(path(&key(1)))),
                    ..Default::default()
                },
                now(),
            )
            .await
            .expect("her own");
        assert_eq!(set.profile_image, Some(path(&key(1))));
        // Pictures that are not upload paths (Kakao's) are stored as given.
        store
            .update_user(
                bob.id,
                UserUpdate {
                    profile_image: Some(Some("https://k.example/b.jpg".into())),
                    ..Default::default()
                },
                now(),
            )
            .await
            .expect("kakao picture");
        // Thumbnails likewise, on create and on edit.
        let mut with_thumb = spec("thumb", "2026-03-03", "2026-03-09", 5);
        with_thumb.thumbnail = Some(path(&key(2)));
        assert_eq!(
            conflict(
                store
                    .create_challenge(
                        bob.id,
                        &with_thumb,
                        date("2026-03-02"),
                        now(),
                        CreationLimit::NONE
                    )
                    .await
            ),
            Conflict::UploadNotOwned
        );
        let id = store
            .create_challenge(
                alice.id,
                &with_thumb,
                date("2026-03-02"),
                now(),
                CreationLimit::NONE,
            )
            .await
            .expect("alice's thumbnail");
        let mut edit = with_thumb.clone();
        edit.thumbnail = Some(path(&key(9)));
        assert_eq!(
            conflict(store.update_challenge(id, &edit, now()).await),
            Conflict::UploadNotOwned
        );

        // The sweep: records older than the cutoff go unless their file is a picture.
        // key 1: Alice's picture (her record and Bob's stay), key 2: a thumbnail, key 3: unused.
        assert_eq!(
            store.forget_unused_uploads(now()).await.expect("sweep"),
            0,
            "nothing is older than the cutoff"
        );
        let later = now() + hours(48);
        assert_eq!(store.forget_unused_uploads(later).await.expect("sweep"), 1);
        assert!(!store.file_referenced(&key(3)).await.expect("read"));
        assert!(store.file_referenced(&key(1)).await.expect("read"));
        assert!(store.file_referenced(&key(2)).await.expect("read"));
        // Once Alice's picture changes, key 1's records (made and last used long before the
        // cutoff) are unused: both go.
        store
            .update_user(
                alice.id,
                UserUpdate {
                    profile_image: Some(None),
                    ..Default::default()
                },
                later,
            )
            .await
            .expect("cleared");
        assert_eq!(store.forget_unused_uploads(later).await.expect("sweep"), 2);
        assert!(!store.file_referenced(&key(1)).await.expect("read"));
        // A picture stored without a record (before uploads were recorded) keeps its file.
        assert!(store.file_referenced(&key(2)).await.expect("read"));
        assert!(!store.file_referenced(&key(7)).await.expect("read"));
    }

    pub async fn racing_uploads_never_exceed_the_quota(store: SqlStore) {
        use ssgwan_store::UploadStore;
        let alice = user(&store, "alice").await;
        let results = join_all((0..12u8).map(|n| {
            let store = store.clone();
            async move {
                store
                    .record_upload(alice.id, &key(n + 20), 10, now(), now(), QUOTA)
                    .await
            }
        }))
        .await;
        let recorded = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(recorded, 3, "{results:?}");
        assert!(results.iter().all(|r| matches!(
            r,
            Ok(()) | Err(StoreError::Conflict(Conflict::UploadQuotaExceeded))
        )));
        assert_eq!(
            store
                .upload_usage(alice.id, now())
                .await
                .expect("usage")
                .files,
            3
        );
    }

    pub async fn racing_creations_never_exceed_the_daily_limit(store: SqlStore) {
        use ssgwan_store::CreationLimit;
        let host = user(&store, "host").await;
        let limit = CreationLimit {
            max: 3,
            day_start: now() - hours(1),
        };
        let results = join_all((0..10).map(|n| {
            let store = store.clone();
            let host = host.id;
            async move {
                let s = spec(&format!("c{n}"), "2026-03-03", "2026-03-09", 5);
                store
                    .create_challenge(host, &s, date("2026-03-02"), now(), limit)
                    .await
            }
        }))
        .await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            3,
            "{results:?}"
        );
        assert!(results.iter().all(|r| matches!(
            r,
            Ok(_) | Err(StoreError::Conflict(Conflict::ChallengeLimitReached))
        )));
        let created = store
            .my_challenges(host.id, MyChallengesState::Created)
            .await
            .expect("created");
        assert_eq!(created.len(), 3);
        // The next day counts afresh; another user has a limit of their own.
        let tomorrow = CreationLimit {
            max: 3,
            day_start: now() + hours(1),
        };
        let s = spec("next day", "2026-03-03", "2026-03-09", 5);
        store
            .create_challenge(host.id, &s, date("2026-03-02"), now() + hours(2), tomorrow)
            .await
            .expect("a new day");
        let other = user(&store, "other").await;
        store
            .create_challenge(other.id, &s, date("2026-03-02"), now(), limit)
            .await
            .expect("another user");
    }

    pub async fn job_claims_go_to_one_caller_per_interval(store: SqlStore) {
        use ssgwan_store::UploadStore;
        let until = now() + hours(1);
        let results = join_all((0..8).map(|n| {
            let store = store.clone();
            async move {
                store
                    .claim_job("sweep", &format!("node-{n}"), now(), until)
                    .await
                    .expect("claim")
            }
        }))
        .await;
        assert_eq!(results.iter().filter(|won| **won).count(), 1, "{results:?}");
        assert!(
            !store
                .claim_job(
                    "sweep",
                    "late",
                    now() + hours(1) - SignedDuration::from_millis(1),
                    until
                )
                .await
                .expect("claim")
        );
        assert!(
            store
                .claim_job("sweep", "late", until, until + hours(1))
                .await
                .expect("claim"),
            "a lapsed claim is taken over"
        );
        assert!(
            store
                .claim_job("other job", "late", now(), until)
                .await
                .expect("claim"),
            "jobs are claimed apart"
        );
    }

    pub async fn award_facts_follow_places_and_the_schedule(store: SqlStore) {
        use ssgwan_domain::award::AwardRules;
        let host = user(&store, "host").await;
        let guest = user(&store, "guest").await;
        // Created at now() for 3 March in Seoul (it starts at midnight there).
        let id = challenge(&store, &host, "award", 10).await;
        let facts = store.award_facts(id).await.expect("read").expect("exists");
        assert_eq!(facts.participants, 1);
        assert_eq!(facts.scheduled_at, now());
        assert_eq!(facts.starts_at, ts("2026-03-02T15:00:00Z"));
        assert_eq!(store.award_facts(id + 1000).await.expect("read"), None);
        // An achieved session in a challenge of one is not reconciled into the ledger.
        let d1 = date("2026-03-03");
        store
            .add_attendance(id, host.id, d1, 600, 600, ts("2026-03-02T22:10:00Z"))
            .await
            .expect("achieve");
        assert_eq!(
            store
                .reconcile_scores(&AwardRules::DEFAULT)
                .await
                .expect("reconcile"),
            0
        );
        // A second place: the same achievement now earns its points.
        store
            .join_challenge(id, guest.id, now())
            .await
            .expect("join");
        assert_eq!(
            store
                .award_facts(id)
                .await
                .expect("read")
                .expect("exists")
                .participants,
            2
        );
        // An edit that keeps the start keeps the schedule's time (MySQL evaluates the SET list
        // left to right: the start is compared before it is assigned).
        let later = now() + hours(2);
        let mut retitled = spec("award v2", "2026-03-03", "2026-03-09", 10);
        store
            .update_challenge(id, &retitled, later)
            .await
            .expect("retitled");
        assert_eq!(
            store
                .award_facts(id)
                .await
                .expect("read")
                .expect("exists")
                .scheduled_at,
            now()
        );
        // One that moves the start sets it to the edit's time.
        retitled.schedule = spec("award v3", "2026-03-04", "2026-03-09", 10).schedule;
        store
            .update_challenge(id, &retitled, later)
            .await
            .expect("moved");
        let moved = store.award_facts(id).await.expect("read").expect("exists");
        assert_eq!(moved.scheduled_at, later);
        assert_eq!(moved.starts_at, ts("2026-03-03T15:00:00Z"));
        // The ledger is reconciled by the rules: moved 37 h ahead is enough for an hour's
        // lead, not for two days'.
        let day_ahead = AwardRules {
            min_lead_time: hours(48),
            ..AwardRules::DEFAULT
        };
        assert_eq!(
            store.reconcile_scores(&day_ahead).await.expect("reconcile"),
            0
        );
        assert_eq!(
            store
                .reconcile_scores(&AwardRules::DEFAULT)
                .await
                .expect("reconcile"),
            1
        );
    }
}
