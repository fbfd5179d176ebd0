-- Helpers every board script starts with. `KEYS[1]` is the `…:rank:` prefix.
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
