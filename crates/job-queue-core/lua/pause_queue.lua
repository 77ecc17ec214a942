--[[ pause_queue: pause or resume a queue in BullMQ 6's layout: the `paused` flag
  in meta stops every worker's fetch, ours and BullMQ's.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] '1' pause / '0' resume
       [3] (resume) '1' on a resume's first call, '0' on the calls that carry on moving a
           legacy list: only a first call clears the flag (a pause made meanwhile stays)
           and announces `resumed`
  Resuming also moves BullMQ 5's legacy `paused` list into wait, as BullMQ 6 does: renamed to
  wait when wait is empty, else appended to wait's taking end (wait's jobs, then the paused
  ones, in the order a worker takes them) at most LEGACY_BATCH jobs per call, newest paused
  jobs first, so the list keeps its order across calls. The caller calls again while jobs
  are left.
  Returns {changed, left}: changed 1 when the call paused the queue, or resumed it (the flag
  was set or legacy jobs moved), else 0; left = legacy jobs still to move (0 for a pause).
]]
local LEGACY_BATCH = 5000
if ARGV[2] == "1" then
  if redis.call("HSETNX", K.meta, "paused", 1) == 0 then return {0, 0} end
  emit("paused")
  return {1, 0}
end
local first = ARGV[3] == "1"
local changed = first and redis.call("HDEL", K.meta, "paused") == 1
local left = 0
if redis.call("EXISTS", K.paused) == 1 then
  changed = true
  if redis.call("EXISTS", K.wait) == 0 then
    redis.call("RENAME", K.paused, K.wait)
  else
    local jobs = redis.call("LRANGE", K.paused, 0, LEGACY_BATCH - 1)
    for i = 1, #jobs, 1000 do
      redis.call("RPUSH", K.wait, unpack(jobs, i, math.min(i + 999, #jobs)))
    end
    redis.call("LTRIM", K.paused, #jobs, -1)
    left = redis.call("LLEN", K.paused)
  end
end
if not changed then return {0, 0} end
if redis.call("LLEN", K.wait) + redis.call("ZCARD", K.prioritized) > 0 then
  if not paused_or_maxed() then wake_workers() end
else
  refresh_delay_marker()
end
if first then emit("resumed") end
return {1, left}
