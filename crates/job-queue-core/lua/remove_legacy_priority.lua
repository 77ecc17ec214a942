--[[ remove_legacy_priority: delete the `priority` key of BullMQ versions older than the
  `prioritized` set (BullMQ's removeDeprecatedPriorityKey); nothing in BullMQ 6's layout reads it.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base
  Returns 1 when the key was deleted, 0 when there was none.
]]
return redis.call("DEL", BASE .. "priority")
