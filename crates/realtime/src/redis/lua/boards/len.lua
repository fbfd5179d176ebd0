-- ARGV: period, start.
return redis.call('ZCARD', board(ARGV[1], roll(ARGV[1], ARGV[2])))
