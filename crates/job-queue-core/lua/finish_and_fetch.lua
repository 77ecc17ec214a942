--[[ finish_and_fetch: a worker's one round trip. Settles a batch of jobs it ran, then
  moves up to `fetch count` new jobs into active (docs/redis-layout.md).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] now ms  [3] lock token for fetched jobs  [4] lock ms  [5] fetch count
      [6] worker name ('' = none)  [7] limiter max ('' = none)  [8] limiter window ms ('' = none)
      [9] number of entries m  [10] number of shapes s (what entries tend to share)
      [11] strict ('1': every entry is checked first, and if one would be refused nothing
      is written or fetched; '0': each entry on its own), then
    9 values per shape:
      lock token, action, attempts made after this attempt, x, y, z, deduplication id
      ('' = none), error name ('' = none), w
    then 4 values per entry:
      id, value, stacktrace JSON ('' = leave as is), shape number (1-based)
    then: per-minute metrics points to keep (0 = none), jobs completed and failed for good
    since the worker's last metrics flush, the number k of metric increments, and k
    (field, increment) pairs for the `metrics:jq` hash (our key: counters and histograms
    by job name, worked out by the worker).
    action 'c' completed: value = return value JSON; x keep count (-1 = all), y keep age s
                          (0 = forever), z attempts, w most jobs removed by age in this call
                          (BullMQ's keep `limit`; the oldest go first)
    action 'f' failed for good: value = reason; x, y, z, w as for 'c'
    action 'd' retry later: value = reason; x = delay ms
    action 'w' retry now: value = reason; x = lifo ('1' / '0'), y = priority
    action 'r' release unfinished (shutdown, RateLimitError): no attempt counted; back to the
                          front of wait, or with a priority ahead of the jobs of its priority
    action 'b' back to wait by hand (BullMQ's moveToWait): x = priority; placed as 'r' places
                          a job; no attempt counted
  Lock token "0" is BullMQ's token for settling without a lock check (the job must still be
  active); a worker's own tokens are never "0".
  The worker passes what it read at fetch time (attempts made, priority, deduplication id):
  while it holds the lock, nobody else changes them.
  Retries and the fate of retried jobs are counted in the `retries` hash (our key; BullMQ
  ignores it): attempt:<n> and error:<name> per retry, total, delaySum, retriedSucceeded,
  retriedFailed. A final failure stores the error name in the job's `errorName` field.
  Jobs completed and failed for good are counted per minute in BullMQ's metrics keys
  (as BullMQ does), from the counts the worker sends.
  When the queue has a global concurrency, settling wakes the queue's workers (base marker)
  if jobs are waiting and the limit leaves room.
  A call with a retry now ('w') first makes due delayed jobs runnable, so they go ahead of
  the retried job (as BullMQ's retryJob). A call that gave a job back ('r') fetches nothing
  while the queue's limiter key lives, and answers its TTL as the rate limit (BullMQ's
  worker waits that long after a RateLimitError), whatever the worker's limiter.
  Returns {statuses, jobs, rate_limit_ms, next_delayed_ms}: statuses has one code per entry
  (0 ok, -1 job missing, -2 lock missing, -3 not active, -6 lock held by another token);
  jobs, rate_limit_ms and next_delayed_ms as fetch_jobs returns them. A strict call that
  refuses returns each entry's check code, {} and 0, 0: none of its entries was applied.
]]
-- Numbers handed to redis.call go as the strings they arrived as where possible: Lua formats
-- a number argument with sprintf("%.14g"), which costs more than the command it feeds.
local now_s = ARGV[2]
local now = tonumber(now_s)
local m = tonumber(ARGV[9])
local statuses = {}
local trims = {}
local unlocked, unmarked = {}, {}
local finished_ids = {completed = {}, failed = {}}
local runnable, delayed, finished = false, false, false

-- Whether `token` may settle job `id` (reads only): 0, or an error code.
local function check_lock(id, token)
  local key = BASE .. id
  if token == "0" then
    if redis.call("EXISTS", key) == 0 then return -1 end
    return 0
  end
  local holder = redis.call("GET", key .. ":lock")
  if not holder then
    if redis.call("EXISTS", key) == 0 then return -1 end
    return -2
  end
  if holder ~= token then return -6 end
  return 0
end

-- Checks the job's lock and takes it out of active; returns 0 or an error code. The lock
-- keys and stalled marks of released jobs are removed in bulk afterwards.
local function release(id, token)
  local status = check_lock(id, token)
  if status ~= 0 then return status end
  unlocked[#unlocked + 1] = BASE .. id .. ":lock"
  unmarked[#unmarked + 1] = id
  if redis.call("LREM", K.active, "-1", id) == 0 then return -3 end
  return 0
end

local function trim_finished(set, count, age_s, limit)
  if age_s > 0 and limit > 0 then
    local old = redis.call("ZRANGEBYSCORE", K[set], "-inf", now - age_s * 1000, "LIMIT", 0, limit)
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

local function release_dedup(id, dedup)
  if dedup == "" then return end
  local dkey = BASE .. "de:" .. dedup
  if redis.call("GET", dkey) == id and redis.call("PTTL", dkey) < 1 then
    redis.call("DEL", dkey)
  end
end

local retries_key = BASE .. "retries"
-- Increments of the `retries` hash, summed over the batch and written once per field.
local retry_counts = {}
local function tally(field, n)
  retry_counts[field] = (retry_counts[field] or 0) + n
end
-- Jobs retried at once to the left of wait, pushed in one command after the loop, in order.
local requeued = {}

-- BullMQ's per-minute metrics (docs/redis-layout.md) for `n` jobs that just reached `target`.
local function record_minutes(target, n, max_points)
  local mkey = BASE .. "metrics:" .. target
  local state = redis.call("HMGET", mkey, "prevTS", "prevCount")
  local count = redis.call("HINCRBY", mkey, "count", n)
  if not state[1] then
    redis.call("HSET", mkey, "prevTS", now, "prevCount", 0)
    return
  end
  local elapsed = math.floor(now / 60000) - math.floor(tonumber(state[1]) / 60000)
  if elapsed <= 0 then return end
  local data = mkey .. ":data"
  local before = count - n -- jobs up to the minute boundary
  redis.call("LPUSH", data, before - tonumber(state[2] or "0"))
  local zeros = {}
  for _ = 1, math.min(elapsed - 1, max_points) do zeros[#zeros + 1] = 0 end
  if #zeros > 0 then redis.call("LPUSH", data, unpack(zeros)) end
  redis.call("LTRIM", data, 0, max_points - 1)
  redis.call("HSET", mkey, "prevTS", now, "prevCount", before)
end

-- Counts a retry of the attempt that just failed, and its delay.
local function count_retry(attempt, error_name, delay)
  tally("attempt:" .. attempt, 1)
  tally("error:" .. (error_name ~= "" and error_name or "Error"), 1)
  tally("total", 1)
  if delay > 0 then tally("delaySum", delay) end
end

local shapes = {}
for k = 0, tonumber(ARGV[10]) - 1 do
  local a = 12 + k * 9
  shapes[k + 1] = {unpack(ARGV, a, a + 8)}
end
local first_entry = 12 + #shapes * 9

if ARGV[11] == "1" then
  local refused = false
  for i = 0, m - 1 do
    local a = first_entry + i * 4
    local id, token = ARGV[a], shapes[tonumber(ARGV[a + 3])][1]
    local status = check_lock(id, token)
    if status == 0 and not redis.call("LPOS", K.active, id) then status = -3 end
    statuses[#statuses + 1] = status
    refused = refused or status ~= 0
  end
  if refused then return {statuses, {}, 0, 0} end
  statuses = {}
end

trim_events()

local given_back = false
for _, shape in ipairs(shapes) do
  if shape[2] == "w" then
    -- due delayed jobs go ahead of a job retried now
    if promote_due(now) > 0 then runnable = true end
    break
  end
end

for i = 0, m - 1 do
  local a = first_entry + i * 4
  local id, value, stack = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local shape = shapes[tonumber(ARGV[a + 3])]
  local token, action, attempts_made, x, y, z, dedup_id, error_name = unpack(shape)
  local key = BASE .. id
  local status = release(id, token)
  statuses[#statuses + 1] = status
  if status ~= 0 then
    -- nothing more: the job belongs to someone else now, or is gone
  elseif action == "r" then
    given_back = true
    -- as BullMQ gives a job back: ahead of its priority (pc counter 0), else next in wait
    local priority = tonumber(redis.call("HGET", key, "priority")) or 0
    if priority > 0 then
      redis.call("ZADD", K.prioritized, priority * PRIORITY_SHIFT, id)
    else
      redis.call("RPUSH", K.wait, id)
    end
    emit_hot("waiting", "jobId", id, "prev", "active")
    runnable = true
  elseif action == "b" then
    local priority = tonumber(x) or 0
    if priority > 0 then
      redis.call("ZADD", K.prioritized, priority * PRIORITY_SHIFT, id)
    else
      redis.call("RPUSH", K.wait, id)
    end
    emit_hot("waiting", "jobId", id, "prev", "active")
    runnable = true
  elseif action == "c" or action == "f" then
    finished = true
    local set = action == "c" and "completed" or "failed"
    local keep = tonumber(x)
    release_dedup(id, dedup_id)
    if tonumber(attempts_made) > 1 then
      tally(action == "c" and "retriedSucceeded" or "retriedFailed", 1)
    end
    if keep == 0 then
      delete_job(id)
    else
      local ids = finished_ids[set]
      ids[#ids + 1] = now_s
      ids[#ids + 1] = id
      local result_field = action == "c" and "returnvalue" or "failedReason"
      if stack ~= "" then
        redis.call("HSET", key, result_field, value, "finishedOn", now_s, "atm", attempts_made,
          "stacktrace", stack)
      else
        redis.call("HSET", key, result_field, value, "finishedOn", now_s, "atm", attempts_made)
      end
      if action == "f" then
        redis.call("HDEL", key, "defa")
        if error_name ~= "" then redis.call("HSET", key, "errorName", error_name) end
      end
      trims[set] = shape -- its x, y and w: keep count, age and limit
    end
    if action == "c" then
      emit_hot("completed", "jobId", id, "returnvalue", value, "prev", "active")
    else
      emit_hot("failed", "jobId", id, "failedReason", value, "prev", "active")
      if tonumber(attempts_made) >= tonumber(z) then
        emit_hot("retries-exhausted", "jobId", id, "attemptsMade", attempts_made)
      end
    end
  elseif action == "d" then
    local delay = tonumber(x)
    redis.call("HSET", key, "failedReason", value, "stacktrace", stack, "atm", attempts_made,
      "delay", x)
    count_retry(attempts_made, error_name, delay)
    add_delayed(id, now + delay)
    delayed = true
  else
    redis.call("HSET", key, "failedReason", value, "stacktrace", stack, "atm", attempts_made)
    count_retry(attempts_made, error_name, 0)
    local priority, lifo = tonumber(y), x == "1"
    if priority == 0 and not lifo then
      requeued[#requeued + 1] = id
    else
      push_runnable(id, priority, lifo)
    end
    emit_hot("waiting", "jobId", id, "prev", "active")
    runnable = true
  end
end

for i = 1, #requeued, 1000 do
  redis.call("LPUSH", K.wait, unpack(requeued, i, math.min(i + 999, #requeued)))
end
for field, n in pairs(retry_counts) do
  redis.call("HINCRBY", retries_key, field, n)
end
for i = 1, #unlocked, 1000 do
  redis.call("DEL", unpack(unlocked, i, math.min(i + 999, #unlocked)))
  redis.call("SREM", K.stalled, unpack(unmarked, i, math.min(i + 999, #unmarked)))
end
for set, scored in pairs(finished_ids) do
  for i = 1, #scored, 1000 do
    redis.call("ZADD", K[set], unpack(scored, i, math.min(i + 999, #scored)))
  end
end
for set, shape in pairs(trims) do
  trim_finished(set, tonumber(shape[4]), tonumber(shape[5]), tonumber(shape[9]) or 1000)
end
if runnable and not paused_or_maxed() then wake_workers() end
-- Settled jobs left active and freed slots of the queue's global concurrency: workers that
-- found the queue at its limit wait on the marker, so wake them when jobs are waiting.
if m > 0 and not runnable and redis.call("HEXISTS", K.meta, "concurrency") == 1
    and not paused_or_maxed()
    and (redis.call("LLEN", K.wait) > 0 or redis.call("ZCARD", K.prioritized) > 0) then
  wake_workers()
end

local mbase = first_entry + m * 4
local max_points = tonumber(ARGV[mbase])
if max_points > 0 then
  local completed, failed = tonumber(ARGV[mbase + 1]), tonumber(ARGV[mbase + 2])
  if completed > 0 then record_minutes("completed", completed, max_points) end
  if failed > 0 then record_minutes("failed", failed, max_points) end
end
local metrics_key = BASE .. "metrics:jq"
for i = mbase + 4, mbase + 3 + tonumber(ARGV[mbase + 3]) * 2, 2 do
  redis.call("HINCRBY", metrics_key, ARGV[i], ARGV[i + 1])
end

local fetch_count = tonumber(ARGV[5])
local limited_ms = 0
if given_back then
  local ttl = redis.call("PTTL", K.limiter)
  if ttl > 0 then limited_ms, fetch_count = ttl, 0 end
end

local worker_name = ARGV[6] ~= "" and ARGV[6] or nil
local fetched = fetch_jobs(now, now_s, ARGV[3], ARGV[4], fetch_count, worker_name,
  tonumber(ARGV[7]), tonumber(ARGV[8]))
if limited_ms > 0 then fetched[2], fetched[3] = limited_ms, next_due_ms() end
if delayed and #fetched[1] == 0 then refresh_delay_marker() end
-- like BullMQ, only finishing (not a retry) announces an empty queue
if finished and #fetched[1] == 0 and redis.call("LLEN", K.wait) == 0
    and redis.call("LLEN", K.active) == 0 and redis.call("ZCARD", K.prioritized) == 0 then
  emit_hot("drained")
end
return {statuses, fetched[1], fetched[2], fetched[3]}
