--[[ promote_job: run a delayed job now (BullMQ's job.promote).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id
  Returns 0, -1 when the job does not exist, -3 when it is not delayed.
]]
local id = ARGV[2]
if redis.call("EXISTS", BASE .. id) == 0 then return -1 end
if redis.call("ZREM", K.delayed, id) == 0 then return -3 end
make_runnable(id)
if not paused_or_maxed() then wake_workers() end
return 0
