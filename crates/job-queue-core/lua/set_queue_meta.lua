--[[ set_queue_meta: write fields of the queue's meta hash that a Queue declares when it
  starts (for example `opts.maxLenEvents`, the events stream cap every script honours).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2..] field, value, field, value, ...
  Only fields named `opts.maxLenEvents` or `version` are accepted (others would change how
  the queue runs: paused, concurrency, rate limits have their own operations).
  Returns the number of fields written.
]]
local n = 0
for i = 2, #ARGV, 2 do
  local field = ARGV[i]
  if field ~= "opts.maxLenEvents" and field ~= "version" then
    return redis.error_reply("ERR meta field " .. field .. " cannot be set here")
  end
  redis.call("HSET", K.meta, field, ARGV[i + 1])
  n = n + 1
end
return n
