--[[ remove_scheduler: delete a job scheduler and its iteration that has not started
  (docs/redis-layout.md); iterations running or finished are left alone.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] scheduler id
  Returns 1 when the scheduler existed, else 0.
]]
local sid = ARGV[2]
local repeat_key = BASE .. "repeat"
local prev = redis.call("ZSCORE", repeat_key, sid)
local existed = redis.call("DEL", repeat_key .. ":" .. sid)
if prev then
  drop_pending("repeat:" .. sid .. ":" .. prev)
  redis.call("ZREM", repeat_key, sid)
  existed = 1
end
return existed
