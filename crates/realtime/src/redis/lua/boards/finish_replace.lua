-- ARGV: period, start, temporary key, ttl seconds. Puts the temporary board in place.
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
