-- KEYS[1] the lease, ARGV[1] the owner. Returns 1 when it was released.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
