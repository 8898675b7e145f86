-- Shared by every inventory script. KEYS[1] is the campaign's key prefix, "ts:{<campaign id>}": the braces make all
-- of a campaign's keys one hash slot, so a script touching them stays atomic on a Redis cluster too.
--   <p>:loaded          "1" once availability was loaded from PostgreSQL (absent: Redis lost it, rebuild first)
--   <p>:seats           hash seat index -> "H:<hold id>" (held) | "S:<order id>" (sold)
--   <p>:taken           bitmap, bit <seat index> set while the seat is held or sold (the compact seat map)
--   <p>:ga:<category>   general-admission tickets left
--   <p>:user:<user id>  tickets a user holds or bought (the per-user limit)
--   <p>:hold:<hold id>  hash: user, seats (comma-separated), ga, qty, exp (ms), purchase (set once a purchase is accepted)
--   <p>:holds           sorted set of hold ids by expiry
--   <p>:orders          hash order id -> "S" (its confirmation applied) | "R" (its tickets returned: cancelled)
--   <p>:ver             incremented on every change: the seat map's ETag
--   <p>:changes         pub/sub channel: "<ver> <state> <seat,seat,...>" or "<ver> ga <category> <left>"
local p = KEYS[1]

-- Redis's Lua (5.1) turns a number into a string, for a command's argument or a concatenation, with printf's
-- "%.14g": glibc's float formatting was about 7% of Redis's time running the hold script. Integers go through "%d".
local function int(n)
  return string.format('%d', n)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Token buckets, all or nothing: a request passes only when every bucket (per user, per IP) has a token, and then
-- takes one from each. buckets: {key, capacity, tokens per second}. Returns allowed (true/false), the tokens left
-- in the tightest bucket, that bucket's capacity, and when denied the milliseconds until it has a token again.
-- A bucket is one string, "<millionths of a token>/<ms>", written with SET PX: integers both, because Lua reads and
-- writes every number with strtod and printf, and a fraction took glibc's slow paths (about 3% of Redis's
-- instructions per hold, callgrind). The caller reads the buckets (`states`, in order) with one MGET, together with
-- whatever else it needs to read: on the hottest request of a sale every call counts. MGET reads a key of another
-- type as missing, and SET replaces it; a string of another form (no "/", as the "<tokens>:<ms>" of before) reads as
-- a full bucket.
-- Bucket writes are neither replicated nor appended to the AOF (REPL_NONE): a restarted Redis or a promoted replica
-- starts every bucket full, which a rate limit can afford, and the log no longer carries two writes of every hold
-- (about 4% of Redis's instructions per hold).
local function take_tokens(buckets, states, now)
  if #buckets == 0 then return true, -1, 0, 0 end
  local levels = {}
  local allowed, left, limit, retry = true, math.huge, 0, 0
  for i, b in ipairs(buckets) do
    local tokens, at = b[2], now
    local state = states[i]
    if state then
      local sep = string.find(state, '/', 1, true)
      if sep then
        local millionths = tonumber(string.sub(state, 1, sep - 1))
        if millionths then tokens = millionths / 1000000 end
        at = tonumber(string.sub(state, sep + 1)) or now
      end
    end
    tokens = math.min(b[2], tokens + math.max(0, now - at) * b[3] / 1000)
    levels[i] = tokens
    if tokens < 1 then
      allowed = false
      retry = math.max(retry, math.ceil((1 - tokens) / b[3] * 1000))
    end
    if tokens - 1 < left then left, limit = tokens - 1, b[2] end
  end
  redis.set_repl(redis.REPL_NONE)
  for i, b in ipairs(buckets) do
    local tokens = levels[i]
    if allowed then tokens = tokens - 1 end
    redis.call('SET', b[1], string.format('%d/%d', tokens * 1000000, now), 'PX', int(math.ceil(b[2] / b[3] * 1000) + 1000))
  end
  redis.set_repl(redis.REPL_ALL)
  return allowed, math.max(0, math.floor(left)), limit, retry
end

-- Reads rate-limit buckets from ARGV[first]: the count, then key suffix, capacity, tokens per second for each; keys
-- live under `prefix`. Returns the buckets, the index of the first ARGV after them, and their keys (to MGET).
local function read_buckets(prefix, first)
  local n = tonumber(ARGV[first])
  local buckets, keys = {}, {}
  for i = 1, n do
    local at = first + 1 + (i - 1) * 3
    keys[i] = prefix .. ARGV[at]
    buckets[i] = {keys[i], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])}
  end
  return buckets, first + 1 + n * 3, keys
end

-- The rate limit of a request whose buckets start at ARGV[first] (see read_buckets), taken on its own: returns
-- {allowed (1|0), tokens left, capacity, retry-after ms}, the reply of ratelimit.lua and the head of the replies of
-- the scripts that check their request's limit themselves (waiting room, pin).
local function rate_limit(prefix, first, now)
  local buckets, _, keys = read_buckets(prefix, first)
  local allowed, left, limit, retry = take_tokens(buckets, (#keys > 0) and redis.call('MGET', unpack(keys)) or {}, now)
  return {allowed and 1 or 0, left, limit, retry}
end

local function split(csv)
  local out = {}
  if csv and csv ~= '' then
    for s in string.gmatch(csv, '[^,]+') do out[#out + 1] = s end
  end
  return out
end

local function changed(state, detail)
  local ver = redis.call('INCR', p .. ':ver')
  redis.call('PUBLISH', p .. ':changes', int(ver) .. ' ' .. state .. ' ' .. detail)
  return ver
end

-- Puts seats (those still marked `owner`, "H:<hold>" or "S:<order>") and general-admission tickets back on sale,
-- and takes them off the user's count.
local function give_back(user, owner, seats, ga, qty)
  local freed = {}
  for _, s in ipairs(seats) do
    if redis.call('HGET', p .. ':seats', s) == owner then
      redis.call('HDEL', p .. ':seats', s)
      redis.call('SETBIT', p .. ':taken', tonumber(s), 0)
      freed[#freed + 1] = s
    end
  end
  if ga ~= '' and qty > 0 then
    local left = redis.call('INCRBY', p .. ':ga:' .. ga, qty)
    changed('ga', ga .. ' ' .. left)
  end
  local count = #seats + ((ga ~= '') and qty or 0)
  if count > 0 then
    local left = redis.call('DECRBY', p .. ':user:' .. user, count)
    if left <= 0 then redis.call('DEL', p .. ':user:' .. user) end
  end
  if #freed > 0 then changed('free', table.concat(freed, ',')) end
end

-- Returns a hold's seats and general-admission tickets to sale. A hold pinned by an accepted purchase is left to
-- the Worker unless force is set: the purchase decides whether those seats are sold or released.
local function release(hold_id, force)
  local hk = p .. ':hold:' .. hold_id
  local h = redis.call('HMGET', hk, 'user', 'seats', 'ga', 'qty', 'purchase')
  if not h[1] then
    redis.call('ZREM', p .. ':holds', hold_id)
    return 0
  end
  if (not force) and h[5] and h[5] ~= '' then return 0 end
  give_back(h[1], 'H:' .. hold_id, split(h[2]), h[3] or '', tonumber(h[4]) or 0)
  redis.call('DEL', hk)
  redis.call('ZREM', p .. ':holds', hold_id)
  return 1
end

-- Releases holds whose time is up, oldest first, at most `limit` of them.
local function release_expired(now, limit)
  local expired = redis.call('ZRANGEBYSCORE', p .. ':holds', '-inf', now, 'LIMIT', 0, limit)
  local n = 0
  for _, id in ipairs(expired) do n = n + release(id, false) end
  return n
end
