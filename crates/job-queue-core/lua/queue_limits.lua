--[[ queue_limits: sets or clears the limits every worker of the queue obeys, as BullMQ keeps
  them: the queue's global concurrency and global rate limit (fields of the meta hash that
  the fetch honours), and a rate-limit pause of the whole queue (the limiter key set to a
  count no window allows, expiring after the pause).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base
  ARGV[2] op: 'concurrency' (ARGV[3] = limit, a positive integer; '' clears it)
              'rate'        (ARGV[3] = max jobs, ARGV[4] = window ms, positive integers;
                             '' for both clears the rate limit)
              'pause'       (ARGV[3] = ms, a positive integer; fetching pauses for that long)
              'unpause'     (ends a pause or a used-up window at once)
  Returns 1.
  Errors: "ERR unknown op <op>", "ERR bad number <field>" (nothing written).
]]
local op = ARGV[2]
local function positive(value, field)
  local n = tonumber(value)
  if not n or n < 1 or n ~= math.floor(n) then
    return nil, redis.error_reply("ERR bad number " .. field)
  end
  return n
end

if op == "concurrency" then
  if ARGV[3] == "" then
    redis.call("HDEL", K.meta, "concurrency")
  else
    local n, err = positive(ARGV[3], "concurrency")
    if not n then return err end
    redis.call("HSET", K.meta, "concurrency", n)
  end
  -- a raised limit may let waiting workers fetch again
  wake_workers()
elseif op == "rate" then
  if ARGV[3] == "" then
    redis.call("HDEL", K.meta, "max", "duration")
  else
    local max, err = positive(ARGV[3], "max")
    if not max then return err end
    local window, err2 = positive(ARGV[4], "duration")
    if not window then return err2 end
    redis.call("HSET", K.meta, "max", max, "duration", window)
  end
  wake_workers()
elseif op == "pause" then
  local ms, err = positive(ARGV[3], "ms")
  if not ms then return err end
  -- 2^53 - 1: more than any window's max, so every rate-limited fetch waits out the TTL
  redis.call("SET", K.limiter, "9007199254740991", "PX", ms)
elseif op == "unpause" then
  redis.call("DEL", K.limiter)
  wake_workers()
else
  return redis.error_reply("ERR unknown op " .. tostring(op))
end
return 1
