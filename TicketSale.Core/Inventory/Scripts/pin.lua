-- Pins a hold to an accepted purchase so that it cannot expire while the purchase is in the queue, and returns what
-- the hold is, so that accepting a purchase checks its rate limit, reads and pins the hold in one round trip.
-- ARGV: hold id, user id, purchase id, pinned-until ms,
--       rate-limit buckets (count, then suffix, capacity, per second each; keys under <p>:rl:)
-- Returns {1, tokens left, bucket capacity, 0, result...} where result is
--         'OK', seats (comma-separated), ga category, qty (also when already pinned by this purchase)
--       | 'NOT_FOUND' | 'EXPIRED' | 'OTHER_PURCHASE', purchase id
--       | {0, 0, bucket capacity, retry-after ms} when the rate limit refuses
local now = now_ms()
local reply = rate_limit(p .. ':rl:', 5, now)
if reply[1] == 0 then return reply end

local function pin()
  local hk = p .. ':hold:' .. ARGV[1]
  local h = redis.call('HMGET', hk, 'user', 'exp', 'purchase', 'seats', 'ga', 'qty')
  if not h[1] or h[1] ~= ARGV[2] then return {'NOT_FOUND'} end
  local pinned = {'OK', h[4] or '', h[5] or '', h[6] or '0'}
  if h[3] and h[3] ~= '' then
    if h[3] == ARGV[3] then return pinned end
    return {'OTHER_PURCHASE', h[3]}
  end
  if tonumber(h[2]) <= now then
    release(ARGV[1], false)
    return {'EXPIRED'}
  end
  redis.call('HSET', hk, 'purchase', ARGV[3], 'exp0', h[2], 'exp', ARGV[4])
  redis.call('ZADD', p .. ':holds', ARGV[4], ARGV[1])
  -- A visitor who buys is done shopping: stock pacing stops counting them against the tickets left, so tickets that
  -- come back go to the next in line rather than waiting for the buyer's shopping window to run out.
  redis.call('ZREM', p .. ':wr:shop', ARGV[2])
  return pinned
end

for _, value in ipairs(pin()) do reply[#reply + 1] = value end
return reply
