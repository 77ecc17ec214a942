--[[ move_jobs_to_wait: make up to `count` jobs of a set runnable again, oldest first; serves
  the Queue's `retryJobs` (failed or completed jobs) and `promoteJobs` (delayed jobs).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] state: 'failed', 'completed' or 'delayed'
       [3] count: most jobs moved by this call (the bound of its work)
       [4] finished at or before this ms (failed/completed; ignored for delayed)
  Finished jobs lose finishedOn, processedOn and their failedReason or returnvalue (attempts
  are kept, as BullMQ's retryJobs does) and go to wait, or to prioritized when they have a
  priority; delayed jobs become runnable as a promote does. Each emits `waiting` with `prev`
  set to the state it left. Workers are woken unless the queue is paused or at its limit.
  Returns how many jobs moved (fewer than count: the set has no more to move).
]]
local state, count = ARGV[2], tonumber(ARGV[3])
local ids
if state == "delayed" then
  ids = redis.call("ZRANGE", K.delayed, 0, count - 1)
elseif state == "failed" or state == "completed" then
  ids = redis.call("ZRANGEBYSCORE", K[state], "-inf", tonumber(ARGV[4]), "LIMIT", 0, count)
else
  return redis.error_reply("ERR unknown state " .. tostring(state))
end
if #ids == 0 then return 0 end
redis.call("ZREM", K[state], unpack(ids))
if state == "delayed" then
  for _, id in ipairs(ids) do make_runnable(id) end
else
  local result_field = state == "failed" and "failedReason" or "returnvalue"
  for _, id in ipairs(ids) do
    local key = BASE .. id
    redis.call("HDEL", key, "finishedOn", "processedOn", result_field)
    push_runnable(id, tonumber(redis.call("HGET", key, "priority") or "0") or 0, false)
    emit("waiting", "jobId", id, "prev", state)
  end
end
if not paused_or_maxed() then wake_workers() end
return #ids
