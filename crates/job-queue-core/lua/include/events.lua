--[[ events: writing the queue's events stream, capped at the queue's `opts.maxLenEvents`.

  The cap is read from meta (one HGET) the first time a script emits or trims, and when the
  field is absent BullMQ's default (10000) is written there, as BullMQ's scripts that emit
  events do. A script that emits nothing (e.g. it refuses its input) writes nothing.
  Defines: max_events, emit, emit_hot, trim_events. Needs: keys.
]]
-- Approximate cap of the events stream (decimal text), read once per call; written with
-- BullMQ's default when absent.
local MAX_EVENTS_CACHE = nil
local function max_events()
  if MAX_EVENTS_CACHE then
    return MAX_EVENTS_CACHE
  end
  local len = redis.call("HGET", K.meta, "opts.maxLenEvents")
  if not len then
    redis.call("HSET", K.meta, "opts.maxLenEvents", "10000")
    len = "10000"
  end
  MAX_EVENTS_CACHE = len
  return len
end

local function emit(...)
  redis.call("XADD", K.events, "MAXLEN", "~", max_events(), "*", "event", ...)
end

-- For events written many times per call: no trim check each time; the script trims the
-- stream once (trim_events) instead, as BullMQ's hot paths do.
local function emit_hot(...)
  redis.call("XADD", K.events, "*", "event", ...)
end

local function trim_events()
  redis.call("XTRIM", K.events, "MAXLEN", "~", max_events())
end
