//! Ranking boards: all time, this week and this month, ordered by score, then completed
//! challenges, then who reached the score first, then user id. Behind [`RankingBoards`] so a
//! single node keeps them in memory ([`LocalBoards`]) and several nodes can share them in Redis
//! ([`RedisBoards`](crate::RedisBoards)); both order, tie-break and roll over identically (one
//! test suite runs against both). The database's score ledger is the source of truth; boards
//! are rebuilt from it at start and whenever [`RankingBoards::is_built`] says the shared copy
//! was lost.

use std::{collections::HashMap, sync::Mutex};

use async_trait::async_trait;
use jiff::civil::Date;
use ssgwan_domain::stats::{Period, Standing};

use crate::{RealtimeResult, UserId};

/// A position on a board (1-based rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub rank: u64,
    pub standing: Standing,
}

/// The all-time, weekly and monthly boards. Every read takes `today` (the server's local date):
/// a week or month board whose period is over starts empty, on every node at once.
///
/// Every method can fail with [`RealtimeError::Unavailable`](crate::RealtimeError) when the
/// boards live in a store that is down; the in-process implementation never fails.
#[async_trait]
pub trait RankingBoards: Send + Sync + 'static {
    /// Adds `points` earned by `user` at `at_ms` on `day` (the server's local date), plus one
    /// completed challenge when `completion`, to every board atomically. Returns the user's
    /// all-time position before and after.
    async fn add(
        &self,
        user: UserId,
        points: i64,
        completion: bool,
        at_ms: i64,
        day: Date,
    ) -> RealtimeResult<(Option<Ranked>, Option<Ranked>)>;
    /// Replaces a board with totals rebuilt from the ledger for the period starting `start`
    /// (one standing per user). Readers see the old board or the new one, never a mix.
    async fn replace(
        &self,
        period: Period,
        start: Option<Date>,
        totals: Vec<Standing>,
    ) -> RealtimeResult<()>;
    /// Whether `period`'s board was built by [`replace`](Self::replace) and is still there.
    /// False before the first rebuild, and when the shared store lost its data (Redis restarted
    /// empty): then rebuild the boards from the ledger.
    async fn is_built(&self, period: Period) -> RealtimeResult<bool>;
    /// The first `limit` positions as of `today`.
    async fn top(&self, period: Period, limit: usize, today: Date) -> RealtimeResult<Vec<Ranked>>;
    /// A user's position as of `today`.
    async fn position(
        &self,
        period: Period,
        user: UserId,
        today: Date,
    ) -> RealtimeResult<Option<Ranked>>;
    /// How many users are on the board.
    async fn len(&self, period: Period, today: Date) -> RealtimeResult<usize>;
    /// Positions `from..from + count` (1-based ranks).
    async fn range(
        &self,
        period: Period,
        from: u64,
        count: usize,
        today: Date,
    ) -> RealtimeResult<Vec<Ranked>>;
    /// Whether the shared store answers (for readiness checks); always fine in process.
    async fn ping(&self) -> RealtimeResult<()> {
        Ok(())
    }
}

/// A sorted set with rank queries: sorted chunks of at most `2 * CHUNK` items, so insert,
/// remove and rank cost O(√n) and the first N items are a prefix walk.
#[derive(Debug, Default)]
struct OrderedSet {
    chunks: Vec<Vec<Standing>>,
    len: usize,
}

const CHUNK: usize = 512;

impl OrderedSet {
    fn from_sorted(items: Vec<Standing>) -> Self {
        let len = items.len();
        Self {
            chunks: items.chunks(CHUNK).map(<[Standing]>::to_vec).collect(),
            len,
        }
    }

    /// The chunk that holds `item` or where it belongs.
    fn chunk_for(&self, item: &Standing) -> usize {
        let index = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|last| last < item));
        index.min(self.chunks.len().saturating_sub(1))
    }

    fn insert(&mut self, item: Standing) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![item]);
            self.len = 1;
            return;
        }
        let c = self.chunk_for(&item);
        let chunk = &mut self.chunks[c];
        let at = chunk.partition_point(|x| x < &item);
        chunk.insert(at, item);
        self.len += 1;
        if chunk.len() > 2 * CHUNK {
            let tail = chunk.split_off(CHUNK);
            self.chunks.insert(c + 1, tail);
        }
    }

    fn remove(&mut self, item: &Standing) -> bool {
        if self.chunks.is_empty() {
            return false;
        }
        let c = self.chunk_for(item);
        let chunk = &mut self.chunks[c];
        match chunk.binary_search(item) {
            Ok(at) => {
                chunk.remove(at);
                if chunk.is_empty() {
                    self.chunks.remove(c);
                }
                self.len -= 1;
                true
            }
            Err(_) => false,
        }
    }

    /// 1-based rank of an item in the set.
    fn rank(&self, item: &Standing) -> Option<u64> {
        let c = self.chunk_for(item);
        let chunk = self.chunks.get(c)?;
        let at = chunk.binary_search(item).ok()?;
        let before: usize = self.chunks[..c].iter().map(Vec::len).sum();
        Some((before + at + 1) as u64)
    }

    fn first(&self, limit: usize) -> impl Iterator<Item = &Standing> {
        self.chunks.iter().flatten().take(limit)
    }

    /// Items from 1-based rank `from` on, at most `count`, skipping whole chunks to get there.
    fn starting_at_rank(&self, from: u64, count: usize) -> Vec<Standing> {
        let mut skip = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
        let mut out = Vec::with_capacity(count.min(1024));
        for chunk in &self.chunks {
            if out.len() == count {
                break;
            }
            if skip >= chunk.len() {
                skip -= chunk.len();
                continue;
            }
            out.extend(chunk[skip..].iter().take(count - out.len()));
            skip = 0;
        }
        out
    }
}

#[derive(Debug, Default)]
struct Board {
    /// First day of the period the board holds (`None` for all time).
    start: Option<Date>,
    standings: HashMap<UserId, Standing>,
    order: OrderedSet,
    /// Built by `replace` (kept across roll-overs: a new period starts complete and empty).
    built: bool,
}

impl Board {
    /// Empties the board when `today` belongs to a later period.
    fn roll_over(&mut self, period: Period, today: Date) {
        let start = period.start(today);
        if start > self.start {
            *self = Board {
                start,
                built: self.built,
                ..Board::default()
            };
        }
    }

    fn position(&self, user: UserId) -> Option<Ranked> {
        let standing = *self.standings.get(&user)?;
        Some(Ranked {
            rank: self.order.rank(&standing)?,
            standing,
        })
    }

    fn add(&mut self, user: UserId, points: i64, completion: bool, at_ms: i64) {
        let before = self.standings.get(&user).copied();
        let mut standing = before.unwrap_or(Standing {
            user_id: user,
            score: 0,
            completed: 0,
            reached_at: at_ms,
        });
        if let Some(before) = before {
            self.order.remove(&before);
        }
        standing.score += points;
        standing.completed += i64::from(completion);
        if points != 0 {
            standing.reached_at = standing.reached_at.max(at_ms);
        }
        self.standings.insert(user, standing);
        self.order.insert(standing);
    }
}

/// The boards in this process's memory.
#[derive(Debug, Default)]
pub struct LocalBoards {
    boards: Mutex<HashMap<Period, Board>>,
}

impl LocalBoards {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, period: Period, today: Date, f: impl FnOnce(&mut Board) -> R) -> R {
        let mut boards = self.boards.lock().unwrap_or_else(|e| e.into_inner());
        let board = boards.entry(period).or_default();
        board.roll_over(period, today);
        f(board)
    }
}

#[async_trait]
impl RankingBoards for LocalBoards {
    async fn add(
        &self,
        user: UserId,
        points: i64,
        completion: bool,
        at_ms: i64,
        day: Date,
    ) -> RealtimeResult<(Option<Ranked>, Option<Ranked>)> {
        let mut result = (None, None);
        for period in Period::ALL {
            self.with(period, day, |board| {
                // Points earned in an earlier period than the board's (a late write) stay off it.
                if period.start(day) < board.start {
                    return;
                }
                let before = (period == Period::All)
                    .then(|| board.position(user))
                    .flatten();
                board.add(user, points, completion, at_ms);
                if period == Period::All {
                    result = (before, board.position(user));
                }
            });
        }
        Ok(result)
    }

    async fn replace(
        &self,
        period: Period,
        start: Option<Date>,
        mut totals: Vec<Standing>,
    ) -> RealtimeResult<()> {
        totals.sort_unstable();
        let standings = totals.iter().map(|s| (s.user_id, *s)).collect();
        let board = Board {
            start,
            standings,
            order: OrderedSet::from_sorted(totals),
            built: true,
        };
        self.boards
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(period, board);
        Ok(())
    }

    async fn is_built(&self, period: Period) -> RealtimeResult<bool> {
        Ok(self
            .boards
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&period)
            .is_some_and(|b| b.built))
    }

    async fn top(&self, period: Period, limit: usize, today: Date) -> RealtimeResult<Vec<Ranked>> {
        Ok(self.with(period, today, |board| {
            board
                .order
                .first(limit)
                .enumerate()
                .map(|(i, s)| Ranked {
                    rank: i as u64 + 1,
                    standing: *s,
                })
                .collect()
        }))
    }

    async fn position(
        &self,
        period: Period,
        user: UserId,
        today: Date,
    ) -> RealtimeResult<Option<Ranked>> {
        Ok(self.with(period, today, |board| board.position(user)))
    }

    async fn len(&self, period: Period, today: Date) -> RealtimeResult<usize> {
        Ok(self.with(period, today, |board| board.order.len))
    }

    async fn range(
        &self,
        period: Period,
        from: u64,
        count: usize,
        today: Date,
    ) -> RealtimeResult<Vec<Ranked>> {
        Ok(self.with(period, today, |board| {
            board
                .order
                .starting_at_rank(from, count)
                .into_iter()
                .enumerate()
                .map(|(i, standing)| Ranked {
                    rank: from.max(1) + i as u64,
                    standing,
                })
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().expect("date")
    }

    async fn len(boards: &LocalBoards, period: Period, today: &str) -> usize {
        boards.len(period, day(today)).await.expect("in process")
    }

    #[tokio::test]
    async fn ranks_follow_score_completions_time_and_id() {
        let boards = LocalBoards::new();
        let today = day("2026-03-04");
        boards
            .add(1, 10, false, 100, today)
            .await
            .expect("in process");
        boards
            .add(2, 10, false, 50, today)
            .await
            .expect("in process");
        boards
            .add(3, 60, true, 70, today)
            .await
            .expect("in process");
        let (before, after) = boards
            .add(1, 10, false, 200, today)
            .await
            .expect("in process");
        assert_eq!(before.map(|r| r.rank), Some(3));
        assert_eq!(after.map(|r| r.rank), Some(2));
        let top: Vec<(u64, UserId)> = boards
            .top(Period::All, 10, today)
            .await
            .expect("in process")
            .into_iter()
            .map(|r| (r.rank, r.standing.user_id))
            .collect();
        assert_eq!(top, vec![(1, 3), (2, 1), (3, 2)]);
        assert_eq!(
            boards
                .position(Period::Week, 2, today)
                .await
                .expect("in process")
                .map(|r| r.rank),
            Some(3)
        );
    }

    #[tokio::test]
    async fn week_and_month_boards_roll_over_without_a_restart() {
        let boards = LocalBoards::new();
        boards
            .add(1, 10, false, 1, day("2026-03-01"))
            .await
            .expect("in process"); // a Sunday
        assert_eq!(len(&boards, Period::Week, "2026-03-01").await, 1);
        assert_eq!(
            len(&boards, Period::Week, "2026-03-02").await,
            0,
            "Monday starts a new week"
        );
        assert_eq!(len(&boards, Period::Month, "2026-03-02").await, 1);
        assert_eq!(len(&boards, Period::Month, "2026-04-01").await, 0);
        assert_eq!(len(&boards, Period::All, "2027-01-01").await, 1);
    }

    #[test]
    fn the_ordered_set_ranks_like_a_sorted_vec() {
        let mut set = OrderedSet::default();
        let mut reference: Vec<Standing> = Vec::new();
        let mut seed = 7u64;
        for i in 0..5_000i64 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let s = Standing {
                user_id: i,
                score: (seed >> 40) as i64 % 200,
                completed: (seed >> 20) as i64 % 3,
                reached_at: (seed >> 10) as i64 % 1000,
            };
            set.insert(s);
            reference.push(s);
            if i % 7 == 0 {
                let victim = reference.remove((seed as usize) % reference.len());
                assert!(set.remove(&victim));
            }
        }
        reference.sort();
        assert_eq!(set.len, reference.len());
        for (i, s) in reference.iter().enumerate().step_by(37) {
            assert_eq!(set.rank(s), Some(i as u64 + 1));
        }
        assert_eq!(
            set.first(5).copied().collect::<Vec<_>>(),
            reference[..5].to_vec()
        );
        for from in [1usize, 2, 511, 512, 513, 1500, reference.len() - 2] {
            let expected = reference[from - 1..(from + 3).min(reference.len())].to_vec();
            assert_eq!(
                set.starting_at_rank(from as u64, 4),
                expected,
                "from rank {from}"
            );
        }
    }
}
