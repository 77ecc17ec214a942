--[[ next_iteration: queue a scheduler's next iteration when its current one starts
  (as BullMQ does). Only the current iteration may produce the next, so however many workers see
  it, each time slot gets one job.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] scheduler id  [3] producing job id  [4] now ms
      [5] next ms (cron; '' for every)  [6] every ms ('' for cron)  [7] phase ms ('' = derive)
      [8] end date ms ('' = none)  [9] opts JSON without the iteration's own fields
      [10] repeat options JSON (without offset and count)  [11] iteration number  [12] priority
  Returns the new iteration's id, or '' when there is none (not current, ended, or present).
]]
local sid, producer, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local repeat_key = BASE .. "repeat"
local skey = repeat_key .. ":" .. sid
local prev = tonumber(redis.call("ZSCORE", repeat_key, sid))
if not prev or producer ~= "repeat:" .. sid .. ":" .. prev then return "" end
local attrs = redis.call("HMGET", skey, "name", "data", "every", "offset")
local every = tonumber(attrs[3]) or tonumber(ARGV[6])
local at = tonumber(ARGV[5])
local offset = tonumber(attrs[4]) or tonumber(ARGV[7]) or 0
if every then
  at, offset = every_next(prev, every, now, offset, nil)
  if not attrs[4] then redis.call("HSET", skey, "offset", offset) end
end
local ends = tonumber(ARGV[8])
if not at or (ends and at > ends) then return "" end
local next_id = "repeat:" .. sid .. ":" .. at
if redis.call("EXISTS", BASE .. next_id) == 1 then
  emit("duplicated", "jobId", next_id)
  return ""
end
redis.call("ZADD", repeat_key, at, sid)
redis.call("HINCRBY", skey, "ic", 1)
redis.call("INCR", K.id)
store_iteration(sid, at, now, attrs[1] or "", attrs[2] or "{}", ARGV[9], ARGV[10], offset,
  tonumber(ARGV[11]), tonumber(ARGV[12]))
return next_id
