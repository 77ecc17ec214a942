--[[ upsert_scheduler: create or replace a job scheduler, and queue its next iteration
  (as BullMQ). Replacing drops the iteration still waiting; an unchanged `every` keeps its slot.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] scheduler id  [3] now ms  [4] next ms (cron; '' for every)
      [5] every ms ('' for cron)  [6] phase ms for every ('' = derive)  [7] start date ms ('')
      [8] job name  [9] template data JSON  [10] template opts JSON
      [11] repeat options JSON (without offset and count)  [12] priority
      [13..] further scheduler hash fields as pairs (pattern, tz, limit, startDate, endDate)
  An upsert that changes nothing (same job, data, options and schedule, and its current
  iteration still stored) leaves the scheduler and its iteration as they are, so every
  process may declare its schedules at start-up.
  Returns {iteration id, delay ms}, or -10 when a job already has the iteration's id.
]]
local sid, now = ARGV[2], tonumber(ARGV[3])
local repeat_key = BASE .. "repeat"
local skey = repeat_key .. ":" .. sid
local prev = tonumber(redis.call("ZSCORE", repeat_key, sid))
local every = tonumber(ARGV[5])

-- the definition as the scheduler hash stores it, without the counters (ic, offset)
local definition = {name = ARGV[8]}
if every then definition.every = ARGV[5] end
for i = 13, #ARGV, 2 do definition[ARGV[i]] = ARGV[i + 1] end
if ARGV[9] ~= "{}" then definition.data = ARGV[9] end
if ARGV[10] ~= "{}" then definition.opts = ARGV[10] end

local function unchanged()
  local stored = redis.call("HGETALL", skey)
  local seen = 0
  for i = 1, #stored, 2 do
    local field = stored[i]
    if field ~= "ic" and field ~= "offset" then
      if definition[field] ~= stored[i + 1] then return false end
      seen = seen + 1
    end
  end
  for _ in pairs(definition) do seen = seen - 1 end
  return seen == 0
end

if prev and (ARGV[6] == "" or ARGV[6] == redis.call("HGET", skey, "offset"))
    and redis.call("EXISTS", BASE .. "repeat:" .. sid .. ":" .. prev) == 1 and unchanged() then
  return {"repeat:" .. sid .. ":" .. prev, math.max(prev - now, 0)}
end
local at = tonumber(ARGV[4])
local offset = tonumber(ARGV[6]) or 0

local same_every = false
if every then
  same_every = prev ~= nil and tonumber(redis.call("HGET", skey, "every")) == every
  local from = same_every and prev or nil
  at, offset = every_next(from, every, now, offset, tonumber(ARGV[7]))
end

-- the iteration still waiting is replaced; for an unchanged every it keeps its time slot
if prev and drop_pending("repeat:" .. sid .. ":" .. prev) and same_every then at = prev end

if redis.call("EXISTS", BASE .. "repeat:" .. sid .. ":" .. at) == 1 then
  if not every then return -10 end
  -- an iteration of this slot already ran: take the next free one
  repeat
    at = at + every
  until redis.call("EXISTS", BASE .. "repeat:" .. sid .. ":" .. at) == 0
end

local count = tonumber(redis.call("HGET", skey, "ic") or "1")
local fields = {"ic", count, "offset", offset}
for field, value in pairs(definition) do
  fields[#fields + 1] = field
  fields[#fields + 1] = value
end
redis.call("DEL", skey)
redis.call("HSET", skey, unpack(fields))
redis.call("ZADD", repeat_key, at, sid)
redis.call("INCR", K.id)
local id, delay = store_iteration(sid, at, now, ARGV[8], ARGV[9], ARGV[10], ARGV[11], offset,
  count, tonumber(ARGV[12]))
return {id, delay}
