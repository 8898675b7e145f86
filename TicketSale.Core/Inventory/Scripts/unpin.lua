-- Undoes pin.lua when the purchase could not be accepted (the broker did not confirm): the hold keeps its own expiry.
-- ARGV: hold id, purchase id
local hk = p .. ':hold:' .. ARGV[1]
if redis.call('HGET', hk, 'purchase') ~= ARGV[2] then return 0 end
local exp0 = redis.call('HGET', hk, 'exp0')
redis.call('HSET', hk, 'purchase', '', 'exp', exp0)
redis.call('ZADD', p .. ':holds', tonumber(exp0), ARGV[1])
return 1
