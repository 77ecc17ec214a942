--[[ client_rate_limit: counts jobs (or calls) of one client in a fixed window shared by
  every process (our key, outside every queue: `P::rate:<scope>:<client>`, a counter that
  expires with its window, which starts at the client's first job after the last one ended).
  Over the limit nothing is counted.

  KEYS[1] P::rate:<scope>:<client>
  ARGV[1] cost (jobs to count now)  [2] the most per window  [3] window ms
  Returns {1, count after, ms left in the window} when counted, or {0, count, ms until the
  window ends} when the cost does not fit.
]]
local key = KEYS[1]
local cost, max, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = tonumber(redis.call("GET", key) or "0")
local left = redis.call("PTTL", key)
if left < 0 then
  -- no window running (-2), or a counter that lost its expiry (-1): start one
  count = 0
  left = window
end
if count + cost > max then
  return {0, count, left}
end
count = redis.call("INCRBY", key, cost)
if count == cost then
  redis.call("PEXPIRE", key, window)
  left = window
end
return {1, count, left}
