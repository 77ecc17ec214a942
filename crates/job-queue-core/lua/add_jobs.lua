--[[ add_jobs: add one or more jobs atomically (spec §6.1).

  KEYS: the queue keys (include/common.lua)
  ARGV[1] base, ARGV[2] job count n, then 8 values per job:
    custom id ('' = take the counter), name, data (JSON), opts (JSON), timestamp ms,
    delay ms, priority, lifo ('1' / '0')
  Returns a flat list {id, created (1|0), ...}: created 0 means a job with that custom id
  already existed and was left untouched (a `duplicated` event is emitted).
  The id counter advances once per job, custom ids included, as BullMQ's does; FIFO jobs are
  pushed to wait in one command, in order.
]]
local n = tonumber(ARGV[2])
local first_counter = redis.call("INCRBY", K.id, n) - n
local fifo = {}
local runnable, delayed = false, false
local result = {}
for i = 0, n - 1 do
  local a = 3 + i * 8
  local custom, name, data, opts = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  -- numbers go to HSET as the strings they arrived as: converting a Lua number back costs
  local timestamp_s, delay_s, priority_s = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local delay, priority, lifo = tonumber(delay_s), tonumber(priority_s), ARGV[a + 7] == "1"
  local id = custom
  if id == "" then id = tostring(first_counter + i + 1) end
  local key = BASE .. id
  if custom ~= "" and redis.call("EXISTS", key) == 1 then
    emit_hot("duplicated", "jobId", id)
    result[#result + 1] = id
    result[#result + 1] = 0
  else
    redis.call("HSET", key, "name", name, "data", data, "opts", opts,
      "timestamp", timestamp_s, "delay", delay_s, "priority", priority_s)
    emit_hot("added", "jobId", id, "name", name)
    if delay > 0 then
      add_delayed(id, tonumber(timestamp_s) + delay)
      delayed = true
    else
      if priority == 0 and not lifo then
        fifo[#fifo + 1] = id
      else
        push_runnable(id, priority, lifo)
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
