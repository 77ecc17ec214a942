--[[ remove_job: delete a job that has not started or has finished (job.remove).
  A running or locked job is refused: its worker holds it. So is the pending iteration of a
  job scheduler (remove the scheduler instead), as BullMQ refuses it.

  KEYS: the queue keys (include/keys.lua)
  ARGV[1] base  [2] job id
  Returns 0, -1 when the job does not exist, -3 when it is running or locked, -8 when it is
  a scheduler's pending iteration. Nothing is written on an error.
]]
local id = ARGV[2]
local key = BASE .. id
if redis.call("EXISTS", key) == 0 then return -1 end
if redis.call("EXISTS", key .. ":lock") == 1 then return -3 end
local rjk = redis.call("HGET", key, "rjk")
if rjk then
  local next_at = redis.call("ZSCORE", BASE .. "repeat", rjk)
  if next_at and id == "repeat:" .. rjk .. ":" .. next_at then return -8 end
end
local state = pending_state(id)
if not state then
  if redis.call("ZSCORE", K.completed, id) then
    state = "completed"
  elseif redis.call("ZSCORE", K.failed, id) then
    state = "failed"
  elseif redis.call("LPOS", K.active, id) then
    return -3
  else
    state = "unknown"
  end
end
if state ~= "unknown" then unlink(id, state) end
remove_job(id, state)
return 0
