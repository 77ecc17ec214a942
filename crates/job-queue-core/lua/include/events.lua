--[[ events: writing the queue's events stream, capped at the queue's `opts.maxLenEvents`.

  Loading this include reads the cap from meta (one HGET) and, when the field is absent,
  writes BullMQ's default (10000) there, as BullMQ's scripts that emit events do.
  Defines: MAX_EVENTS, emit, emit_hot, trim_events. Needs: keys.
]]
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
