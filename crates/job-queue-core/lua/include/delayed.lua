--[[ delayed: moving jobs into the delayed set and, when due, out of it to be run.

  Defines: delayed_score, add_delayed, make_runnable, promote_due.
  Needs: keys, events, markers.
]]
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
