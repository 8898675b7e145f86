-- The inventory's helpers, shared by its scripts. Keys under <p> (prelude.lua), a campaign's hash slot:
--   <p>:loaded          "1" once availability was loaded from PostgreSQL (absent: Redis lost it, rebuild first)
--   <p>:seats           hash seat index -> "H:<hold id>" (held) | "S:<order id>" (sold)
--   <p>:taken           bitmap, bit <seat index> set while the seat is held or sold (the compact seat map)
--   <p>:ga:<category>   general-admission tickets left
--   <p>:user:<user id>  tickets a user holds or bought (the per-user limit)
--   <p>:hold:<hold id>  hash: user, seats (comma-separated), ga, qty, exp (ms), purchase (set once a purchase is accepted)
--   <p>:holds           sorted set of hold ids by expiry
--   <p>:orders          hash order id -> "S" (its confirmation applied) | "R" (its tickets returned: cancelled)
--   <p>:ver             incremented on every change, each published: the seat map's ETag (a rebuild sets it to at
--                       least Redis's clock in microseconds, so it never goes back when Redis lost it)
--   <p>:stats:holds     holds placed since the campaign was loaded (the organizer's holds per second)
--   <p>:drift           hash: seats (sold seats on which Redis and PostgreSQL disagree), at (ms): the Worker's last check
--   <p>:changes         pub/sub channel: "<ver> held|sold|free <seat,seat,...>", "<ver> ga <category> <left>",
--                       "<ver> none *" (a change with nothing to show) or "<ver> rebuilt *"
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
