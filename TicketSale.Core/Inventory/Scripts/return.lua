-- Puts a cancelled order's tickets back on sale, after PostgreSQL committed the cancellation.
-- ARGV: order id, user id, ga category ('' for none), ga quantity, seat index...
if redis.call('EXISTS', p .. ':loaded') == 0 then
  -- Nothing loaded: a rebuild will read this from PostgreSQL. Bumping the version makes a rebuild that read
  -- PostgreSQL before this change commit start over.
  redis.call('INCR', p .. ':ver')
  return 0
end
local order_id, user, ga, qty = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local seats = {}
for i = 5, #ARGV do seats[#seats + 1] = ARGV[i] end
give_back(user, 'S:' .. order_id, seats, ga, qty)
return 1
