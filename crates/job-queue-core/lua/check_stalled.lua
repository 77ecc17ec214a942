--[[ check_stalled: the two-phase stalled-job check, at most once per interval
  per queue whoever runs it (our workers or BullMQ's).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] max stalled count  [3] now ms  [4] stalled interval ms
  Returns {recovered ids, ids that will fail because they stalled too often}, or two empty
  lists when another worker ran the check within the interval.
]]
if redis.call("SET", K.stalled_check, ARGV[3], "PX", ARGV[4], "NX") == false then
  return {{}, {}}
end
local max_stalled = tonumber(ARGV[2])
trim_events()
local recovered, doomed = {}, {}
-- collect: marked last time, lock gone since, still active => stalled
local marked = redis.call("SMEMBERS", K.stalled)
if #marked > 0 then
  redis.call("DEL", K.stalled)
  for _, id in ipairs(marked) do
    local key = BASE .. id
    if redis.call("EXISTS", key .. ":lock") == 0 and redis.call("LREM", K.active, 1, id) > 0 then
      local count = redis.call("HINCRBY", key, "stc", 1)
      if count > max_stalled then
        local scheduler = redis.call("HGET", key, "rjk")
        if not (scheduler and redis.call("HEXISTS", BASE .. "repeat:" .. scheduler, "ic") == 1) then
          redis.call("HSET", key, "defa", "job stalled more than allowable limit")
          doomed[#doomed + 1] = id
        end
      end
      redis.call("RPUSH", K.wait, id)
      emit("waiting", "jobId", id, "prev", "active")
      emit("stalled", "jobId", id)
      recovered[#recovered + 1] = id
    end
  end
  if #recovered > 0 then
    redis.call("HINCRBY", BASE .. "metrics:jq", "s|", #recovered)
    if not paused_or_maxed() then wake_workers() end
  end
end
-- mark: everything active now is suspect until its lock is renewed or it finishes
local active = redis.call("LRANGE", K.active, 0, -1)
for i = 1, #active, 7000 do
  redis.call("SADD", K.stalled, unpack(active, i, math.min(i + 6999, #active)))
end
return {recovered, doomed}
