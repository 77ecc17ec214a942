--[[ update_progress: set a job's progress and announce it (docs/redis-layout.md).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] progress JSON
  Returns 0, or -1 when the job does not exist.
]]
local key = BASE .. ARGV[2]
if redis.call("EXISTS", key) == 0 then return -1 end
redis.call("HSET", key, "progress", ARGV[3])
emit("progress", "jobId", ARGV[2], "data", ARGV[3])
return 0
