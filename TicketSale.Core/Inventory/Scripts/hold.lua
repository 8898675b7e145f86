-- Places a hold, all or nothing, after the rate limit: one round trip for the hottest request of a sale.
-- ARGV (HoldArguments): hold id, user id, ttl ms, per-user limit, ga category ('' for seats), ga quantity, admission required (0|1),
--       rate-limit buckets (count, then suffix, capacity, per second each; keys under <p>:rl:), seat index...
-- Returns (HoldResult.FromReply) {'OK', expires-at ms, tokens left, bucket capacity} | {'RATE', retry-after ms, bucket capacity} (numbers as integers)
--       | {'NOT_LOADED'} | {'NOT_ADMITTED'} | {'WAITLIST'} | {'LIMIT', tickets still allowed} | {'SOLD_OUT', left} | {'UNKNOWN_CATEGORY'}
--       | {'TAKEN', seat...}
local hold_id, user, ttl, limit, ga, qty = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local admission = ARGV[7]
local now = now_ms()
-- One MGET reads the rate-limit buckets and everything the hold checks: loaded, the user's count, the tickets left.
local buckets, next_arg, keys = read_buckets(p .. ':rl:', 8)
local n = #keys
keys[n + 1] = p .. ':loaded'
keys[n + 2] = p .. ':user:' .. user
if ga ~= '' then keys[n + 3] = p .. ':ga:' .. ga end
local state = redis.call('MGET', unpack(keys))
local allowed, tokens_left, bucket_limit, retry = take_tokens(buckets, state, now)
if not allowed then return {'RATE', retry, bucket_limit} end
if not state[n + 1] then return {'NOT_LOADED'} end
-- Behind a waiting room, the visitor's admission must still run (waitingroom.lua's <p>:wr:out): one that left, or
-- whose admission lapsed, holds nothing more even with a token that has not expired.
if admission == '1' and tonumber(redis.call('ZSCORE', p .. ':wr:out', user) or '0') <= now then return {'NOT_ADMITTED'} end
-- Tickets that come back go to the waiting list (offer.lua) while anyone is on it.
if redis.call('ZCARD', p .. ':wl') > 0 then return {'WAITLIST'} end
local seats = {}
for i = next_arg, #ARGV do seats[#seats + 1] = ARGV[i] end
local count = (ga ~= '') and qty or #seats

local have = tonumber(state[n + 2] or '0')
if have + count > limit then return {'LIMIT', tostring(math.max(limit - have, 0))} end

if ga ~= '' then
  local gk = p .. ':ga:' .. ga
  local left = state[n + 3]
  if not left then return {'UNKNOWN_CATEGORY'} end
  left = tonumber(left)
  if left < qty then
    -- Expired holds may be what stands in the way: give them back first, then look again.
    if release_expired(now, 100) > 0 then left = tonumber(redis.call('GET', gk)) end
    if left < qty then return {'SOLD_OUT', tostring(left)} end
  end
  left = redis.call('DECRBY', gk, qty)
  changed('ga', ga .. ' ' .. int(left))
else
  local taken = {}
  for _, s in ipairs(seats) do
    local v = redis.call('HGET', p .. ':seats', s)
    if v and string.sub(v, 1, 2) == 'H:' then
      -- Expiry is honoured here, not only by the sweeper: a lapsed hold never blocks a seat.
      local other = string.sub(v, 3)
      local exp = tonumber(redis.call('HGET', p .. ':hold:' .. other, 'exp') or '0')
      if exp <= now and release(other, false) == 1 then v = nil end
    end
    if v then taken[#taken + 1] = s end
  end
  if #taken > 0 then
    table.insert(taken, 1, 'TAKEN')
    return taken
  end
  for _, s in ipairs(seats) do
    redis.call('HSET', p .. ':seats', s, 'H:' .. hold_id)
    redis.call('SETBIT', p .. ':taken', tonumber(s), 1)
  end
  changed('held', table.concat(seats, ','))
end

redis.call('INCRBY', p .. ':user:' .. user, int(count))
local exp = int(now + ttl)
redis.call('HSET', p .. ':hold:' .. hold_id, 'user', user, 'seats', table.concat(seats, ','), 'ga', ga, 'qty', int(qty), 'exp', exp)
redis.call('ZADD', p .. ':holds', exp, hold_id)
redis.call('INCR', p .. ':stats:holds')
return {'OK', exp, tokens_left, bucket_limit}
