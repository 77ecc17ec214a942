--[[ client_rate_limit: counts jobs (or calls) of clients, each in a fixed window shared by
  every process (our keys, outside every queue: `P::rate:<scope>:<client>`, a counter that
  expires with its window, which starts at the client's first count after the last window
  ended). All or nothing: when one client's cost does not fit under the limit, nothing is
  counted for any of them.

  KEYS[1..n] P::rate:<scope>:<client>, one per client (`P::` is `P::{P}:` for a prefix
    without a hash tag of its own, so every client's window shares the prefix's one slot on
    a Redis Cluster; src/keys.rs, PrefixKeys)
  ARGV[1] the most per window  [2] window ms  [3..n+2] each client's cost
  Returns {1, count after, ms left in the window} of the first client when every cost was
  counted, or {0, count, ms until its window ends, i} for the first client i (from 1) whose
  cost does not fit.
]]
local max, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local counts, lefts = {}, {}
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call("GET", key) or "0")
  local left = redis.call("PTTL", key)
  if left < 0 then
    -- no window running (-2), or a counter that lost its expiry (-1): a new one starts
    count = 0
    left = window
  end
  if count + tonumber(ARGV[i + 2]) > max then
    return {0, count, left, i}
  end
  counts[i], lefts[i] = count, left
end
for i, key in ipairs(KEYS) do
  local cost = tonumber(ARGV[i + 2])
  if counts[i] == 0 then
    redis.call("SET", key, cost, "PX", window)
    lefts[i] = window
  else
    redis.call("INCRBY", key, cost)
  end
  counts[i] = counts[i] + cost
end
return {1, counts[1], lefts[1]}
