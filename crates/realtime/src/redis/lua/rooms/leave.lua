-- ARGV: node, room, connection, user. Returns 1 when that was the user's last live tab.
local room, user = ARGV[2], ARGV[4]
local tabs = tabs_key(room)
redis.call('HDEL', tabs, me_node .. ':' .. ARGV[3])
local all = redis.call('HGETALL', tabs)
local last, mine = 1, false
for i = 1, #all, 2 do
  local node = node_of(all[i])
  if node == me_node then mine = true end
  if user_of(all[i + 1]) == user and is_live(node) then last = 0 end
end
if not mine then redis.call('SREM', rooms_key(me_node), room) end
return last
