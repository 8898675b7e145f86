-- Pins a hold to an accepted purchase so that it cannot expire while the purchase is in the queue, and returns what
-- the hold is, so that accepting a purchase reads and pins the hold in one round trip.
-- ARGV: hold id, user id, purchase id, pinned-until ms
-- Returns {'OK', seats (comma-separated), ga category, qty} (also when already pinned by this purchase)
--       | {'NOT_FOUND'} | {'EXPIRED'} | {'OTHER_PURCHASE', purchase id}
local hk = p .. ':hold:' .. ARGV[1]
local h = redis.call('HMGET', hk, 'user', 'exp', 'purchase', 'seats', 'ga', 'qty')
if not h[1] or h[1] ~= ARGV[2] then return {'NOT_FOUND'} end
local pinned = {'OK', h[4] or '', h[5] or '', h[6] or '0'}
if h[3] and h[3] ~= '' then
  if h[3] == ARGV[3] then return pinned end
  return {'OTHER_PURCHASE', h[3]}
end
if tonumber(h[2]) <= now_ms() then
  release(ARGV[1], false)
  return {'EXPIRED'}
end
redis.call('HSET', hk, 'purchase', ARGV[3], 'exp0', h[2], 'exp', ARGV[4])
redis.call('ZADD', p .. ':holds', ARGV[4], ARGV[1])
-- A visitor who buys is done shopping: stock pacing stops counting them against the tickets left, so tickets that
-- come back go to the next in line rather than waiting for the buyer's shopping window to run out.
redis.call('ZREM', p .. ':wr:shop', ARGV[2])
return pinned
