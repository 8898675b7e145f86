-- Takes a token from every bucket, or from none. KEYS[1]: the key prefix of the buckets.
-- ARGV: bucket count, then key suffix, capacity, tokens per second for each.
-- Returns {allowed (1|0), tokens left, capacity, retry-after ms}.
local buckets, _, keys = read_buckets(p, 1)
local states = (#keys > 0) and redis.call('MGET', unpack(keys)) or {}
local allowed, left, limit, retry = take_tokens(buckets, states, now_ms())
return {allowed and 1 or 0, left, limit, retry}
