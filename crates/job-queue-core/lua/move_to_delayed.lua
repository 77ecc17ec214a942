--[[ move_to_delayed: move a running job back to delayed, due at an absolute time (BullMQ's
  job.moveToDelayed, used by a processor that wants to run its job again later). The attempt
  does not count: `atm` is unchanged. The job's lock is released.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] due time ms  [4] delay ms (stored in `delay`)
  [5] lock token, or "0" to skip the lock check
  Returns 0; -1 when the job does not exist, -3 when it is not active, -2 when its lock is
  missing, -6 when the lock is held by another token. Nothing is written on an error.
]]
local id, due, token = ARGV[2], tonumber(ARGV[3]), ARGV[5]
local key = BASE .. id
if redis.call("EXISTS", key) == 0 then return -1 end
if not redis.call("LPOS", K.active, id) then return -3 end
local lock = key .. ":lock"
if token ~= "0" then
  local holder = redis.call("GET", lock)
  if not holder then return -2 end
  if holder ~= token then return -6 end
end
redis.call("DEL", lock)
redis.call("SREM", K.stalled, id)
redis.call("LREM", K.active, -1, id)
redis.call("HSET", key, "delay", ARGV[4])
add_delayed(id, due)
refresh_delay_marker()
return 0
