--[[ upsert_scheduler: create or replace a job scheduler, and queue its next iteration
  (spec §6.9). Replacing drops the iteration still waiting; an unchanged `every` keeps its slot.

  KEYS: the queue keys (include/common.lua)
  ARGV[1] base  [2] scheduler id  [3] now ms  [4] next ms (cron; '' for every)
      [5] every ms ('' for cron)  [6] phase ms for every ('' = derive)  [7] start date ms ('')
      [8] job name  [9] template data JSON  [10] template opts JSON
      [11] repeat options JSON (without offset and count)  [12] priority
      [13..] further scheduler hash fields as pairs (pattern, tz, limit, startDate, endDate)
  Returns {iteration id, delay ms}, or -10 when a job already has the iteration's id.
]]
local sid, now = ARGV[2], tonumber(ARGV[3])
local repeat_key = BASE .. "repeat"
local skey = repeat_key .. ":" .. sid
local prev = tonumber(redis.call("ZSCORE", repeat_key, sid))
local every = tonumber(ARGV[5])
local at = tonumber(ARGV[4])
local offset = tonumber(ARGV[6]) or 0

local same_every = false
if every then
  same_every = prev ~= nil and tonumber(redis.call("HGET", skey, "every")) == every
  local from = same_every and prev or nil
  at, offset = every_next(from, every, now, offset, tonumber(ARGV[7]))
end

-- the iteration still waiting is replaced; for an unchanged every it keeps its time slot
if prev then
  local old = "repeat:" .. sid .. ":" .. prev
  local state = pending_state(old)
  if state then
    unlink(old, state)
    remove_job(old, state)
    if same_every then at = prev end
  end
end

if redis.call("EXISTS", BASE .. "repeat:" .. sid .. ":" .. at) == 1 then
  if not every then return -10 end
  -- an iteration of this slot already ran: take the next free one
  repeat
    at = at + every
  until redis.call("EXISTS", BASE .. "repeat:" .. sid .. ":" .. at) == 0
end

local count = tonumber(redis.call("HGET", skey, "ic") or "1")
local fields = {"name", ARGV[8], "ic", count}
if every then
  fields[#fields + 1] = "every"
  fields[#fields + 1] = every
end
fields[#fields + 1] = "offset"
fields[#fields + 1] = offset
for i = 13, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
if ARGV[9] ~= "{}" then
  fields[#fields + 1] = "data"
  fields[#fields + 1] = ARGV[9]
end
if ARGV[10] ~= "{}" then
  fields[#fields + 1] = "opts"
  fields[#fields + 1] = ARGV[10]
end
redis.call("DEL", skey)
redis.call("HSET", skey, unpack(fields))
redis.call("ZADD", repeat_key, at, sid)
redis.call("INCR", K.id)
local id, delay = store_iteration(sid, at, now, ARGV[8], ARGV[9], ARGV[10], ARGV[11], offset,
  count, tonumber(ARGV[12]))
return {id, delay}
