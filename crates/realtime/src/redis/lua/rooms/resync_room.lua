-- ARGV: node, room, then field, value, … of the tabs this node has in the room. Makes Redis
-- hold exactly those for this node; returns events as sweep.lua does.
local room = ARGV[2]
local tabs = tabs_key(room)
local desired = {}
local any = false
for i = 3, #ARGV, 2 do
  desired[ARGV[i]] = ARGV[i + 1]
  any = true
end
local all = redis.call('HGETALL', tabs)
local before, after = {}, {}
for i = 1, #all, 2 do
  union(before, all[i + 1])
  if node_of(all[i]) == me_node then
    if not desired[all[i]] then redis.call('HDEL', tabs, all[i]) end
  else
    union(after, all[i + 1])
  end
end
for field, value in pairs(desired) do
  redis.call('HSET', tabs, field, value)
  union(after, value)
end
if any then
  redis.call('SADD', rooms_key(me_node), room)
else
  redis.call('SREM', rooms_key(me_node), room)
end
local events = {}
for u, a in pairs(after) do
  local b = before[u]
  if not b then
    for _, x in ipairs({room, 'joined', a[1] .. a[2], a[3]}) do events[#events + 1] = x end
  elseif b[1] .. b[2] ~= a[1] .. a[2] then
    for _, x in ipairs({room, 'changed', a[1] .. a[2], a[3]}) do events[#events + 1] = x end
  end
end
for u, b in pairs(before) do
  if not after[u] then
    for _, x in ipairs({room, 'left', b[1] .. b[2], b[3]}) do events[#events + 1] = x end
  end
end
return events
