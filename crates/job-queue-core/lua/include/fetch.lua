--[[ fetch: moving runnable jobs into active under a worker's lock.

  Defines: next_due_ms, fetch_jobs. Needs: keys, events, markers, delayed.
]]
-- Due time (ms) of the earliest delayed job, 0 for none.
local function next_due_ms()
  local first = redis.call("ZRANGE", K.delayed, 0, 0, "WITHSCORES")
  if first[2] then return math.floor(tonumber(first[2]) / DELAY_SHIFT) end
  return 0
end

-- Moves up to `count` runnable jobs into active under lock `token`, as BullMQ's fetch does
-- (see the layout doc), popping them in one command per source list. Returns {jobs, rate_limit_ms,
-- next_delayed_ms} where jobs is a flat list of {id, {hash fields...}} pairs and
-- next_delayed_ms (0: none) is set when nothing was fetched, rate limited or not. `now_s` and
-- `lock_ms` are decimal strings: written per job, they are not formatted from numbers.
local function fetch_jobs(now, now_s, token, lock_ms, count, worker_name, lim_max, lim_duration)
  local jobs = {}
  local meta = redis.call("HMGET", K.meta, "paused", "concurrency", "max", "duration")
  local paused = meta[1]
  local concurrency = tonumber(meta[2])
  -- the queue's max overrides the worker's; the worker's window overrides the queue's
  local max_jobs = tonumber(meta[3]) or lim_max
  local window = lim_duration or tonumber(meta[4])
  if promote_due(now) > 0 and not paused then wake_workers() end
  if paused then return {jobs, 0, 0} end
  if concurrency then
    count = math.min(count, concurrency - redis.call("LLEN", K.active))
  end
  if max_jobs and count > 0 then
    local used = tonumber(redis.call("GET", K.limiter) or "0")
    if used >= max_jobs then
      local ttl = redis.call("PTTL", K.limiter)
      -- with the next delayed job's time, so that the worker promotes it when due, limit or not
      if ttl > 0 then return {jobs, ttl, next_due_ms()} end
      redis.call("DEL", K.limiter)
      used = 0
    end
    count = math.min(count, max_jobs - used)
  end
  if count <= 0 then return {jobs, 0, 0} end
  local ids = {}
  local popped = redis.call("RPOP", K.wait, count)
  if popped then
    for _, id in ipairs(popped) do
      if string.sub(id, 1, 2) ~= "0:" then ids[#ids + 1] = id end -- skip legacy markers
    end
  end
  if #ids < count then
    local want = count - #ids
    local top = redis.call("ZPOPMIN", K.prioritized, want)
    for i = 1, #top, 2 do ids[#ids + 1] = top[i] end
    if #top < want * 2 then redis.call("DEL", K.pc) end -- both lists ran dry
  end
  if #ids == 0 then return {jobs, 0, next_due_ms()} end
  redis.call("LPUSH", K.active, unpack(ids))
  if max_jobs and redis.call("INCRBY", K.limiter, #ids) == #ids and window then
    redis.call("PEXPIRE", K.limiter, window)
  end
  for _, id in ipairs(ids) do
    local key = BASE .. id
    redis.call("SET", key .. ":lock", token, "PX", lock_ms)
    emit_hot("active", "jobId", id, "prev", "waiting")
    local fields = redis.call("HGETALL", key)
    local started
    local seen_processed = false
    for i = 1, #fields, 2 do
      local f = fields[i]
      if f == "ats" then
        started = tostring(tonumber(fields[i + 1]) + 1)
        fields[i + 1] = started
      elseif f == "processedOn" then
        fields[i + 1] = now_s
        seen_processed = true
      end
    end
    if not started then
      started = "1"
      fields[#fields + 1] = "ats"
      fields[#fields + 1] = started
    end
    if not seen_processed then
      fields[#fields + 1] = "processedOn"
      fields[#fields + 1] = now_s
    end
    if worker_name then
      redis.call("HSET", key, "processedOn", now_s, "ats", started, "pb", worker_name)
      fields[#fields + 1] = "pb"
      fields[#fields + 1] = worker_name
    else
      redis.call("HSET", key, "processedOn", now_s, "ats", started)
    end
    jobs[#jobs + 1] = id
    jobs[#jobs + 1] = fields
  end
  wake_workers()
  return {jobs, 0, 0}
end
