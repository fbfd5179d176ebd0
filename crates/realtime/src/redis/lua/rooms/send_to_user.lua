-- ARGV: node, room, user, channel, message. Publishes when the user has a live tab on another
-- node; returns whether it did.
local entries = live_entries(tabs_key(ARGV[2]))
for i = 1, #entries, 2 do
  if node_of(entries[i]) ~= me_node and user_of(entries[i + 1]) == ARGV[3] then
    redis.call('PUBLISH', ARGV[4], ARGV[5])
    return 1
  end
end
return 0
