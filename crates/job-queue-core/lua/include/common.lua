--[[ Shared helpers, prepended to every script by the Rust script registry.

  Every script receives the same KEYS, in this order (see src/scripts/mod.rs, QUEUE_KEYS):
    1 wait  2 active  3 prioritized  4 delayed  5 completed  6 failed  7 meta  8 events
    9 marker  10 pc  11 id  12 stalled  13 stalled-check  14 limiter  15 paused (legacy)
  and ARGV[1] = the queue base "P:Q:" from which job keys are built.

  Numbers that can exceed 14 significant digits (scores) are only ever handed to redis.call
  as Lua numbers, never through tostring(), which would round them.
]]
local K = {
  wait = KEYS[1], active = KEYS[2], prioritized = KEYS[3], delayed = KEYS[4],
  completed = KEYS[5], failed = KEYS[6], meta = KEYS[7], events = KEYS[8],
  marker = KEYS[9], pc = KEYS[10], id = KEYS[11], stalled = KEYS[12],
  stalled_check = KEYS[13], limiter = KEYS[14], paused = KEYS[15],
}
local BASE = ARGV[1]
local PRIORITY_SHIFT = 4294967296 -- 2^32
local DELAY_SHIFT = 4096          -- 2^12

-- Approximate cap of the events stream (decimal text); written with BullMQ's default when
-- absent.
local function events_max_len()
  local len = redis.call("HGET", K.meta, "opts.maxLenEvents")
  if not len then
    redis.call("HSET", K.meta, "opts.maxLenEvents", "10000")
    return "10000"
  end
  return len
end

local MAX_EVENTS = events_max_len()

local function emit(...)
  redis.call("XADD", K.events, "MAXLEN", "~", MAX_EVENTS, "*", "event", ...)
end

-- For events written many times per call: no trim check each time; the script trims the
-- stream once (trim_events) instead, as BullMQ's hot paths do.
local function emit_hot(...)
  redis.call("XADD", K.events, "*", "event", ...)
end

local function trim_events()
  redis.call("XTRIM", K.events, "MAXLEN", "~", MAX_EVENTS)
end

-- Paused (meta flag present) or at the global concurrency limit: no base marker, no fetch.
local function paused_or_maxed()
  local state = redis.call("HMGET", K.meta, "paused", "concurrency")
  if state[1] then return true end
  if state[2] and redis.call("LLEN", K.active) >= tonumber(state[2]) then return true end
  return false
end

local function wake_workers()
  redis.call("ZADD", K.marker, "0", "0")
end

-- Delay marker: member "1" scored with the earliest due time in ms (not shifted).
local function refresh_delay_marker()
  local first = redis.call("ZRANGE", K.delayed, 0, 0, "WITHSCORES")
  if first[2] then
    redis.call("ZADD", K.marker, math.floor(tonumber(first[2]) / DELAY_SHIFT), "1")
  end
end

-- Score for a job due at due_ms: due << 12 plus a per-millisecond sequence (0..4095).
local function delayed_score(due_ms)
  local low = due_ms * DELAY_SHIFT
  local last = redis.call("ZREVRANGEBYSCORE", K.delayed, low + DELAY_SHIFT - 1, low,
    "WITHSCORES", "LIMIT", 0, 1)
  if last[2] then
    return math.min(tonumber(last[2]) + 1, low + DELAY_SHIFT - 1)
  end
  return low
end

local function add_delayed(id, due_ms)
  redis.call("ZADD", K.delayed, delayed_score(due_ms), id)
  emit("delayed", "jobId", id, "delay", due_ms)
end

-- Puts a runnable job where workers take it: prioritized by (priority, counter), else the
-- left of wait (FIFO) or the right (LIFO, next to run). The caller adds the marker.
local function push_runnable(id, priority, lifo)
  if priority > 0 then
    local counter = redis.call("INCR", K.pc) % PRIORITY_SHIFT
    redis.call("ZADD", K.prioritized, priority * PRIORITY_SHIFT + counter, id)
  elseif lifo then
    redis.call("RPUSH", K.wait, id)
  else
    redis.call("LPUSH", K.wait, id)
  end
end

-- Deletes a job's hash and every sub-key BullMQ deletes with it.
local function delete_job(id)
  local key = BASE .. id
  redis.call("DEL", key, key .. ":logs", key .. ":dependencies", key .. ":processed",
    key .. ":failed", key .. ":unsuccessful")
end

-- Queues a job that has left `delayed` by its stored priority, and announces it. The
-- caller adds the marker.
local function make_runnable(id)
  local key = BASE .. id
  local priority = tonumber(redis.call("HGET", key, "priority") or "0") or 0
  push_runnable(id, priority, false)
  redis.call("HSET", key, "delay", 0)
  emit("waiting", "jobId", id, "prev", "delayed")
end

-- Moves due delayed jobs (at most 1000) to wait / prioritized. Returns how many moved.
local function promote_due(now)
  local due = redis.call("ZRANGEBYSCORE", K.delayed, 0, (now + 1) * DELAY_SHIFT - 1,
    "LIMIT", 0, 1000)
  for _, id in ipairs(due) do
    make_runnable(id)
  end
  if #due > 0 then
    redis.call("ZREM", K.delayed, unpack(due))
  end
  return #due
end

-- Moves up to `count` runnable jobs into active under lock `token`, as BullMQ's fetch does
-- (see the layout doc), popping them in one command per source list. Returns {jobs, rate_limit_ms,
-- next_delayed_ms} where jobs is a flat list of {id, {hash fields...}} pairs. `now_s` and
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
      if ttl > 0 then return {jobs, ttl, 0} end
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
  if #ids == 0 then
    local first = redis.call("ZRANGE", K.delayed, 0, 0, "WITHSCORES")
    local next_due = 0
    if first[2] then next_due = math.floor(tonumber(first[2]) / DELAY_SHIFT) end
    return {jobs, 0, next_due}
  end
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

-- Where a job waits, if it has not started: "delayed", "prioritized", "wait", else nil.
local function pending_state(id)
  if redis.call("ZSCORE", K.delayed, id) then return "delayed" end
  if redis.call("ZSCORE", K.prioritized, id) then return "prioritized" end
  if redis.call("LPOS", K.wait, id) then return "wait" end
  return nil
end

-- Takes a job out of the list or set `state` names (a pending_state answer).
local function unlink(id, state)
  if state == "wait" then
    redis.call("LREM", K.wait, 1, id)
  else
    redis.call("ZREM", K[state], id)
  end
end

-- Deletes a job that is not running, with its deduplication key if it still owns it.
local function forget_job(id)
  local dedup = redis.call("HGET", BASE .. id, "deid")
  if dedup and redis.call("GET", BASE .. "de:" .. dedup) == id then
    redis.call("DEL", BASE .. "de:" .. dedup)
  end
  delete_job(id)
end

-- forget_job, announced (`removed`, with the state the job was in).
local function remove_job(id, state)
  forget_job(id)
  emit("removed", "jobId", id, "prev", state)
end

-- Deletes a job if it has not started; returns the state it was waiting in, or nil.
local function drop_pending(id)
  local state = pending_state(id)
  if state then
    unlink(id, state)
    remove_job(id, state)
  end
  return state
end

-- `obj` (a JSON object's text) with `fields` (JSON members' text) appended.
local function json_extend(obj, fields)
  if obj == "{}" then return "{" .. fields .. "}" end
  return string.sub(obj, 1, -2) .. "," .. fields .. "}"
end

-- When an `every` scheduler fires next, as BullMQ does: `every` after the previous iteration,
-- realigned to its phase (`offset`) when it fell behind; the first one at the start date,
-- the next aligned slot, or now. Returns next ms and the phase.
local function every_next(prev, every, now, offset, start)
  local nxt
  if prev then
    nxt = prev + every
    if nxt < now then
      nxt = math.floor(now / every) * every + offset
      if nxt <= now then nxt = nxt + every end
    end
  elseif start then
    nxt = math.max(start, now)
  elseif offset > 0 then
    nxt = math.floor(now / every) * every + offset
    if nxt <= now then nxt = nxt + every end
  else
    nxt = now
  end
  if offset == 0 then offset = nxt % every end
  return nxt, offset
end

-- Creates a scheduler's iteration `repeat:<sid>:<at>` and queues it: delayed until `at`, or
-- runnable now. Its opts are the template's plus the iteration's own fields.
local function store_iteration(sid, at, now, name, data, opts, repeat_fields, offset, count,
                               priority)
  local id = "repeat:" .. sid .. ":" .. at
  local delay = math.max(at - now, 0)
  local own = string.format(
    '"jobId":%s,"delay":%d,"timestamp":%d,"prevMillis":%d,"repeatJobKey":%s,"repeat":%s',
    cjson.encode(id), delay, now, at, cjson.encode(sid),
    json_extend(repeat_fields, string.format('"offset":%d,"count":%d', offset, count)))
  redis.call("HSET", BASE .. id, "name", name, "data", data, "opts", json_extend(opts, own),
    "timestamp", now, "delay", delay, "priority", priority, "rjk", sid)
  emit("added", "jobId", id, "name", name)
  if delay > 0 then
    add_delayed(id, at)
    refresh_delay_marker()
  else
    push_runnable(id, priority, false)
    emit("waiting", "jobId", id)
    if not paused_or_maxed() then wake_workers() end
  end
  return id, delay
end
