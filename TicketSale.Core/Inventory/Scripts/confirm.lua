-- Marks a confirmed order's seats sold, after PostgreSQL committed it.
-- ARGV: order id, hold id, user id, ga category ('' for none), ga quantity, seat index...
-- When the hold is still there its counts already include these tickets. When Redis lost it (flushed and rebuilt
-- while the purchase was queued), the rebuild did not count them: count them now.
if redis.call('EXISTS', p .. ':loaded') == 0 then
  -- Nothing loaded: a rebuild will read this from PostgreSQL. Bumping the version makes a rebuild that read
  -- PostgreSQL before this change commit start over.
  redis.call('INCR', p .. ':ver')
  return 0
end
local order_id, hold_id, user, ga, qty = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
-- Once per order: a redelivered message confirms again, and an order cancelled before its confirmation got here
-- (the Worker slow or restarted after PostgreSQL's commit) had its tickets returned already; selling them again
-- would take them off sale for good, and counting a hold-less confirmation twice would undercount what is left.
if redis.call('HEXISTS', p .. ':orders', order_id) == 1 then return 0 end
local hk = p .. ':hold:' .. hold_id
local had_hold = redis.call('EXISTS', hk) == 1
local seats = {}
for i = 6, #ARGV do
  local s = ARGV[i]
  seats[#seats + 1] = s
  redis.call('HSET', p .. ':seats', s, 'S:' .. order_id)
  redis.call('SETBIT', p .. ':taken', tonumber(s), 1)
end
if not had_hold then
  local count = #seats + ((ga ~= '') and qty or 0)
  redis.call('INCRBY', p .. ':user:' .. user, count)
  if ga ~= '' and qty > 0 then
    local left = redis.call('DECRBY', p .. ':ga:' .. ga, qty)
    changed('ga', ga .. ' ' .. left)
  end
end
redis.call('DEL', hk)
redis.call('ZREM', p .. ':holds', hold_id)
redis.call('HSET', p .. ':orders', order_id, 'S')
if #seats > 0 then
  changed('sold', table.concat(seats, ','))
else
  -- A rebuild compares the version before and after it read PostgreSQL: this confirmation must show in it. Open
  -- seat maps take the version in turn (a version they never heard of would make them fetch the whole map).
  changed('none', '*')
end
return 1
