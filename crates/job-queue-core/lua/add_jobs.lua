--[[ add_jobs: add one or more jobs atomically (docs/redis-layout.md).

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base, ARGV[2] job count n, ARGV[3] shape count s, then 6 values per shape (what
  jobs of a call tend to share):
    name, opts (JSON), timestamp ms, delay ms, priority, lifo ('1' / '0')
  then 4 values per job:
    custom id ('' = take the counter), data (JSON), shape number (1-based),
    deduplication ('' = none, else "<ttl ms or empty>|<flags>|<id>", flags: e = extend the
    ttl, r = replace a delayed owner)
  Returns a flat list {id, created (1|0), ...}: created 0 means the job was not added, and
  id names the job that stands for it: the one with that custom id (a `duplicated` event is
  emitted) or the owner of the deduplication id (a `deduplicated` event).
  The id counter advances once per job, custom ids included, as BullMQ's does; FIFO jobs are
  pushed to wait in one command, in order.
]]
local n = tonumber(ARGV[2])
local shapes = {}
for k = 0, tonumber(ARGV[3]) - 1 do
  local a = 4 + k * 6
  -- numbers go to HSET as the strings they arrived as: converting a Lua number back costs
  shapes[k + 1] = {
    name = ARGV[a], opts = ARGV[a + 1], timestamp_s = ARGV[a + 2], delay_s = ARGV[a + 3],
    priority_s = ARGV[a + 4], delay = tonumber(ARGV[a + 3]), priority = tonumber(ARGV[a + 4]),
    lifo = ARGV[a + 5] == "1", due = tonumber(ARGV[a + 2]) + tonumber(ARGV[a + 3]),
  }
end
local first_job = 4 + #shapes * 6
local first_counter = redis.call("INCRBY", K.id, n) - n
local fifo = {}
local runnable, delayed = false, false
local result = {}

-- Claims deduplication id `spec` names for job `id`. Returns nil when the job may be added
-- (the key now names it), else the id of the job that keeps the claim.
local function deduplicate(spec, id)
  local bar1 = string.find(spec, "|", 1, true)
  local bar2 = string.find(spec, "|", bar1 + 1, true)
  local ttl = tonumber(string.sub(spec, 1, bar1 - 1))
  local flags = string.sub(spec, bar1 + 1, bar2 - 1)
  local dedup = string.sub(spec, bar2 + 1)
  local dkey = BASE .. "de:" .. dedup
  local claimed
  if ttl then
    claimed = redis.call("SET", dkey, id, "PX", ttl, "NX")
  else
    claimed = redis.call("SET", dkey, id, "NX")
  end
  if claimed then return nil, dedup end
  local owner = redis.call("GET", dkey)
  if string.find(flags, "r", 1, true) and redis.call("ZSCORE", K.delayed, owner) then
    redis.call("ZREM", K.delayed, owner)
    remove_job(owner, "delayed")
    if ttl then
      redis.call("SET", dkey, id, "PX", ttl)
    else
      redis.call("SET", dkey, id)
    end
    emit_hot("deduplicated", "jobId", id, "deduplicationId", dedup, "deduplicatedJobId", owner)
    return nil, dedup
  end
  if ttl and string.find(flags, "e", 1, true) then
    redis.call("SET", dkey, owner, "PX", ttl)
  end
  emit_hot("deduplicated", "jobId", owner, "deduplicationId", dedup, "deduplicatedJobId", id)
  return owner
end

for i = 0, n - 1 do
  local a = first_job + i * 4
  local custom, data, shape = ARGV[a], ARGV[a + 1], shapes[tonumber(ARGV[a + 2])]
  local name, priority = shape.name, shape.priority
  local id = custom
  if id == "" then id = string.format("%d", first_counter + i + 1) end
  local key = BASE .. id
  local owner, dedup
  if custom ~= "" and redis.call("EXISTS", key) == 1 then
    emit_hot("duplicated", "jobId", id)
    owner = id
  elseif ARGV[a + 3] ~= "" then
    owner, dedup = deduplicate(ARGV[a + 3], id)
  end
  if owner then
    result[#result + 1] = owner
    result[#result + 1] = 0
  else
    redis.call("HSET", key, "name", name, "data", data, "opts", shape.opts,
      "timestamp", shape.timestamp_s, "delay", shape.delay_s, "priority", shape.priority_s)
    if dedup then redis.call("HSET", key, "deid", dedup) end
    emit_hot("added", "jobId", id, "name", name)
    if shape.delay > 0 then
      add_delayed(id, shape.due)
      delayed = true
    else
      if priority == 0 and not shape.lifo then
        fifo[#fifo + 1] = id
      else
        push_runnable(id, priority, shape.lifo)
      end
      emit_hot("waiting", "jobId", id)
      runnable = true
    end
    result[#result + 1] = id
    result[#result + 1] = 1
  end
end
for i = 1, #fifo, 1000 do
  redis.call("LPUSH", K.wait, unpack(fifo, i, math.min(i + 999, #fifo)))
end
trim_events()
if runnable and not paused_or_maxed() then wake_workers() end
if delayed then refresh_delay_marker() end
return result
