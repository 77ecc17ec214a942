--[[ markers: the marker workers block on, and putting a runnable job where workers take it.

  Defines: paused_or_maxed, wake_workers, refresh_delay_marker, push_runnable. Needs: keys.
]]
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
