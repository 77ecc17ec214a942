--[[ archive_failed: take a dead letter out of the failed set, keeping the job (our
  operation; BullMQ has none). It moves to the `archived` sorted set (our key, scored by the
  time it was archived) and gets an `archivedOn` field.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] now ms
  Returns 0, -1 when the job does not exist, -3 when it is not failed.
]]
local id, now = ARGV[2], tonumber(ARGV[3])
if redis.call("EXISTS", BASE .. id) == 0 then return -1 end
if redis.call("ZREM", K.failed, id) == 0 then return -3 end
redis.call("ZADD", BASE .. "archived", now, id)
redis.call("HSET", BASE .. id, "archivedOn", now)
return 0
