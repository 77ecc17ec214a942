--[[ extend_locks: renew the locks of jobs a worker is running (docs/redis-layout.md).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] lock ms  then pairs: job id, token
  Returns the ids whose lock was missing or held by another token (not renewed).
]]
local lock_ms = tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local lock = BASE .. id .. ":lock"
  if redis.call("GET", lock) == token then
    redis.call("PEXPIRE", lock, lock_ms)
    redis.call("SREM", K.stalled, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
