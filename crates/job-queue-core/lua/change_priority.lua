--[[ change_priority: give a job a new priority (spec §6.8 changePriority). A job waiting is
  moved to its new place at once; a delayed or running job keeps the new priority for when it
  next becomes runnable.

  KEYS: the queue keys (include/common.lua)
  ARGV[1] base  [2] job id  [3] priority (0 = none)
  Returns 0, or -1 when the job does not exist.
]]
local id, priority = ARGV[2], tonumber(ARGV[3])
local key = BASE .. id
if redis.call("EXISTS", key) == 0 then return -1 end
redis.call("HSET", key, "priority", priority)
local state = pending_state(id)
if state == "wait" or state == "prioritized" then
  unlink(id, state)
  push_runnable(id, priority, false)
  if not paused_or_maxed() then wake_workers() end
end
return 0
