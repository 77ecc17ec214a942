--[[ worker_heartbeat: a worker's entry in the worker registry of a key prefix (our keys,
  outside every queue: `P::workers` hash of JSON entries, `P::workers:seen` sorted set of last
  heartbeats, `P::workers:paused` set of workers asked to pause), so any process can list
  workers and their status, and pause one in another process.

  KEYS[1] P::workers  KEYS[2] P::workers:seen  KEYS[3] P::workers:paused
  (`P::` is `P::{P}:` for a prefix without a hash tag of its own: every key of a prefix
  carries one tag, so the three share a Redis Cluster slot; src/keys.rs, PrefixKeys)
  ARGV[1] worker id  [2] now ms  [3] entry JSON ('' = the worker is leaving)
      [4] forget entries silent for this many ms
  Returns 1 when the worker is asked to be paused, else 0.
]]
local id, now = ARGV[1], tonumber(ARGV[2])
if ARGV[3] == "" then
  redis.call("HDEL", KEYS[1], id)
  redis.call("ZREM", KEYS[2], id)
  redis.call("SREM", KEYS[3], id)
  return 0
end
redis.call("HSET", KEYS[1], id, ARGV[3])
redis.call("ZADD", KEYS[2], now, id)
local gone = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now - tonumber(ARGV[4]), "LIMIT", 0, 100)
if #gone > 0 then
  redis.call("HDEL", KEYS[1], unpack(gone))
  redis.call("ZREM", KEYS[2], unpack(gone))
  redis.call("SREM", KEYS[3], unpack(gone))
end
return redis.call("SISMEMBER", KEYS[3], id)
