--[[ removal: deleting jobs with their sub-keys and deduplication keys.

  Defines: delete_job, forget_job, remove_job, drop_pending. Needs: keys, events, pending.
]]
-- Deletes a job's hash and every sub-key BullMQ deletes with it.
local function delete_job(id)
  local key = BASE .. id
  redis.call("DEL", key, key .. ":logs", key .. ":dependencies", key .. ":processed",
    key .. ":failed", key .. ":unsuccessful")
end

-- Deletes a job that is not running, with its deduplication key if it still owns it.
local function forget_job(id)
  local dedup = redis.call("HGET", BASE .. id, "deid")
  if dedup and redis.call("GET", BASE .. "de:" .. dedup) == id then
    redis.call("DEL", BASE .. "de:" .. dedup)
  end
  delete_job(id)
end

-- forget_job, announced (`removed`, with the state the job was in).
local function remove_job(id, state)
  forget_job(id)
  emit("removed", "jobId", id, "prev", state)
end

-- Deletes a job if it has not started; returns the state it was waiting in, or nil.
local function drop_pending(id)
  local state = pending_state(id)
  if state then
    unlink(id, state)
    remove_job(id, state)
  end
  return state
end
