-- Puts a cancelled order's tickets back on sale, after PostgreSQL committed the cancellation.
-- ARGV: order id, user id, ga category ('' for none), ga quantity, seat index...
if redis.call('EXISTS', p .. ':loaded') == 0 then
  -- Nothing loaded: a rebuild will read this from PostgreSQL. Bumping the version makes a rebuild that read
  -- PostgreSQL before this change commit start over.
  redis.call('INCR', p .. ':ver')
  return 0
end
local order_id, user, ga, qty = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local freed = {}
for i = 5, #ARGV do
  local s = ARGV[i]
  if redis.call('HGET', p .. ':seats', s) == 'S:' .. order_id then
    redis.call('HDEL', p .. ':seats', s)
    redis.call('SETBIT', p .. ':taken', tonumber(s), 0)
    freed[#freed + 1] = s
  end
end
if ga ~= '' and qty > 0 then
  local left = redis.call('INCRBY', p .. ':ga:' .. ga, qty)
  changed('ga', ga .. ' ' .. left)
end
local count = (#ARGV - 4) + ((ga ~= '') and qty or 0)
if count > 0 then
  local left = redis.call('DECRBY', p .. ':user:' .. user, count)
  if left <= 0 then redis.call('DEL', p .. ':user:' .. user) end
end
if #freed > 0 then changed('free', table.concat(freed, ',')) end
return 1
