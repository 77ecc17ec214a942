--[[ add_log: append a line to a job's log (docs/redis-layout.md).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] line  [4] keep last n lines (0 = all)
  Returns the number of lines, or -1 when the job does not exist.
]]
local key = BASE .. ARGV[2]
if redis.call("EXISTS", key) == 0 then return -1 end
local count = redis.call("RPUSH", key .. ":logs", ARGV[3])
local keep = tonumber(ARGV[4])
if keep > 0 and count > keep then
  redis.call("LTRIM", key .. ":logs", -keep, -1)
  count = keep
end
return count
