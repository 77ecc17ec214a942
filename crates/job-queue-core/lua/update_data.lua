--[[ update_data: replace a job's payload (BullMQ's job.updateData). No event is written, as
  BullMQ writes none.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] data JSON (checked by the caller)
  Returns 0, or -1 when the job does not exist.
]]
local key = BASE .. ARGV[2]
if redis.call("EXISTS", key) == 0 then return -1 end
redis.call("HSET", key, "data", ARGV[3])
return 0
