--[[ retry_job: move a finished job back to waiting (BullMQ's job.retry).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id  [3] from: 'failed' or 'completed'
  [4..] attempt counters to reset (hash fields among atm, ats, stc; none keeps them)
  Returns 0, -1 when the job does not exist, -3 when it is not in the `from` set.
]]
local id, from = ARGV[2], ARGV[3]
local key = BASE .. id
if redis.call("EXISTS", key) == 0 then return -1 end
if redis.call("ZREM", K[from], id) == 0 then return -3 end
local result_field = from == "failed" and "failedReason" or "returnvalue"
redis.call("HDEL", key, "finishedOn", "processedOn", result_field)
for i = 4, #ARGV do redis.call("HDEL", key, ARGV[i]) end
local fields = redis.call("HMGET", key, "priority", "opts")
local lifo = false
local ok, opts = pcall(cjson.decode, fields[2] or "{}")
if ok and type(opts) == "table" and opts.lifo == true then lifo = true end
push_runnable(id, tonumber(fields[1] or "0") or 0, lifo)
emit("waiting", "jobId", id, "prev", from)
if not paused_or_maxed() then wake_workers() end
return 0
