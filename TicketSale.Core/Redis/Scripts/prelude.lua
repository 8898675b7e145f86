-- Opens every script: KEYS[1] is the key prefix of what the script works on (for the inventory and the waiting
-- room, a campaign's "ts:{<campaign id>}": the braces make all of a campaign's keys one hash slot, so a script
-- touching them stays atomic on a Redis cluster too).
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
