-- Releases expired holds. ARGV: at most how many. Returns how many were released.
return release_expired(now_ms(), tonumber(ARGV[1]))
