-- The waiting room of one campaign (keys under <p>:wr:, the campaign's hash slot, next to its inventory).
--   <p>:wr:cfg    hash: onsale (0|1), rate (admissions per second), pace (0|1: cap admissions by stock),
--                 factor (admitted visitors per ticket left), ttl (ms an admission lasts), seats, ga (categories),
--                 opens (ms: when the pre-queue is placed in the queue), window (ms an admitted visitor counts
--                 as shopping for stock pacing)
--   <p>:wr:state  hash: opened (0|1), seq (places given), cursor (places admitted), credit, last (ms)
--   <p>:wr:pre    sorted set visitor -> draw key of those who came before opening: a secret random number at least
--                 2^32 the caller gives with the join (the same for a visitor every time they join this campaign, so
--                 leaving and joining again draws nothing new). The opening gives places in key order: a random
--                 order, known as each visitor joins, so each can be told to come back when their turn is due.
--                 Scores below 2^32 are arrival numbers of a pre-queue taken before the keys (or a set before
--                 that, converted in place); the opening draws keys for them first
--   <p>:wr:order  sorted set visitor -> place (1, 2, ...): one place per visitor
--   <p>:wr:out    sorted set visitor -> admission expiry (ms): admitted visitors whose admission still runs
--   <p>:wr:shop   sorted set visitor -> end of their shopping window (ms): those stock pacing counts. Shorter than
--                 the admission: counting everyone admitted for the admission's 10 minutes held the queue still
--                 behind visitors long gone, with tickets left and nobody let in to buy them. A visitor whose
--                 purchase is accepted leaves it (pin.lua): they are done shopping

-- Tickets left: free seats plus general admission left.
local function stock_left()
  local cfg = redis.call('HMGET', p .. ':wr:cfg', 'seats', 'ga')
  local left = (tonumber(cfg[1]) or 0) - redis.call('BITCOUNT', p .. ':taken')
  for category in string.gmatch(cfg[2] or '', '[^,]+') do
    left = left + math.max(0, tonumber(redis.call('GET', p .. ':ga:' .. category) or '0'))
  end
  return math.max(0, left)
end

-- Moves the admission cursor forward by the credit earned since the last call (the rate), at most a second's
-- worth at once, and no further than stock pacing allows. Newly admitted visitors get their admission expiry.
-- Returns the cursor, whether stock pacing holds back visitors who are waiting (the queue stands still until
-- tickets come back or the admitted leave), and the tickets left when pacing counted them (nil otherwise).
local function advance(now)
  local state = redis.call('HMGET', p .. ':wr:state', 'opened', 'seq', 'cursor', 'credit', 'last')
  if state[1] ~= '1' then return 0, false, nil end
  local cfg = redis.call('HMGET', p .. ':wr:cfg', 'rate', 'pace', 'factor', 'ttl', 'window')
  local rate, seq, cursor = tonumber(cfg[1]) or 0, tonumber(state[2]) or 0, tonumber(state[3]) or 0
  local last = tonumber(state[5]) or now
  local credit = math.min((tonumber(state[4]) or 0) + rate * math.max(0, now - last) / 1000, math.max(rate, 1))
  local n = math.min(math.floor(credit), seq - cursor)
  local paused, left = false, nil
  redis.call('ZREMRANGEBYSCORE', p .. ':wr:out', '-inf', now)
  redis.call('ZREMRANGEBYSCORE', p .. ':wr:shop', '-inf', now)
  if cfg[2] == '1' then
    left = stock_left()
    local room = math.ceil(left * (tonumber(cfg[3]) or 1)) - redis.call('ZCARD', p .. ':wr:shop')
    paused = room <= 0 and seq > cursor
    n = math.min(n, math.max(0, room))
  end
  if n > 0 then
    local ttl = tonumber(cfg[4]) or 600000
    local window = math.min(ttl, tonumber(cfg[5]) or ttl)
    for _, visitor in ipairs(redis.call('ZRANGEBYSCORE', p .. ':wr:order', cursor + 1, cursor + n)) do
      redis.call('ZADD', p .. ':wr:out', now + ttl, visitor)
      redis.call('ZADD', p .. ':wr:shop', now + window, visitor)
    end
    cursor = cursor + n
    credit = credit - n
  end
  redis.call('HSET', p .. ':wr:state', 'cursor', cursor, 'credit', tostring(credit), 'last', now)
  return cursor, paused, left
end

-- The pre-queue was a set before it became a sorted set: one met after an upgrade is converted in place (arrival
-- numbers in the set's order, for the opening to replace with keys), so that a pre-queue taken before the deploy is
-- kept, not an error.
local function pre_queue()
  local key = p .. ':wr:pre'
  if redis.call('TYPE', key).ok == 'set' then
    local early = redis.call('SMEMBERS', key)
    redis.call('DEL', key)
    for i, visitor in ipairs(early) do redis.call('ZADD', key, i, visitor) end
  end
  return key
end

-- ARGV[1]: the operation. Returns a table whose first element names the visitor's state.
local op = ARGV[1]
local now = now_ms()

-- The visitor's state: {'pre', pre-queue size, rank by draw key (1 = first), rate} | {'absent'} | {'soldout'}
--   | {'waiting', place, cursor, rate, paused (0|1)} | {'admitted', place, admission expiry ms} | {'expired'}
local function status(visitor)
  local cursor, paused, left = advance(now)
  -- Sold out only when nothing is left and nothing is held: held tickets come back when holds expire or payments
  -- fail. A visitor told so goes away for good: their place is given up, so that they are never admitted and
  -- counted as shopping by stock pacing while gone. The tickets left are those advance counted (paced rooms only).
  local function sold_out()
    return left == 0 and redis.call('ZCARD', p .. ':holds') == 0
  end
  local place = tonumber(redis.call('ZSCORE', p .. ':wr:order', visitor))
  if not place then
    local pre = pre_queue()
    local rank = redis.call('ZRANK', pre, visitor)
    if rank then return {'pre', redis.call('ZCARD', pre), rank + 1, redis.call('HGET', p .. ':wr:cfg', 'rate') or '0'} end
    if sold_out() then return {'soldout'} end
    return {'absent'}
  end
  if place <= cursor then
    local expires = redis.call('ZSCORE', p .. ':wr:out', visitor)
    if expires then return {'admitted', tostring(place), tostring(expires)} end
    return {'expired'}
  end
  if sold_out() then
    redis.call('ZREM', p .. ':wr:order', visitor)
    return {'soldout'}
  end
  return {'waiting', tostring(place), tostring(cursor), redis.call('HGET', p .. ':wr:cfg', 'rate') or '0', paused and '1' or '0'}
end

-- A place for the visitor, unless they have one: joining again (another tab, another device) keeps it. Before the
-- opening, a place in the pre-queue at the visitor's draw key.
local function join(visitor, key)
  if redis.call('ZSCORE', p .. ':wr:order', visitor) then return end
  local pre = pre_queue()
  if redis.call('ZSCORE', pre, visitor) then return end
  if redis.call('HGET', p .. ':wr:state', 'opened') ~= '1' then
    redis.call('ZADD', pre, key, visitor)
    return
  end
  redis.call('ZADD', p .. ':wr:order', redis.call('HINCRBY', p .. ':wr:state', 'seq', 1), visitor)
end

if op == 'join' or op == 'status' then
  -- ARGV: 'join' | 'status', visitor, draw key (joins; ignored by status), rate-limit buckets (count, then suffix,
  -- capacity, per second each; keys under <p>:rl:). The rate limit, the join and the state in one call: a sale's
  -- most frequent request is one round trip. Returns {1, tokens left, bucket capacity, 0, state...} (the state as
  -- status() gives it), or when the rate limit refuses {0, 0, bucket capacity, retry-after ms}.
  local reply = rate_limit(p .. ':rl:', 4, now)
  if reply[1] == 0 then return reply end
  if op == 'join' then join(ARGV[2], ARGV[3]) end
  for _, value in ipairs(status(ARGV[2])) do reply[#reply + 1] = value end
  return reply

elseif op == 'leave' then
  -- ARGV: 'leave', visitor. The visitor is done (bought, or gave up): stock pacing stops counting them, a place
  -- still waiting is given up, and an admission ends with it: its token holds nothing more (hold.lua checks the
  -- admission here, not only the token's signature). Returns {'left'}.
  local visitor = ARGV[2]
  redis.call('ZREM', p .. ':wr:shop', visitor)
  redis.call('ZREM', p .. ':wr:out', visitor)
  local place = tonumber(redis.call('ZSCORE', p .. ':wr:order', visitor))
  if place and place > (tonumber(redis.call('HGET', p .. ':wr:state', 'cursor')) or 0) then
    redis.call('ZREM', p .. ':wr:order', visitor)
  end
  redis.call('ZREM', pre_queue(), visitor)
  return {'left'}

elseif op == 'away' then
  -- ARGV: 'away', visitor. The visitor's page closed (or reloaded): stock pacing stops counting them as shopping, so
  -- the next in line come in at once, but place and admission stay: coming back within the admission, they buy on.
  -- Returns {'away'}.
  redis.call('ZREM', p .. ':wr:shop', ARGV[2])
  return {'away'}

elseif op == 'rekey' then
  -- ARGV: 'rekey', visitor, key, visitor, key...: draw keys for visitors of a pre-queue of the older forms (whose
  -- scores are arrival numbers), before the opening places anyone; a visitor no longer in the pre-queue is skipped.
  -- Converts the oldest form (a set) first. Returns {'rekeyed'} or {'already'}.
  if redis.call('HGET', p .. ':wr:state', 'opened') == '1' then return {'already'} end
  local pre = pre_queue()
  for i = 2, #ARGV - 1, 2 do redis.call('ZADD', pre, 'XX', ARGV[i + 1], ARGV[i]) end
  return {'rekeyed'}

elseif op == 'place' or op == 'open' then
  -- ARGV: 'place', n: the next places go to the first n visitors of the pre-queue in key order. Returns {'placed',
  -- places given so far, visitors left in the pre-queue}. The caller places the pre-queue a part at a time: placing
  -- 50,000 visitors in one script held Redis, and every client of it, for 145-182 ms (SLOWLOG, the bench's flash
  -- sale). Between parts, a visitor already placed sees their place (the cursor stays at 0 until the opening), one
  -- still in the pre-queue sees the pre-queue, and a newcomer joins the pre-queue.
  -- ARGV: 'open': places everyone left in the pre-queue (those who joined after the last part), in key order, and
  -- opens. Returns {'opened', places given} or {'already'}.
  if redis.call('HGET', p .. ':wr:state', 'opened') == '1' then return {'already'} end
  local seq = tonumber(redis.call('HGET', p .. ':wr:state', 'seq') or '0')
  local pre = pre_queue()
  local last = op == 'place' and tonumber(ARGV[2]) - 1 or -1
  for _, visitor in ipairs(redis.call('ZRANGE', pre, 0, last)) do
    seq = seq + 1
    redis.call('ZADD', p .. ':wr:order', seq, visitor)
  end
  redis.call('ZREMRANGEBYRANK', pre, 0, last)
  if op == 'place' then
    redis.call('HSET', p .. ':wr:state', 'seq', seq)
    return {'placed', tostring(seq), redis.call('ZCARD', pre)}
  end
  redis.call('HSET', p .. ':wr:state', 'opened', '1', 'seq', seq, 'cursor', redis.call('HGET', p .. ':wr:state', 'cursor') or 0, 'last', now)
  return {'opened', tostring(seq)}

elseif op == 'tick' then
  -- ARGV: 'tick'. Advances the cursor (the Worker calls it a few times a second). Returns {'cursor', n}.
  return {'cursor', tostring((advance(now)))}

elseif op == 'configure' then
  -- ARGV: 'configure', onsale, rate, pace, factor, ttl ms, seats, ga categories, opens at ms, shopping window ms.
  -- Credit earned at the old rate is kept: the cursor is advanced first.
  advance(now)
  redis.call('HSET', p .. ':wr:cfg', 'onsale', ARGV[2], 'rate', ARGV[3], 'pace', ARGV[4], 'factor', ARGV[5], 'ttl', ARGV[6],
    'seats', ARGV[7], 'ga', ARGV[8], 'opens', ARGV[9], 'window', ARGV[10])
  return {'configured'}
end
return {'unknown'}
