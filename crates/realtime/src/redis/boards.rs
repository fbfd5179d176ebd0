//! Ranking boards in Redis sorted sets, ordered exactly like [`LocalBoards`](crate::LocalBoards).
//!
//! A board is a sorted set whose score is the negated points (so ascending order is most points
//! first) and whose member is a fixed-width string that sorts the ties: Redis orders members
//! of equal score byte by byte, and the member is `enc(-completed) ‖ enc(reached_at) ‖
//! enc(user_id)`, each `enc(v)` being `v + 10^15` as 16 zero-padded digits. So `ZRANK` is the
//! rank (O(log n)) and `ZRANGE 0 99` the top 100, with the order of [`Standing`]. A hash
//! (`<board>:users`) maps each user to their current member. Every value must lie strictly
//! between -10^15 and 10^15 (exact in a double, which is how scores and Lua numbers are held);
//! anything else is [`RealtimeError::OutOfRange`].
//!
//! Week and month boards live under keys named by their first day (`…:rank:week:2026-03-02`);
//! `…:rank:meta` records which period each board is on (`week:start`) and whether it was built
//! from the ledger (`week:built`). Every operation is one Lua script that first rolls the board
//! over exactly as `LocalBoards` does (a later day starts an empty board; the old one expires a
//! day later), so every node switches at the same moment. `replace` fills a temporary key and
//! renames it into place, so readers see the old board or the new one.

use std::{collections::HashMap, time::Duration};

use ::redis::{Script, ScriptInvocation};
use async_trait::async_trait;
use jiff::civil::Date;
use ssgwan_domain::stats::{Period, Standing};

use super::RedisClient;
use crate::{Ranked, RankingBoards, RealtimeError, RealtimeResult, UserId};

/// Values must lie strictly within ±`LIMIT`.
const LIMIT: i64 = 1_000_000_000_000_000;
/// Standings written per round trip by `replace`.
const REPLACE_BATCH: usize = 10_000;
/// How long a half-written `replace` may linger if its writer dies.
const TEMP_TTL_MS: u64 = 10 * 60 * 1000;

/// The board scripts, in `redis/lua/boards/`: each is the shared prelude (`KEYS[1]` the
/// `…:rank:` prefix, and the roll-over and member encoding helpers) followed by its body, whose
/// first lines say its arguments and its answer.
mod scripts {
    use std::sync::LazyLock;

    use ::redis::Script;

    use crate::redis::with_prelude;

    const PRELUDE: &str = include_str!("lua/boards/prelude.lua");

    fn script(body: &str) -> Script {
        with_prelude(PRELUDE, body)
    }

    pub(super) static ADD: LazyLock<Script> =
        LazyLock::new(|| script(include_str!("lua/boards/add.lua")));
    pub(super) static RANGE: LazyLock<Script> =
        LazyLock::new(|| script(include_str!("lua/boards/range.lua")));
    pub(super) static POSITION: LazyLock<Script> =
        LazyLock::new(|| script(include_str!("lua/boards/position.lua")));
    pub(super) static LEN: LazyLock<Script> =
        LazyLock::new(|| script(include_str!("lua/boards/len.lua")));
    pub(super) static FINISH_REPLACE: LazyLock<Script> =
        LazyLock::new(|| script(include_str!("lua/boards/finish_replace.lua")));
}

/// The boards in Redis, shared by every node.
#[derive(Debug, Clone)]
pub struct RedisBoards {
    redis: RedisClient,
    /// `prefix:rank:`
    base: String,
}

impl RedisBoards {
    pub fn new(redis: RedisClient) -> Self {
        let base = redis.key("rank:");
        Self { redis, base }
    }

    fn start_of(period: Period, day: Date) -> String {
        period.start(day).map(|d| d.to_string()).unwrap_or_default()
    }

    /// How long a board of `period` lives after its last write: past the end of its period
    /// (a current board never expires), forever for all time.
    fn ttl_seconds(period: Period) -> u64 {
        match period {
            Period::All => 0,
            Period::Week => Duration::from_secs(15 * 86_400).as_secs(),
            Period::Month => Duration::from_secs(63 * 86_400).as_secs(),
        }
    }

    /// `script` on `period`'s board as of `day`: its first arguments are the period and the
    /// start of the one `day` is in.
    fn on_board<'s>(&self, script: &'s Script, period: Period, day: Date) -> ScriptInvocation<'s> {
        let mut invocation = script.key(&self.base);
        invocation
            .arg(period.as_str())
            .arg(Self::start_of(period, day));
        invocation
    }

    async fn range_at(
        &self,
        period: Period,
        first: u64,
        count: usize,
        today: Date,
    ) -> RealtimeResult<Vec<Ranked>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let last = first.saturating_add(count as u64 - 1).min(i64::MAX as u64);
        let mut invocation = self.on_board(&scripts::RANGE, period, today);
        invocation.arg(first).arg(last);
        let flat: Vec<String> = self.redis.invoke(&invocation).await?;
        flat.chunks(2)
            .enumerate()
            .map(|(i, pair)| match pair {
                [member, score] => Ok(Ranked {
                    rank: first + i as u64 + 1,
                    standing: decode(member, score)?,
                }),
                _ => Err(RealtimeError::Unexpected("odd ZRANGE reply".into())),
            })
            .collect()
    }
}

fn check(value: i64, what: &str) -> RealtimeResult<()> {
    if value.abs() < LIMIT {
        Ok(())
    } else {
        Err(RealtimeError::OutOfRange(format!(
            "{what} {value} is outside ±10^15"
        )))
    }
}

fn enc(value: i64) -> String {
    format!("{:016}", value + LIMIT)
}

/// The sorted-set member of a standing (see the module comment).
fn member(s: &Standing) -> String {
    format!(
        "{}{}{}",
        enc(-s.completed),
        enc(s.reached_at),
        enc(s.user_id)
    )
}

fn decode(member: &str, score: &str) -> RealtimeResult<Standing> {
    let bad = || RealtimeError::Unexpected(format!("not a ranking member: {member:?} {score:?}"));
    let field = |i: usize| -> RealtimeResult<i64> {
        member
            .get(i * 16..i * 16 + 16)
            .and_then(|digits| digits.parse::<i64>().ok())
            .map(|v| v - LIMIT)
            .ok_or_else(bad)
    };
    if member.len() != 48 {
        return Err(bad());
    }
    let score: f64 = score.parse().map_err(|_| bad())?;
    Ok(Standing {
        user_id: field(2)?,
        score: -(score as i64),
        completed: -field(0)?,
        reached_at: field(1)?,
    })
}

/// A (rank, member, score) triple from a script; rank -1 or an empty list is "not on the board".
fn ranked(rank: &str, member: &str, score: &str) -> RealtimeResult<Option<Ranked>> {
    let rank: i64 = rank
        .parse()
        .map_err(|_| RealtimeError::Unexpected(format!("not a rank: {rank:?}")))?;
    if rank < 0 {
        return Ok(None);
    }
    Ok(Some(Ranked {
        rank: rank as u64 + 1,
        standing: decode(member, score)?,
    }))
}

#[async_trait]
impl RankingBoards for RedisBoards {
    async fn add(
        &self,
        user: UserId,
        points: i64,
        completion: bool,
        at_ms: i64,
        day: Date,
    ) -> RealtimeResult<(Option<Ranked>, Option<Ranked>)> {
        check(user, "user id")?;
        check(points, "points")?;
        check(at_ms, "instant")?;
        let mut invocation = scripts::ADD.key(&self.base);
        invocation
            .arg(user)
            .arg(points)
            .arg(i64::from(completion))
            .arg(at_ms);
        for period in Period::ALL {
            invocation
                .arg(period.as_str())
                .arg(Self::start_of(period, day))
                .arg(Self::ttl_seconds(period));
        }
        let out: Vec<String> = self.redis.invoke(&invocation).await?;
        match out.as_slice() {
            [r0, m0, s0, r1, m1, s1] => Ok((ranked(r0, m0, s0)?, ranked(r1, m1, s1)?)),
            _ => Err(RealtimeError::Unexpected(format!("add answered {out:?}"))),
        }
    }

    async fn replace(
        &self,
        period: Period,
        start: Option<Date>,
        totals: Vec<Standing>,
    ) -> RealtimeResult<()> {
        for s in &totals {
            check(s.user_id, "user id")?;
            check(s.score, "score")?;
            check(s.completed, "completed count")?;
            check(s.reached_at, "instant")?;
        }
        // One standing per user (the last one given, as a map would keep it).
        let totals: HashMap<UserId, Standing> =
            totals.into_iter().map(|s| (s.user_id, s)).collect();
        let totals: Vec<Standing> = totals.into_values().collect();
        let temp = format!("{}tmp:{:016x}", self.base, rand::random::<u64>());
        let users = format!("{temp}:users");
        for batch in totals.chunks(REPLACE_BATCH) {
            let mut pipe = ::redis::pipe();
            let members: Vec<(String, String)> = batch
                .iter()
                .map(|s| (s.user_id.to_string(), member(s)))
                .collect();
            pipe.zadd_multiple(
                &temp,
                &batch
                    .iter()
                    .zip(&members)
                    .map(|(s, (_, m))| (-s.score, m.as_str()))
                    .collect::<Vec<_>>(),
            )
            .ignore()
            .hset_multiple(&users, &members)
            .ignore()
            .pexpire(&temp, TEMP_TTL_MS as i64)
            .ignore()
            .pexpire(&users, TEMP_TTL_MS as i64)
            .ignore();
            let written: RealtimeResult<()> = self.redis.query_pipe(&pipe).await;
            if let Err(err) = written {
                let _: RealtimeResult<()> = self
                    .redis
                    .query(::redis::cmd("UNLINK").arg(&temp).arg(&users))
                    .await;
                return Err(err);
            }
        }
        let start = start.map(|d| d.to_string()).unwrap_or_default();
        let _: i64 = self
            .redis
            .invoke(
                scripts::FINISH_REPLACE
                    .key(&self.base)
                    .arg(period.as_str())
                    .arg(start)
                    .arg(&temp)
                    .arg(Self::ttl_seconds(period)),
            )
            .await?;
        Ok(())
    }

    async fn is_built(&self, period: Period) -> RealtimeResult<bool> {
        let built: Option<String> = self
            .redis
            .query(
                ::redis::cmd("HGET")
                    .arg(format!("{}meta", self.base))
                    .arg(format!("{}:built", period.as_str())),
            )
            .await?;
        Ok(built.as_deref() == Some("1"))
    }

    async fn top(&self, period: Period, limit: usize, today: Date) -> RealtimeResult<Vec<Ranked>> {
        self.range_at(period, 0, limit, today).await
    }

    async fn position(
        &self,
        period: Period,
        user: UserId,
        today: Date,
    ) -> RealtimeResult<Option<Ranked>> {
        let out: Vec<String> = self
            .redis
            .invoke(self.on_board(&scripts::POSITION, period, today).arg(user))
            .await?;
        match out.as_slice() {
            [] => Ok(None),
            [rank, member, score] => ranked(rank, member, score),
            _ => Err(RealtimeError::Unexpected(format!(
                "position answered {out:?}"
            ))),
        }
    }

    async fn len(&self, period: Period, today: Date) -> RealtimeResult<usize> {
        let len: u64 = self
            .redis
            .invoke(&self.on_board(&scripts::LEN, period, today))
            .await?;
        Ok(len as usize)
    }

    async fn range(
        &self,
        period: Period,
        from: u64,
        count: usize,
        today: Date,
    ) -> RealtimeResult<Vec<Ranked>> {
        self.range_at(period, from.saturating_sub(1), count, today)
            .await
    }

    async fn ping(&self) -> RealtimeResult<()> {
        self.redis.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_sort_like_standings_when_scores_tie() {
        let s = |user_id, completed, reached_at| Standing {
            user_id,
            score: 10,
            completed,
            reached_at,
        };
        let mut standings = vec![
            s(5, 0, 100),
            s(4, 1, 100),
            s(3, 0, 50),
            s(2, 0, 100),
            s(-7, 0, -3),
            s(LIMIT - 1, 2, 0),
        ];
        let mut by_member = standings.clone();
        standings.sort();
        by_member.sort_by_key(member);
        assert_eq!(by_member, standings);
        for s in &standings {
            assert_eq!(decode(&member(s), "-10").ok(), Some(*s));
        }
    }
}
