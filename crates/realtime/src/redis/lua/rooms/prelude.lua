-- Helpers every presence script starts with. KEYS[1] is the `prefix:` and ARGV[1] this node.
local P = KEYS[1]
local me_node = ARGV[1]
local function alive_key(node) return P .. 'node:' .. node .. ':alive' end
local function rooms_key(node) return P .. 'node:' .. node .. ':rooms' end
local function tabs_key(room) return P .. 'room:' .. room .. ':tabs' end
local live = {}
local function is_live(node)
  if node == me_node then return true end
  local v = live[node]
  if v == nil then
    v = redis.call('EXISTS', alive_key(node)) == 1
    live[node] = v
  end
  return v
end
local function node_of(field) return string.match(field, '^(.*):[^:]*$') end
local function user_of(value) return string.match(value, '^(-?%d+)|') end
local function media_of(value) return string.match(value, '^%-?%d+|([01])([01])|') end
local function live_entries(tabs)
  local all = redis.call('HGETALL', tabs)
  local out = {}
  for i = 1, #all, 2 do
    if is_live(node_of(all[i])) then
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
  return out
end
-- Per user: {camera, mic, a value}, the union over the given values.
local function union(into, value)
  local u = user_of(value)
  local c, m = media_of(value)
  local e = into[u]
  if not e then
    into[u] = {c, m, value}
  else
    if c == '1' then e[1] = '1' end
    if m == '1' then e[2] = '1' end
  end
end
