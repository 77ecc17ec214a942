--[[ pause_queue: pause or resume a queue in BullMQ 6's layout: the `paused` flag
  in meta stops every worker's fetch, ours and BullMQ's.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] '1' pause / '0' resume
  Resuming moves a legacy `paused` list (BullMQ 5) to the end of wait, then wakes workers.
  Returns 1 when the state changed, else 0.
]]
if ARGV[2] == "1" then
  if redis.call("HSETNX", K.meta, "paused", 1) == 0 then return 0 end
  emit("paused")
  return 1
end
if redis.call("HDEL", K.meta, "paused") == 0 then return 0 end
while true do
  local legacy = redis.call("LRANGE", K.paused, -7000, -1)
  if #legacy == 0 then break end
  redis.call("LTRIM", K.paused, 0, -7001)
  redis.call("RPUSH", K.wait, unpack(legacy))
end
if redis.call("LLEN", K.wait) + redis.call("ZCARD", K.prioritized) > 0 then
  if not paused_or_maxed() then wake_workers() end
else
  refresh_delay_marker()
end
emit("resumed")
return 1
