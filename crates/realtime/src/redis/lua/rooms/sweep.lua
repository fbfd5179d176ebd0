-- ARGV: node, dead node. Removes a dead node's tabs; returns events: room, kind, "cm", value, …
local dead = ARGV[2]
if redis.call('EXISTS', alive_key(dead)) == 1 then return {} end
local events = {}
for _, room in ipairs(redis.call('SMEMBERS', rooms_key(dead))) do
  local tabs = tabs_key(room)
  local all = redis.call('HGETALL', tabs)
  local gone, rest = {}, {}
  for i = 1, #all, 2 do
    if node_of(all[i]) == dead then
      redis.call('HDEL', tabs, all[i])
      union(gone, all[i + 1])
    else
      union(rest, all[i + 1])
    end
  end
  for u, g in pairs(gone) do
    local r = rest[u]
    if not r then
      for _, x in ipairs({room, 'left', g[1] .. g[2], g[3]}) do events[#events + 1] = x end
    else
      local c = (g[1] == '1' or r[1] == '1') and '1' or '0'
      local m = (g[2] == '1' or r[2] == '1') and '1' or '0'
      if c .. m ~= r[1] .. r[2] then
        for _, x in ipairs({room, 'changed', r[1] .. r[2], r[3]}) do events[#events + 1] = x end
      end
    end
  end
end
redis.call('DEL', rooms_key(dead))
redis.call('SREM', P .. 'nodes', dead)
return events
