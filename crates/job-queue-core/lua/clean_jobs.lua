--[[ clean_jobs: remove jobs of one state that are older than a time, one bounded window per
  call; serves the Queue's `clean` (announced) and `drain` (silent).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base
       [2] state: 'completed', 'failed', 'delayed', 'prioritized', 'wait', 'paused', 'active'
       [3] cutoff ms: a job goes when its time is at or before this
       [4] window: how many jobs of the state this call looks at (the bound of its work)
       [5] offset: jobs to step over first (kept by earlier calls), counted from the oldest
       [6] '1' to emit one `cleaned` event with the count, '0' for none
  A job's time: finished sets use their score (finishing time); `delayed` uses processedOn,
  else timestamp; `prioritized` uses timestamp; the lists (wait, paused, active) use the
  first present of finishedOn, processedOn, timestamp. Lists are read from their oldest end.
  Never removed: an active job whose lock is held, and the pending iteration of a job
  scheduler (the scheduler would stop). Removal deletes the job's keys and its deduplication
  key when it owns it; no per-job event.
  Returns {removed ids, jobs looked at}.
]]
local state, cutoff = ARGV[2], tonumber(ARGV[3])
local window, offset = tonumber(ARGV[4]), tonumber(ARGV[5])
local STATES = { completed = true, failed = true, delayed = true, prioritized = true,
  wait = true, paused = true, active = true }
if not STATES[state] then return redis.error_reply("ERR unknown state " .. tostring(state)) end
local source = K[state]
local repeat_key = BASE .. "repeat"

-- The job is the iteration its scheduler is waiting on.
local function pending_iteration(id)
  local sid, at = string.match(id, "^repeat:(.+):(%d+)$")
  if not sid then return false end
  local next_at = redis.call("ZSCORE", repeat_key, sid)
  return next_at ~= false and tonumber(next_at) == tonumber(at)
end

local function job_time(id, fields)
  local values = redis.call("HMGET", BASE .. id, unpack(fields))
  for _, v in ipairs(values) do
    if v then return tonumber(v) end
  end
  return nil
end

local removed = {}
local looked = 0

if state == "completed" or state == "failed" then
  local ids = redis.call("ZRANGEBYSCORE", source, "-inf", cutoff, "LIMIT", offset, window)
  looked = #ids
  for _, id in ipairs(ids) do
    forget_job(id)
    removed[#removed + 1] = id
  end
elseif state == "delayed" or state == "prioritized" then
  local ids = redis.call("ZRANGE", source, offset, offset + window - 1)
  looked = #ids
  local fields = state == "delayed" and {"processedOn", "timestamp"} or {"timestamp"}
  for _, id in ipairs(ids) do
    if not pending_iteration(id) then
      local t = job_time(id, fields)
      if not t or t <= cutoff then
        forget_job(id)
        removed[#removed + 1] = id
      end
    end
  end
else
  -- lists: the oldest jobs are at the right; the window ends `offset` from the right
  local first = -(offset + window)
  local ids = redis.call("LRANGE", source, first, -(offset + 1))
  looked = #ids
  local base_index = -(offset + #ids)
  for i, id in ipairs(ids) do
    local locked = state == "active" and redis.call("EXISTS", BASE .. id .. ":lock") == 1
    if not locked and not pending_iteration(id) then
      local t = job_time(id, {"finishedOn", "processedOn", "timestamp"})
      if not t or t <= cutoff then
        -- mark in place, then drop the marks with one LREM
        redis.call("LSET", source, base_index + i - 1, "")
        forget_job(id)
        removed[#removed + 1] = id
      end
    end
  end
  -- from the right, stopping after the last mark: no more than offset + window entries
  if #removed > 0 then redis.call("LREM", source, -#removed, "") end
end

if #removed > 0 and state ~= "wait" and state ~= "paused" and state ~= "active" then
  redis.call("ZREM", source, unpack(removed))
end
if ARGV[6] == "1" then emit("cleaned", "count", #removed) end
return {removed, looked}
