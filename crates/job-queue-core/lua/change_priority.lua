--[[ change_priority: give a job a new priority (BullMQ's changePriority). A job waiting is
  moved to its new place at once; a delayed or running job keeps the new priority for when it
  next becomes runnable.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] priority (0 = none)  [4] lifo ('1': the job goes first among
  its peers: the right of wait, or ahead of its priority; absent or '0': last)
  Returns 0, or -1 when the job does not exist.
]]
local id, priority, lifo = ARGV[2], tonumber(ARGV[3]), ARGV[4] == "1"
local key = BASE .. id
if redis.call("EXISTS", key) == 0 then return -1 end
redis.call("HSET", key, "priority", priority)
local state = pending_state(id)
if state == "wait" or state == "prioritized" then
  unlink(id, state)
  if lifo and priority > 0 then
    redis.call("ZADD", K.prioritized, priority * PRIORITY_SHIFT, id) -- counter 0: first
  else
    push_runnable(id, priority, lifo)
  end
  if not paused_or_maxed() then wake_workers() end
end
return 0
