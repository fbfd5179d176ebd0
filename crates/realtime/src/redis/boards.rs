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

use std::{collections::HashMap, sync::LazyLock, time::Duration};

use ::redis::Script;
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

/// Helpers every board script starts with. `KEYS[1]` is the `…:rank:` prefix.
const PRELUDE: &str = r#"
local prefix = KEYS[1]
local meta = prefix .. 'meta'
local LIMIT = 1e15
local function board(p, start)
  if start == '' then return prefix .. p end
  return prefix .. p .. ':' .. start
end
-- Moves period p's board on to the one starting at `start` when that is later; returns the
-- start of the board now current.
local function roll(p, start)
  local cur = redis.call('HGET', meta, p .. ':start')
  if not cur then cur = '' end
  if start > cur then
    local old = board(p, cur)
    redis.call('EXPIRE', old, 86400)
    redis.call('EXPIRE', old .. ':users', 86400)
    local new = board(p, start)
    redis.call('UNLINK', new, new .. ':users')
    redis.call('HSET', meta, p .. ':start', start)
    cur = start
  end
  return cur
end
local function enc(v)
  if v <= -LIMIT or v >= LIMIT then
    error({err = 'OUT_OF_RANGE a ranking value left the range of +/-10^15'})
  end
  return string.format('%016d', v + LIMIT)
end
local function dec(member, i)
  return tonumber(string.sub(member, i * 16 + 1, i * 16 + 16)) - LIMIT
end
"#;

/// ARGV: user, points, completion (0/1), at_ms, then (period, start, ttl seconds) per board.
/// Returns the all-time (rank, member, score) before and after; rank -1 when absent.
const ADD: &str = r#"
local user = tonumber(ARGV[1])
local points = tonumber(ARGV[2])
local completion = tonumber(ARGV[3])
local at = tonumber(ARGV[4])
-- First work out every board's new member (refusing out-of-range values before any write)...
local plans = {}
local i = 5
while ARGV[i] do
  local p, start, ttl = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  local cur = roll(p, start)
  -- Points earned in an earlier period than the board's (a late write) stay off it.
  if start == cur then
    local key = board(p, cur)
    local users = key .. ':users'
    local score, completed, reached = 0, 0, at
    local old = redis.call('HGET', users, ARGV[1])
    local old_score = old and redis.call('ZSCORE', key, old)
    if old_score then
      score = -tonumber(old_score)
      completed = -dec(old, 0)
      reached = dec(old, 1)
    else
      old = nil
    end
    score = score + points
    completed = completed + completion
    if points ~= 0 and at > reached then reached = at end
    enc(score)
    local member = enc(-completed) .. enc(reached) .. enc(user)
    plans[#plans + 1] = {p = p, key = key, users = users, old = old, old_score = old_score,
      member = member, score = -score, ttl = ttl}
  end
end
-- ...then write them.
local out = {-1, '', '', -1, '', ''}
for _, b in ipairs(plans) do
  if b.old then
    if b.p == 'all' then
      out[1] = redis.call('ZRANK', b.key, b.old)
      out[2] = b.old
      out[3] = b.old_score
    end
    redis.call('ZREM', b.key, b.old)
  end
  redis.call('ZADD', b.key, b.score, b.member)
  redis.call('HSET', b.users, ARGV[1], b.member)
  if b.ttl > 0 then
    redis.call('EXPIRE', b.key, b.ttl)
    redis.call('EXPIRE', b.users, b.ttl)
  end
  if b.p == 'all' then
    out[4] = redis.call('ZRANK', b.key, b.member)
    out[5] = b.member
    out[6] = redis.call('ZSCORE', b.key, b.member)
  end
end
return out
"#;

/// ARGV: period, start, first index, last index. Returns member, score, member, score, …
const RANGE: &str = r#"
local cur = roll(ARGV[1], ARGV[2])
return redis.call('ZRANGE', board(ARGV[1], cur), ARGV[3], ARGV[4], 'WITHSCORES')
"#;

/// ARGV: period, start, user. Returns {rank, member, score} or {}.
const POSITION: &str = r#"
local key = board(ARGV[1], roll(ARGV[1], ARGV[2]))
local member = redis.call('HGET', key .. ':users', ARGV[3])
if not member then return {} end
local rank = redis.call('ZRANK', key, member)
if not rank then return {} end
return {rank, member, redis.call('ZSCORE', key, member)}
"#;

/// ARGV: period, start.
const LEN: &str = r#"
return redis.call('ZCARD', board(ARGV[1], roll(ARGV[1], ARGV[2])))
"#;

/// ARGV: period, start, temporary key, ttl seconds. Puts the temporary board in place.
const FINISH_REPLACE: &str = r#"
local p, start, tmp, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local cur = redis.call('HGET', meta, p .. ':start')
if not cur then cur = '' end
local target = board(p, start)
if cur ~= start then
  local old = board(p, cur)
  redis.call('EXPIRE', old, 86400)
  redis.call('EXPIRE', old .. ':users', 86400)
end
redis.call('UNLINK', target, target .. ':users')
if redis.call('EXISTS', tmp) == 1 then
  redis.call('RENAME', tmp, target)
  redis.call('RENAME', tmp .. ':users', target .. ':users')
  if ttl > 0 then
    redis.call('EXPIRE', target, ttl)
    redis.call('EXPIRE', target .. ':users', ttl)
  else
    redis.call('PERSIST', target)
    redis.call('PERSIST', target .. ':users')
  end
end
redis.call('HSET', meta, p .. ':start', start, p .. ':built', '1')
return 1
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

static ADD_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(ADD));
static RANGE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(RANGE));
static POSITION_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(POSITION));
static LEN_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(LEN));
static FINISH_REPLACE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(FINISH_REPLACE));

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
        let mut connection = self.redis.connection();
        let flat: Vec<String> = self
            .redis
            .bounded(
                RANGE_SCRIPT
                    .key(&self.base)
                    .arg(period.as_str())
                    .arg(Self::start_of(period, today))
                    .arg(first)
                    .arg(last)
                    .invoke_async(&mut connection),
            )
            .await?;
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
        let mut invocation = ADD_SCRIPT.key(&self.base);
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
        let mut connection = self.redis.connection();
        let out: Vec<String> = self
            .redis
            .bounded(invocation.invoke_async(&mut connection))
            .await?;
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
        let mut connection = self.redis.connection();
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
            let written: RealtimeResult<()> =
                self.redis.bounded(pipe.query_async(&mut connection)).await;
            if let Err(err) = written {
                let _: RealtimeResult<()> = self
                    .redis
                    .bounded(
                        ::redis::cmd("UNLINK")
                            .arg(&temp)
                            .arg(&users)
                            .query_async(&mut connection),
                    )
                    .await;
                return Err(err);
            }
        }
        let start = start.map(|d| d.to_string()).unwrap_or_default();
        let _: i64 = self
            .redis
            .bounded(
                FINISH_REPLACE_SCRIPT
                    .key(&self.base)
                    .arg(period.as_str())
                    .arg(start)
                    .arg(&temp)
                    .arg(Self::ttl_seconds(period))
                    .invoke_async(&mut connection),
            )
            .await?;
        Ok(())
    }

    async fn is_built(&self, period: Period) -> RealtimeResult<bool> {
        let mut connection = self.redis.connection();
        let built: Option<String> = self
            .redis
            .bounded(
                ::redis::cmd("HGET")
                    .arg(format!("{}meta", self.base))
                    .arg(format!("{}:built", period.as_str()))
                    .query_async(&mut connection),
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
        let mut connection = self.redis.connection();
        let out: Vec<String> = self
            .redis
            .bounded(
                POSITION_SCRIPT
                    .key(&self.base)
                    .arg(period.as_str())
                    .arg(Self::start_of(period, today))
                    .arg(user)
                    .invoke_async(&mut connection),
            )
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
        let mut connection = self.redis.connection();
        let len: u64 = self
            .redis
            .bounded(
                LEN_SCRIPT
                    .key(&self.base)
                    .arg(period.as_str())
                    .arg(Self::start_of(period, today))
                    .invoke_async(&mut connection),
            )
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
