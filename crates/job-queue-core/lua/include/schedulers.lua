--[[ schedulers: computing and storing a job scheduler's iterations.

  Defines: json_extend, every_next, store_iteration. Needs: keys, events, markers, delayed.
]]
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
