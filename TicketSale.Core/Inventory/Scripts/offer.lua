-- Offers tickets that came back to a waiting-list entry as a hold of its own (the hold's id is the entry's), all or
-- nothing; the Worker's waiting-list pump runs it for the entries in the order they joined. Keys under <p>:
--   <p>:wl           sorted set: entry id -> position, the entries still waiting (hold.lua refuses the public while
--                    it is not empty, so that tickets coming back reach the list first)
--   <p>:wl:offered   hash: entry id -> the offer's expiry (ms): an entry is offered once
-- ARGV: entry id, user id, ttl ms, per-user limit, ga category ('' for seats), quantity, seat count
-- Returns {'OFFERED', expires-at ms, seats csv} (also for an entry offered before: that offer) | {'WAIT'} (not enough
--   tickets back yet) | {'LIMIT'} (the buyer may not take that many more) | {'NOT_LOADED'} | {'UNKNOWN_CATEGORY'}
local entry, user, ttl, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local ga, qty, seat_count = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local offered = redis.call('HGET', p .. ':wl:offered', entry)
if offered then
  return {'OFFERED', tonumber(offered), redis.call('HGET', p .. ':hold:' .. entry, 'seats') or ''}
end
if redis.call('EXISTS', p .. ':loaded') == 0 then return {'NOT_LOADED'} end
local now = now_ms()
if tonumber(redis.call('GET', p .. ':user:' .. user) or '0') + qty > limit then return {'LIMIT'} end
-- Lapsed holds are tickets that came back too.
release_expired(now, 100)

local seats = {}
if ga ~= '' then
  local gk = p .. ':ga:' .. ga
  local left = redis.call('GET', gk)
  if not left then return {'UNKNOWN_CATEGORY'} end
  if tonumber(left) < qty then return {'WAIT'} end
  changed('ga', ga .. ' ' .. int(redis.call('DECRBY', gk, qty)))
else
  -- The first free seats, a BITPOS each: bits past the bitmap's end are free seats.
  local tk = p .. ':taken'
  local bits = redis.call('STRLEN', tk) * 8
  local pos = 0
  while #seats < qty and pos < seat_count do
    local free = pos
    if pos < bits then
      free = redis.call('BITPOS', tk, 0, pos, bits - 1, 'BIT')
      if free == -1 then free = bits end
    end
    if free >= seat_count then break end
    seats[#seats + 1] = int(free)
    pos = free + 1
  end
  if #seats < qty then return {'WAIT'} end
  for _, s in ipairs(seats) do
    redis.call('HSET', p .. ':seats', s, 'H:' .. entry)
    redis.call('SETBIT', tk, tonumber(s), 1)
  end
  changed('held', table.concat(seats, ','))
end

redis.call('INCRBY', p .. ':user:' .. user, int(qty))
local exp = int(now + ttl)
redis.call('HSET', p .. ':hold:' .. entry, 'user', user, 'seats', table.concat(seats, ','), 'ga', ga, 'qty', int(ga ~= '' and qty or 0), 'exp', exp)
redis.call('ZADD', p .. ':holds', exp, entry)
redis.call('ZREM', p .. ':wl', entry)
redis.call('HSET', p .. ':wl:offered', entry, exp)
return {'OFFERED', tonumber(exp), table.concat(seats, ',')}
