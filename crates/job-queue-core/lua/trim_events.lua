--[[ trim_events: cap the queue's events stream at about `max_len` entries, as BullMQ's
  trimEvents does (approximate trimming: Redis removes whole stream nodes only).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] max_len (non-negative integer)
  Returns how many entries were removed.
]]
return redis.call("XTRIM", K.events, "MAXLEN", "~", tonumber(ARGV[2]))
