--[[ finish_and_fetch: a worker's one round trip. Settles a batch of jobs it ran, then
  moves up to `fetch count` new jobs into active (spec §6.2, §6.3, §6.4).

  KEYS: the queue keys (include/common.lua)
  ARGV[1] base  [2] now ms  [3] lock token for fetched jobs  [4] lock ms  [5] fetch count
      [6] worker name ('' = none)  [7] limiter max ('' = none)  [8] limiter window ms ('' = none)
      [9] number of entries m, then 8 values per entry:
    id, token, action, value, stacktrace JSON ('' = leave as is), x, y, z
    action 'c' completed: value = return value JSON; x keep count (-1 = all), y keep age s
                          (0 = forever), z attempts
    action 'f' failed for good: value = reason; x, y, z as for 'c'
    action 'd' retry later: value = reason; x = delay ms
    action 'w' retry now: value = reason; x = lifo ('1' / '0')
    action 'r' release unfinished (shutdown): back to the front of wait, no attempt counted
  Returns {statuses, jobs, rate_limit_ms, next_delayed_ms}: statuses has one code per entry
  (0 ok, -1 job missing, -2 lock missing, -3 not active, -6 lock held by another token);
  jobs, rate_limit_ms and next_delayed_ms as fetch_jobs returns them.
]]
local now = tonumber(ARGV[2])
local m = tonumber(ARGV[9])
local statuses = {}
local trims = {}
local runnable, delayed, finished = false, false, false

if m > 0 then
  redis.call("XTRIM", K.events, "MAXLEN", "~", MAX_EVENTS)
end

-- Releases the job's lock and takes it out of active; returns 0 or an error code.
local function release(id, token)
  local key = BASE .. id
  if redis.call("EXISTS", key) == 0 then return -1 end
  local holder = redis.call("GET", key .. ":lock")
  if not holder then return -2 end
  if holder ~= token then return -6 end
  redis.call("DEL", key .. ":lock")
  redis.call("SREM", K.stalled, id)
  if redis.call("LREM", K.active, -1, id) == 0 then return -3 end
  return 0
end

local function trim_finished(set, count, age_s)
  if age_s > 0 then
    local old = redis.call("ZRANGEBYSCORE", K[set], "-inf", now - age_s * 1000, "LIMIT", 0, 1000)
    for _, id in ipairs(old) do delete_job(id) end
    if #old > 0 then redis.call("ZREM", K[set], unpack(old)) end
  end
  if count > 0 then
    local excess = redis.call("ZCARD", K[set]) - count
    if excess > 0 then
      local ids = redis.call("ZRANGE", K[set], 0, excess - 1)
      for _, id in ipairs(ids) do delete_job(id) end
      redis.call("ZREMRANGEBYRANK", K[set], 0, excess - 1)
    end
  end
end

for i = 0, m - 1 do
  local a = 10 + i * 8
  local id, token, action, value, stack = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local x, y, z = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local key = BASE .. id
  local status = release(id, token)
  statuses[#statuses + 1] = status
  if status == 0 and action == "r" then
    redis.call("RPUSH", K.wait, id)
    emit("waiting", "jobId", id, "prev", "active")
    runnable = true
  elseif status == 0 then
    if stack ~= "" then redis.call("HSET", key, "stacktrace", stack) end
    local attempts_made = redis.call("HINCRBY", key, "atm", 1)
    if action == "c" or action == "f" then
      finished = true
      local set = action == "c" and "completed" or "failed"
      local keep = tonumber(x)
      local dedup = redis.call("HGET", key, "deid")
      if dedup then
        local dkey = BASE .. "de:" .. dedup
        if redis.call("GET", dkey) == id and redis.call("PTTL", dkey) < 1 then
          redis.call("DEL", dkey)
        end
      end
      if keep == 0 then
        delete_job(id)
      else
        redis.call("ZADD", K[set], now, id)
        if action == "c" then
          redis.call("HSET", key, "returnvalue", value, "finishedOn", now)
        else
          redis.call("HSET", key, "failedReason", value, "finishedOn", now)
          redis.call("HDEL", key, "defa")
        end
        trims[set] = {keep, tonumber(y)}
      end
      if action == "c" then
        emit("completed", "jobId", id, "returnvalue", value, "prev", "active")
      else
        emit("failed", "jobId", id, "failedReason", value, "prev", "active")
        if attempts_made >= tonumber(z) then
          emit("retries-exhausted", "jobId", id, "attemptsMade", attempts_made)
        end
      end
    elseif action == "d" then
      local delay = tonumber(x)
      redis.call("HSET", key, "failedReason", value, "delay", delay)
      add_delayed(id, now + delay)
      delayed = true
    else
      redis.call("HSET", key, "failedReason", value)
      local priority = tonumber(redis.call("HGET", key, "priority") or "0") or 0
      push_runnable(id, priority, x == "1")
      emit("waiting", "jobId", id, "prev", "active")
      runnable = true
    end
  end
end

for set, policy in pairs(trims) do
  trim_finished(set, policy[1], policy[2])
end
if runnable and not paused_or_maxed() then wake_workers() end

local worker_name = ARGV[6] ~= "" and ARGV[6] or nil
local fetched = fetch_jobs(now, ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), worker_name,
  tonumber(ARGV[7]), tonumber(ARGV[8]))
if delayed and #fetched[1] == 0 then refresh_delay_marker() end
-- like BullMQ, only finishing (not a retry) announces an empty queue
if finished and #fetched[1] == 0 and redis.call("LLEN", K.wait) == 0
    and redis.call("LLEN", K.active) == 0 and redis.call("ZCARD", K.prioritized) == 0 then
  emit("drained")
end
return {statuses, fetched[1], fetched[2], fetched[3]}
