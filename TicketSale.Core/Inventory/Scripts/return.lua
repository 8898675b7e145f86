-- Puts a cancelled order's tickets back on sale, after PostgreSQL committed the cancellation.
-- ARGV: order id, hold id, user id, ga category ('' for none), ga quantity, seat index...
if redis.call('EXISTS', p .. ':loaded') == 0 then
  -- Nothing loaded: a rebuild will read this from PostgreSQL. Bumping the version makes a rebuild that read
  -- PostgreSQL before this change commit start over.
  redis.call('INCR', p .. ':ver')
  return 0
end
local order_id, hold_id, user, ga, qty = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
-- Once per order: a cancellation retried after a failure here returns nothing twice.
local applied = redis.call('HGET', p .. ':orders', order_id)
if applied == 'R' then return 0 end
local version = redis.call('GET', p .. ':ver')
local seats = {}
for i = 6, #ARGV do seats[#seats + 1] = ARGV[i] end
local hk = p .. ':hold:' .. hold_id
if not applied and redis.call('EXISTS', hk) == 1 then
  -- Cancelled before the confirmation reached Redis: the seats are still the hold's, and its counts are the order's.
  give_back(user, 'H:' .. hold_id, seats, ga, qty)
  redis.call('DEL', hk)
  redis.call('ZREM', p .. ':holds', hold_id)
else
  give_back(user, 'S:' .. order_id, seats, ga, qty)
end
redis.call('HSET', p .. ':orders', order_id, 'R')
-- A rebuild compares the version before and after it read PostgreSQL: this cancellation must move it even when it
-- put nothing back on sale.
if redis.call('GET', p .. ':ver') == version then changed('none', '*') end
return 1
