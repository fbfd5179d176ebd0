-- ARGV: period, start, user. Returns {rank, member, score} or {}.
local key = board(ARGV[1], roll(ARGV[1], ARGV[2]))
local member = redis.call('HGET', key .. ':users', ARGV[3])
if not member then return {} end
local rank = redis.call('ZRANK', key, member)
if not rank then return {} end
return {rank, member, redis.call('ZSCORE', key, member)}
