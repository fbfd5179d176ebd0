-- ARGV: user, points, completion (0/1), at_ms, then (period, start, ttl seconds) per board.
-- Returns the all-time (rank, member, score) before and after; rank -1 when absent.
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
