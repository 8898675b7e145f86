-- Releases one hold. ARGV: hold id, user id ('' to skip the owner check), force ('1' also releases a pinned hold)
-- Returns 1 when released, 0 when there was nothing to release (or it is pinned), -1 when the hold is someone else's.
local owner = redis.call('HGET', p .. ':hold:' .. ARGV[1], 'user')
if ARGV[2] ~= '' and owner and owner ~= ARGV[2] then return -1 end
return release(ARGV[1], ARGV[3] == '1')
