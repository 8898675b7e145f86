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
