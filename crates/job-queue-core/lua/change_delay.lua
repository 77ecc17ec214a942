--[[ change_delay: move a delayed job's due time to `delay` ms from now.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] now ms  [4] delay ms
  Returns 0, -1 when the job does not exist, -3 when it is not delayed.
]]
local id, now, delay = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local key = BASE .. id
if redis.call("EXISTS", key) == 0 then return -1 end
if redis.call("ZREM", K.delayed, id) == 0 then return -3 end
redis.call("HSET", key, "delay", delay)
add_delayed(id, now + delay)
refresh_delay_marker()
return 0
