--[[ purge_failed: delete failed jobs that failed at or before a time, at most 1000 per
  call (the caller repeats until fewer come back).

  KEYS: the queue keys (include/common.lua)
  ARGV[1] base  [2] failed no later than this ms ('+inf' for all)
  Like BullMQ's clean, it announces one `cleaned` event with the count, not each job.
  Returns how many jobs were deleted.
]]
local ids = redis.call("ZRANGEBYSCORE", K.failed, "-inf", ARGV[2], "LIMIT", 0, 1000)
for _, id in ipairs(ids) do
  forget_job(id)
end
if #ids > 0 then
  redis.call("ZREM", K.failed, unpack(ids))
  emit("cleaned", "count", #ids)
end
return #ids
