--[[ remove_orphans: delete candidate jobs that no state references (BullMQ's
  removeOrphanedJobs, one batch of candidates found by a SCAN of the queue's keys).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] most jobs to remove in this call (0 = no limit)  [3..] candidate job ids
  A job is referenced when its id is in wait, the legacy paused list, active, prioritized,
  delayed, completed, failed, stalled, waiting-children or our archived set. Each candidate
  is checked and deleted within this call, so a job added, moved or finished meanwhile is
  never taken for an orphan. An orphan goes with its sub-keys (logs, lock and BullMQ's flow
  keys) and its deduplication key when it still owns it; no event (nothing a worker or
  listener knew of goes).
  Returns the ids removed.
]]
local max = tonumber(ARGV[2])
local sets = { K.prioritized, K.delayed, K.completed, K.failed, BASE .. "waiting-children",
  BASE .. "archived" }
local lists = { K.wait, K.active, K.paused }

local function referenced(id)
  -- the sorted sets and the stalled set first: O(log n) each; the lists only for the rest
  for _, key in ipairs(sets) do
    if redis.call("ZSCORE", key, id) then return true end
  end
  if redis.call("SISMEMBER", K.stalled, id) == 1 then return true end
  for _, key in ipairs(lists) do
    if redis.call("LPOS", key, id) then return true end
  end
  return false
end

local removed = {}
for i = 3, #ARGV do
  if max > 0 and #removed >= max then break end
  local id = ARGV[i]
  if not referenced(id) then
    local key = BASE .. id
    local dedup = redis.call("TYPE", key).ok == "hash" and redis.call("HGET", key, "deid")
    if dedup and redis.call("GET", BASE .. "de:" .. dedup) == id then
      redis.call("DEL", BASE .. "de:" .. dedup)
    end
    redis.call("DEL", key, key .. ":logs", key .. ":lock", key .. ":dependencies",
      key .. ":processed", key .. ":failed", key .. ":unsuccessful")
    removed[#removed + 1] = id
  end
end
return removed
