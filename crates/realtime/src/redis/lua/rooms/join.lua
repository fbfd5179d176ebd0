-- ARGV: node, room, connection, user, value, node ttl ms.
-- Returns {first tab 0/1, node was revived 0/1, field, value, …} (live tabs, the new one included).
local room, user, value = ARGV[2], ARGV[4], ARGV[5]
local tabs = tabs_key(room)
local me = me_node .. ':' .. ARGV[3]
local revived = 0
if redis.call('SET', alive_key(me_node), '1', 'PX', ARGV[6], 'NX') then revived = 1 end
redis.call('SADD', P .. 'nodes', me_node)
redis.call('SADD', rooms_key(me_node), room)
local entries = live_entries(tabs)
local first = 1
local out = {0, revived}
for i = 1, #entries, 2 do
  -- A tab joining again (already in the room) is not a first tab either.
  if user_of(entries[i + 1]) == user then first = 0 end
  if entries[i] ~= me then
    out[#out + 1] = entries[i]
    out[#out + 1] = entries[i + 1]
  end
end
out[1] = first
redis.call('HSET', tabs, me, value)
out[#out + 1] = me
out[#out + 1] = value
return out
