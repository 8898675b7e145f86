-- Takes a token from every bucket, or from none. KEYS[1]: the key prefix of the buckets.
-- ARGV: bucket count, then key suffix, capacity, tokens per second for each.
-- Returns {allowed (1|0), tokens left, capacity, retry-after ms}.
return rate_limit(p, 1, now_ms())
