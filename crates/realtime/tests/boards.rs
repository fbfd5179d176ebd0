//! One suite for every `RankingBoards`: each case runs on `LocalBoards` and on `RedisBoards`
//! (against a throwaway redis-server), and a randomized test drives both with the same
//! operations and compares every answer.

mod common;

use jiff::{ToSpan, civil::Date};
use rand::{Rng, SeedableRng, rngs::StdRng};
use ssgwan_domain::stats::{Period, Standing};
use ssgwan_realtime::{LocalBoards, Ranked, RankingBoards, RedisBoards, UserId};

use common::{RedisServer, on_local_and_redis};

fn day(s: &str) -> Date {
    s.parse().expect("date")
}

fn standing(user_id: UserId, score: i64, completed: i64, reached_at: i64) -> Standing {
    Standing {
        user_id,
        score,
        completed,
        reached_at,
    }
}

async fn order<B: RankingBoards>(boards: &B, period: Period, today: Date) -> Vec<(u64, UserId)> {
    boards
        .top(period, 100, today)
        .await
        .expect("top")
        .into_iter()
        .map(|r| (r.rank, r.standing.user_id))
        .collect()
}

/// How many users are on `period`'s board on the day `today`.
async fn len(boards: &impl RankingBoards, period: Period, today: &str) -> usize {
    boards.len(period, day(today)).await.expect("len")
}

// Runs each case on both implementations.
on_local_and_redis! {
    local: ssgwan_realtime::LocalBoards::new(),
    redis(server): (ssgwan_realtime::RedisBoards::new(server.client("t")), ()),
    cases: [
    ties_break_by_completions_then_who_got_there_first_then_user_id,
    add_reports_the_all_time_position_before_and_after,
    top_range_position_and_len_agree,
    week_and_month_boards_roll_over_by_period_start,
    late_points_stay_off_a_board_that_moved_on,
    replace_swaps_a_whole_board_and_marks_it_built,
    zero_point_adds_keep_the_time_the_score_was_reached,
    negative_and_large_values_order_correctly
    ];
}

async fn ties_break_by_completions_then_who_got_there_first_then_user_id(
    boards: impl RankingBoards,
) {
    let today = day("2026-03-04");
    // 60 points each for 1..=4; 5 has more points.
    boards.add(1, 60, false, 300, today).await.expect("add");
    boards.add(2, 10, true, 100, today).await.expect("add");
    boards.add(2, 50, false, 500, today).await.expect("add"); // one completion, reached 500
    boards.add(3, 60, false, 200, today).await.expect("add");
    boards.add(4, 60, false, 200, today).await.expect("add"); // same time as 3: id decides
    boards.add(5, 70, false, 900, today).await.expect("add");
    for period in Period::ALL {
        assert_eq!(
            order(&boards, period, today).await,
            vec![(1, 5), (2, 2), (3, 3), (4, 4), (5, 1)],
            "{period:?}"
        );
    }
    let two = boards
        .position(Period::All, 2, today)
        .await
        .expect("position")
        .expect("on the board");
    assert_eq!(two.standing, standing(2, 60, 1, 500));
}

async fn add_reports_the_all_time_position_before_and_after(boards: impl RankingBoards) {
    let today = day("2026-03-04");
    let (before, after) = boards.add(1, 10, false, 100, today).await.expect("add");
    assert_eq!(before, None, "not on the board before");
    assert_eq!(
        after,
        Some(Ranked {
            rank: 1,
            standing: standing(1, 10, 0, 100)
        })
    );
    boards.add(2, 10, false, 50, today).await.expect("add");
    boards.add(3, 60, true, 70, today).await.expect("add");
    let (before, after) = boards.add(1, 10, false, 200, today).await.expect("add");
    assert_eq!(before.map(|r| (r.rank, r.standing.score)), Some((3, 10)));
    assert_eq!(after.map(|r| (r.rank, r.standing.score)), Some((2, 20)));
    assert_eq!(
        order(&boards, Period::All, today).await,
        vec![(1, 3), (2, 1), (3, 2)]
    );
}

async fn top_range_position_and_len_agree(boards: impl RankingBoards) {
    let today = day("2026-03-04");
    for user in 1..=25 {
        boards
            .add(user, user * 10, false, 1000 - user, today)
            .await
            .expect("add");
    }
    assert_eq!(boards.len(Period::All, today).await.expect("len"), 25);
    let top = boards.top(Period::All, 10, today).await.expect("top");
    assert_eq!(top.len(), 10);
    assert_eq!(top[0].standing.user_id, 25);
    assert_eq!(top[9].rank, 10);
    let range = boards.range(Period::All, 5, 4, today).await.expect("range");
    assert_eq!(
        range
            .iter()
            .map(|r| (r.rank, r.standing.user_id))
            .collect::<Vec<_>>(),
        vec![(5, 21), (6, 20), (7, 19), (8, 18)]
    );
    assert_eq!(
        boards.range(Period::All, 0, 2, today).await.expect("range"),
        top[..2].to_vec(),
        "rank 0 means from the first"
    );
    assert_eq!(
        boards
            .range(Period::All, 24, 10, today)
            .await
            .expect("range")
            .len(),
        2,
        "stops at the end"
    );
    assert!(
        boards
            .range(Period::All, 26, 10, today)
            .await
            .expect("range")
            .is_empty()
    );
    assert!(
        boards
            .range(Period::All, 1, 0, today)
            .await
            .expect("range")
            .is_empty()
    );
    assert!(
        boards
            .top(Period::All, 0, today)
            .await
            .expect("top")
            .is_empty()
    );
    assert_eq!(
        boards
            .top(Period::All, 1000, today)
            .await
            .expect("top")
            .len(),
        25
    );
    for r in &range {
        assert_eq!(
            boards
                .position(Period::All, r.standing.user_id, today)
                .await
                .expect("position"),
            Some(*r)
        );
    }
    assert_eq!(
        boards
            .position(Period::All, 99, today)
            .await
            .expect("position"),
        None
    );
}

async fn week_and_month_boards_roll_over_by_period_start(boards: impl RankingBoards) {
    boards
        .add(1, 10, false, 1, day("2026-03-01"))
        .await
        .expect("add"); // a Sunday
    assert_eq!(len(&boards, Period::Week, "2026-03-01").await, 1);
    assert_eq!(
        len(&boards, Period::Week, "2026-03-02").await,
        0,
        "Monday starts a new week"
    );
    assert_eq!(
        len(&boards, Period::Week, "2026-03-01").await,
        0,
        "a board that moved on does not move back"
    );
    assert_eq!(len(&boards, Period::Month, "2026-03-02").await, 1);
    boards
        .add(2, 20, false, 2, day("2026-03-03"))
        .await
        .expect("add");
    assert_eq!(
        order(&boards, Period::Week, day("2026-03-08")).await,
        vec![(1, 2)]
    );
    assert_eq!(
        order(&boards, Period::Month, day("2026-03-31")).await,
        vec![(1, 2), (2, 1)]
    );
    assert_eq!(len(&boards, Period::Month, "2026-04-01").await, 0);
    assert_eq!(len(&boards, Period::All, "2027-01-01").await, 2);
    // A write on a later day moves the board on too.
    boards
        .add(3, 10, false, 3, day("2026-05-06"))
        .await
        .expect("add");
    assert_eq!(
        order(&boards, Period::Month, day("2026-04-15")).await,
        vec![(1, 3)],
        "the May board is current even for a reader still in April"
    );
}

async fn late_points_stay_off_a_board_that_moved_on(boards: impl RankingBoards) {
    boards
        .add(1, 10, false, 1, day("2026-03-09"))
        .await
        .expect("add");
    boards
        .add(2, 10, false, 2, day("2026-03-08"))
        .await
        .expect("add"); // last week
    assert_eq!(
        order(&boards, Period::Week, day("2026-03-09")).await,
        vec![(1, 1)]
    );
    assert_eq!(
        order(&boards, Period::Month, day("2026-03-09")).await,
        vec![(1, 1), (2, 2)]
    );
    assert_eq!(
        order(&boards, Period::All, day("2026-03-09")).await,
        vec![(1, 1), (2, 2)]
    );
}

async fn replace_swaps_a_whole_board_and_marks_it_built(boards: impl RankingBoards) {
    let today = day("2026-03-04");
    for period in Period::ALL {
        assert!(!boards.is_built(period).await.expect("is_built"));
    }
    boards.add(9, 500, false, 1, today).await.expect("add");
    boards
        .replace(
            Period::All,
            None,
            vec![
                standing(1, 100, 1, 10),
                standing(2, 100, 1, 5),
                standing(3, 200, 0, 50),
            ],
        )
        .await
        .expect("replace");
    assert!(boards.is_built(Period::All).await.expect("is_built"));
    assert!(!boards.is_built(Period::Week).await.expect("is_built"));
    assert_eq!(
        order(&boards, Period::All, today).await,
        vec![(1, 3), (2, 2), (3, 1)],
        "user 9 was not in the ledger's totals"
    );
    // Adds go on from the rebuilt totals.
    let (before, after) = boards.add(1, 10, false, 60, today).await.expect("add");
    assert_eq!(before.map(|r| r.rank), Some(3));
    assert_eq!(after.map(|r| r.standing), Some(standing(1, 110, 1, 60)));
    // A week board rebuilt for this week.
    let monday = day("2026-03-02");
    boards
        .replace(Period::Week, Some(monday), vec![standing(4, 10, 0, 1)])
        .await
        .expect("replace");
    assert!(boards.is_built(Period::Week).await.expect("is_built"));
    assert_eq!(order(&boards, Period::Week, today).await, vec![(1, 4)]);
    assert_eq!(
        len(&boards, Period::Week, "2026-03-09").await,
        0,
        "and it still rolls over"
    );
    assert!(
        boards.is_built(Period::Week).await.expect("is_built"),
        "a new period starts complete"
    );
    // An empty rebuild empties the board.
    boards
        .replace(Period::Month, Some(day("2026-03-01")), Vec::new())
        .await
        .expect("replace");
    assert_eq!(boards.len(Period::Month, today).await.expect("len"), 0);
    assert!(boards.is_built(Period::Month).await.expect("is_built"));
}

async fn zero_point_adds_keep_the_time_the_score_was_reached(boards: impl RankingBoards) {
    let today = day("2026-03-04");
    boards.add(1, 50, false, 100, today).await.expect("add");
    boards.add(2, 50, false, 200, today).await.expect("add");
    // A completion without points (as a zero-point event would be) keeps reached_at.
    boards.add(1, 0, true, 900, today).await.expect("add");
    let one = boards
        .position(Period::All, 1, today)
        .await
        .expect("position");
    assert_eq!(one.map(|r| r.standing), Some(standing(1, 50, 1, 100)));
    // Points earned "earlier" than the recorded time (an out-of-order event) keep the later one.
    boards.add(2, 10, false, 150, today).await.expect("add");
    let two = boards
        .position(Period::All, 2, today)
        .await
        .expect("position");
    assert_eq!(two.map(|r| r.standing), Some(standing(2, 60, 0, 200)));
}

async fn negative_and_large_values_order_correctly(boards: impl RankingBoards) {
    let today = day("2026-03-04");
    let big = 999_999_999_999_999;
    boards
        .replace(
            Period::All,
            None,
            vec![
                standing(1, -10, 0, 5),
                standing(2, 0, 0, -5),
                standing(3, big, big, big),
                standing(big, big, big, big),
                standing(-4, 0, 0, -5),
            ],
        )
        .await
        .expect("replace");
    assert_eq!(
        order(&boards, Period::All, today).await,
        vec![(1, 3), (2, big), (3, -4), (4, 2), (5, 1)]
    );
    let top = boards.top(Period::All, 1, today).await.expect("top");
    assert_eq!(top[0].standing, standing(3, big, big, big));
}

#[tokio::test]
async fn redis_refuses_values_it_cannot_hold_exactly() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let boards = RedisBoards::new(server.client("t"));
    let today = day("2026-03-04");
    let too_big = 1_000_000_000_000_000;
    assert!(matches!(
        boards.add(too_big, 10, false, 1, today).await,
        Err(ssgwan_realtime::RealtimeError::OutOfRange(_))
    ));
    boards
        .replace(Period::All, None, vec![standing(1, too_big - 5, 0, 1)])
        .await
        .expect("replace");
    assert!(
        matches!(
            boards.add(1, 10, false, 2, today).await,
            Err(ssgwan_realtime::RealtimeError::OutOfRange(_))
        ),
        "a sum past the range is refused by the script"
    );
    assert_eq!(
        boards
            .position(Period::All, 1, today)
            .await
            .expect("position")
            .map(|r| r.standing.score),
        Some(too_big - 5),
        "and changes nothing"
    );
}

#[tokio::test]
async fn a_reader_on_another_node_sees_the_same_board() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = RedisBoards::new(server.client("shared"));
    let b = RedisBoards::new(server.client("shared"));
    let other_deployment = RedisBoards::new(server.client("other"));
    let today = day("2026-03-04");
    a.add(1, 10, false, 1, today).await.expect("add");
    b.add(2, 20, false, 2, today).await.expect("add");
    assert_eq!(order(&a, Period::All, today).await, vec![(1, 2), (2, 1)]);
    assert_eq!(order(&b, Period::Week, today).await, vec![(1, 2), (2, 1)]);
    assert!(
        order(&other_deployment, Period::All, today)
            .await
            .is_empty()
    );
}

#[derive(Debug, Clone)]
enum Op {
    Add(UserId, i64, bool, i64, Date),
    Top(Period, usize, Date),
    Position(Period, UserId, Date),
    Len(Period, Date),
    Range(Period, u64, usize, Date),
    Replace(Period, Option<Date>, Vec<Standing>),
}

fn random_op(rng: &mut StdRng, today: &mut Date) -> Op {
    // Days mostly move forward (crossing weeks and months), sometimes a little back.
    match rng.random_range(0..10) {
        0..=2 => {
            *today = today
                .checked_add(rng.random_range(0..4).days())
                .expect("day")
        }
        3 => {
            *today = today
                .checked_sub(rng.random_range(0..3).days())
                .expect("day")
        }
        _ => {}
    }
    let period = Period::ALL[rng.random_range(0..3)];
    let user = rng.random_range(0..25);
    let at = rng.random_range(0..2_000);
    match rng.random_range(0..100) {
        0..=44 => {
            let points = [0, 10, 10, 10, 50, 60, -10][rng.random_range(0..7)];
            let day = today
                .checked_sub(rng.random_range(0..2).days())
                .expect("day");
            Op::Add(user, points, rng.random_bool(0.1), at, day)
        }
        45..=59 => Op::Top(period, rng.random_range(0..30), *today),
        60..=74 => Op::Position(period, user, *today),
        75..=81 => Op::Len(period, *today),
        82..=95 => Op::Range(
            period,
            rng.random_range(0..30),
            rng.random_range(0..8),
            *today,
        ),
        _ => {
            let start = match rng.random_range(0..4) {
                0 => period.start(today.checked_sub(10.days()).expect("day")),
                _ => period.start(*today),
            };
            let mut users: Vec<UserId> = (0..25).collect();
            let count = rng.random_range(0..20);
            let totals = (0..count)
                .map(|_| {
                    let user = users.swap_remove(rng.random_range(0..users.len()));
                    standing(
                        user,
                        rng.random_range(0..10) * 10,
                        rng.random_range(0..3),
                        rng.random_range(0..2_000),
                    )
                })
                .collect();
            Op::Replace(period, start, totals)
        }
    }
}

/// What an operation answered, comparable across implementations.
#[derive(Debug, PartialEq)]
enum Answer {
    Moved(Option<Ranked>, Option<Ranked>),
    List(Vec<Ranked>),
    One(Option<Ranked>),
    Count(usize),
    Done,
}

async fn apply(boards: &impl RankingBoards, op: &Op) -> Answer {
    match op.clone() {
        Op::Add(user, points, completion, at, day) => {
            let (before, after) = boards
                .add(user, points, completion, at, day)
                .await
                .expect("add");
            Answer::Moved(before, after)
        }
        Op::Top(period, limit, today) => {
            Answer::List(boards.top(period, limit, today).await.expect("top"))
        }
        Op::Position(period, user, today) => Answer::One(
            boards
                .position(period, user, today)
                .await
                .expect("position"),
        ),
        Op::Len(period, today) => Answer::Count(boards.len(period, today).await.expect("len")),
        Op::Range(period, from, count, today) => Answer::List(
            boards
                .range(period, from, count, today)
                .await
                .expect("range"),
        ),
        Op::Replace(period, start, totals) => {
            boards
                .replace(period, start, totals)
                .await
                .expect("replace");
            Answer::Done
        }
    }
}

#[tokio::test]
async fn redis_boards_answer_like_local_boards_under_random_operations() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    for seed in 0..16u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let local = LocalBoards::new();
        let redis = RedisBoards::new(server.client(&format!("seed{seed}")));
        let mut today = day("2026-02-20");
        let mut history = Vec::new();
        for step in 0..400 {
            let op = random_op(&mut rng, &mut today);
            history.push(op.clone());
            let expected = apply(&local, &op).await;
            let actual = apply(&redis, &op).await;
            assert_eq!(
                actual,
                expected,
                "seed {seed}, step {step}: {op:?}\nlast operations: {:?}",
                &history[history.len().saturating_sub(8)..]
            );
        }
        for period in Period::ALL {
            assert_eq!(
                redis.is_built(period).await.expect("is_built"),
                local.is_built(period).await.expect("is_built")
            );
        }
    }
}
