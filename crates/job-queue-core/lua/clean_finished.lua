--[[ clean_finished: periodic cleanup of a finished set (completed or failed): deletes jobs
  that finished before a time, then the oldest beyond a count, at most `limit` per call.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] 'completed' or 'failed'  [3] finished at or before this ms ('' = any age)
      [4] keep at most this many ('' = no count limit)  [5] limit
  Like BullMQ's clean it emits one `cleaned` event with the count. Returns the count.
]]
local set, limit = ARGV[2], tonumber(ARGV[5])
local ids = {}
if ARGV[3] ~= "" then
  ids = redis.call("ZRANGEBYSCORE", K[set], "-inf", ARGV[3], "LIMIT", 0, limit)
end
local keep = tonumber(ARGV[4])
if keep and #ids < limit then
  local excess = redis.call("ZCARD", K[set]) - #ids - keep
  if excess > 0 then
    local extra = redis.call("ZRANGE", K[set], #ids, #ids + math.min(excess, limit - #ids) - 1)
    for _, id in ipairs(extra) do ids[#ids + 1] = id end
  end
end
for _, id in ipairs(ids) do forget_job(id) end
if #ids > 0 then
  redis.call("ZREM", K[set], unpack(ids))
  emit("cleaned", "count", #ids)
end
return #ids
