--[[ clear_logs: empty a job's log, or keep its newest lines (BullMQ's job.clearLogs).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] keep the newest n lines (0 = none)
  Whether the job exists does not matter: a missing job has no log to clear.
  Returns the number of lines left.
]]
local logs = BASE .. ARGV[2] .. ":logs"
local keep = tonumber(ARGV[3])
if keep > 0 then
  redis.call("LTRIM", logs, -keep, -1)
  return redis.call("LLEN", logs)
end
redis.call("DEL", logs)
return 0
