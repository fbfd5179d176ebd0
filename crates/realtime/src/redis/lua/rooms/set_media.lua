-- ARGV: node, room, connection, user, value. Returns {media before, media after} as "cm".
local room, user, value = ARGV[2], ARGV[4], ARGV[5]
local tabs = tabs_key(room)
local me = me_node .. ':' .. ARGV[3]
local entries = live_entries(tabs)
local before, after = {}, {}
for i = 1, #entries, 2 do
  if user_of(entries[i + 1]) == user then
    union(before, entries[i + 1])
    if entries[i] ~= me then union(after, entries[i + 1]) end
  end
end
union(after, value)
redis.call('HSET', tabs, me, value)
redis.call('SADD', rooms_key(me_node), room)
local b = before[user]
local a = after[user]
return {b and (b[1] .. b[2]) or '', a[1] .. a[2]}
