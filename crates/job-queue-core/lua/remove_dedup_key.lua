--[[ remove_dedup_key: end a deduplication window early (BullMQ's removeDeduplicationKey).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] deduplication id  [3] owner job id ('' = whichever job owns it)
  With an owner, the key goes only while that job owns it (a later job may have taken the
  id over since).
  Returns 1 when the key was deleted, 0 when there was none (or another job owns it).
]]
local key = BASE .. "de:" .. ARGV[2]
if ARGV[3] ~= "" and redis.call("GET", key) ~= ARGV[3] then return 0 end
return redis.call("DEL", key)
